"""Conversation quality: the evaluation of bench/conversations (every business of its material: questions at the
RAG Answer node, reactive simulated callers through the real call runner) held to CI's floors.

The floors (``CI_FLOORS``) are the levels measured when they were last raised, less a small margin: a change that
makes the agent answer, understand or capture worse fails here. The issue's targets (``TARGETS``: 95 % answered,
none invented, 95 % of callers served) are not met yet; ``python -m bench.conversations`` reports against them.

It runs once (a minute or two, on SQLite only: the call runner's database code is tested on both databases
elsewhere) and each target is its own test, so a report shows every target missed, each with its failures.
"""

from __future__ import annotations

import pytest

from bench.conversations.evaluate import CI_FLOORS, Results, evaluate
from bench.conversations.report import failure_lines, headline_rows

sqlite_only = pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
_RESULTS: list[Results] = []


@pytest.fixture
def results(engine) -> Results:
    """The evaluation, run on the first test's fresh SQLite database and shared by the others."""
    if not _RESULTS:
        _RESULTS.append(evaluate())
    return _RESULTS[0]


def _table(results: Results) -> str:
    return "\n".join(f"  {name}: {value} (target {target})" for name, value, target in headline_rows(results))


def _failures(results: Results, prefix: str) -> str:
    return "\n".join(line for line in failure_lines(results) if line.startswith(prefix))


@sqlite_only
def test_the_material_has_businesses_questions_and_personas(results):
    businesses, questions, personas = len(results.businesses), len(results.answerable), len(results.personas)
    assert businesses and questions and personas


@sqlite_only
def test_answerable_questions_are_answered_with_the_documents_facts(results):
    rate, target = results.answered_rate, CI_FLOORS["answered"]  # plain names: no Results repr in the message
    assert rate >= target, (
        f"{results.answered}/{len(results.answerable)} answered with the fact\n{_table(results)}\n"
        f"{_failures(results, '[question')}")


@sqlite_only
def test_no_answer_is_invented_for_out_of_scope_questions(results):
    invented, target = len(results.invented), CI_FLOORS["invented"]
    assert invented <= target, (
        f"{len(results.invented)} invented answers\n{_table(results)}\n{_failures(results, '[invented')}")


@sqlite_only
def test_simulated_callers_get_what_they_called_for(results):
    rate, target = results.personas_rate, CI_FLOORS["personas"]
    assert rate >= target, (
        f"{results.personas_passed}/{len(results.personas)} personas passed\n{_table(results)}\n"
        f"{_failures(results, '[persona')}")


@sqlite_only
def test_leads_are_captured_in_few_turns(results):
    over = results.turns_over_minimum
    slow = [f"{p.business}/{p.persona}: {p.capture_turns} lead turns, minimum {p.minimum_turns}\n{p.transcript}"
            for p in results.personas if (p.turns_over_minimum or 0) > 0]
    never = [f"{p.business}/{p.persona}: never captured\n{p.transcript}" for p in results.not_captured]
    target = CI_FLOORS["turns_over_minimum"]
    assert over is not None and over <= target and not never, (
        f"mean turns over the minimum {over}\n{_table(results)}\n" + "\n".join(never + slow))
