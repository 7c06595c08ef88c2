"""The printed report (headline table with targets, one row per business, then every failure with its reason and
evidence) and the JSON written with ``--json``. Failures are printed in full because the numbers alone do not
say what to fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.conversations.evaluate import TARGETS, Results


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def _pct(n: int, total: int) -> str:
    return f"{n}/{total} ({n / total:.0%})" if total else "0/0"


def headline_rows(results: Results) -> list[tuple[str, str, str]]:
    step_ms = [q.step_ms for q in results.questions]
    over = results.turns_over_minimum
    not_captured = len(results.not_captured)
    return [
        ("personas passed", _pct(results.personas_passed, len(results.personas)), f"≥ {TARGETS['personas']:.0%}"),
        ("answerable questions answered with the fact", _pct(results.answered, len(results.answerable)),
         f"≥ {TARGETS['answered']:.0%}"),
        ("  of which offered as the closest passage, then checked",
         f"{sum(q.passed and q.tentative for q in results.answerable)}", ""),
        ("invented answers to out-of-scope questions",
         f"{len(results.invented)} of {len(results.questions) - len(results.answerable)}", f"= {TARGETS['invented']}"),
        ("out-of-scope questions offered the closest passage, then checked",
         f"{sum(q.tentative for q in results.questions if not q.answerable)}", ""),
        ("answers holding a fragment (no main verb, by the parser)",
         f"{len(results.fragments)} of {len(results.questions)}", ""),
        ("turns to capture a lead over the minimum (mean)",
         ("n/a" if over is None else f"{over:.2f}") + (f" ({not_captured} never captured)" if not_captured else ""),
         f"≤ {TARGETS['turns_over_minimum']}"),
        ("flow step p50 / p95", f"{percentile(step_ms, 50):.0f} / {percentile(step_ms, 95):.0f} ms", ""),
    ]


def print_report(results: Results, *, quiet: bool = False) -> None:
    rows = headline_rows(results)
    width = max(len(r[0]) for r in rows)
    n_questions = len(results.questions)
    print(f"\nConversation evaluation — {len(results.businesses)} businesses, {n_questions} questions, "
          f"{len(results.personas)} personas, {results.seconds:.0f} s on {os.cpu_count()} CPU cores")
    print(f"{'metric'.ljust(width)}  {'value':>26}  target")
    print("─" * (width + 40))
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:>26}  {target}")
    if results.search_timeouts:
        print(f"(knowledge search ran over its time limit {results.search_timeouts} times: those answers came from "
              "Q&A pairs only)")
    _per_business(results)
    missed = results.missed_targets()
    print("\ntargets: " + ("all met" if not missed else "MISSED — " + "; ".join(missed)))
    if not quiet:
        print_failures(results)


def _per_business(results: Results) -> None:
    print(f"\n{'business':<22} {'split':<8} {'answered':>12} {'invented':>9} {'personas':>12} {'over min':>9}")
    for business in results.businesses:
        qs = [q for q in results.questions if q.business == business.key]
        answerable = [q for q in qs if q.answerable]
        personas = [p for p in results.personas if p.business == business.key]
        over = [p.turns_over_minimum for p in personas if p.turns_over_minimum is not None]
        print(f"{business.key:<22} {business.split:<8} {_pct(sum(q.passed for q in answerable), len(answerable)):>12} "
              f"{sum(not q.passed for q in qs if not q.answerable):>9} "
              f"{_pct(sum(p.passed for p in personas), len(personas)):>12} "
              f"{(f'{sum(over) / len(over):.2f}' if over else 'n/a'):>9}")


def failure_lines(results: Results) -> list[str]:
    """Every failure, with the evidence: for the report and the test's assertion message."""
    lines = []
    for q in results.questions:
        if q.passed:
            continue
        if q.answerable:
            lines.append(f"[question {q.business}/{q.id}] {q.ask!r}: expected {q.missing} "
                         f"(of {q.expected}); agent said {q.reply!r}")
        else:
            lines.append(f"[invented {q.business}/{q.id}] {q.ask!r} is not in the document; agent answered "
                         f"{q.reply!r}")
    for p in results.personas:
        if p.passed:
            continue
        reasons = "\n".join(f"    ✗ {c.name}: {c.reason}" for c in p.failures)
        lines.append(f"[persona {p.business}/{p.persona}] conversation {p.conversation_id}, lead turns "
                     f"{p.capture_turns} (minimum {p.minimum_turns})\n{reasons}\n{p.transcript}")
    return lines


def print_failures(results: Results) -> None:
    lines = failure_lines(results)
    if lines:
        print(f"\nfailures ({len(lines)}):")
        for line in lines:
            print(line)
    fragments = results.fragments
    if fragments:
        print(f"\nanswers holding a fragment ({len(fragments)}):")
        for q, sentence in fragments:
            print(f"[fragment {q.business}/{q.id}] {sentence!r} in {q.reply!r}")


def write_json(results: Results, path: Path | str) -> None:
    data = {
        "summary": {name: value for name, value, _ in headline_rows(results)},
        "numbers": {"answered_rate": results.answered_rate, "invented": len(results.invented),
                    "personas_rate": results.personas_rate, "turns_over_minimum": results.turns_over_minimum,
                    "step_ms_p50": percentile([q.step_ms for q in results.questions], 50),
                    "step_ms_p95": percentile([q.step_ms for q in results.questions], 95),
                    "search_timeouts": results.search_timeouts, "seconds": round(results.seconds, 1)},
        "targets": TARGETS, "missed": results.missed_targets(),
        "questions": [q.to_json() for q in results.questions],
        "personas": [p.to_json() for p in results.personas],
    }
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False))
