"""Refit the grounded answer's confidence model: ``python -m bench.conversations.fit``.

For every question of the development businesses (never the holdout one), the extractive answerer chooses what
it would say and reports its ``Evidence``; the label is whether that would give the caller the fact (an
out-of-scope question is always a 0). A logistic regression over the evidence is fitted with plain numpy, and a
table shows, for each decision point, how many answers would be kept and how many wrong or invented ones would be
said. The bias printed places p = 0.5 at ``--operating-point``, so a node threshold of 0.5 means that point.
Paste the weights into ``quantum_voice/services/knowledge/answering.py`` (``CONFIDENCE_WEIGHTS`` / ``_BIAS``).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from bench.conversations.facts import missing_facts
from bench.conversations.material import MATERIAL_DIR, load_material
from bench.conversations.setup import build_business, temporary_database


def collect(split: str = "dev") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(evidence rows, labels, kinds: ok / wrong / out_of_scope) over the split's questions."""
    from quantum_voice.core.db import session_scope
    from quantum_voice.services.knowledge.answering import ExtractiveAnswerer
    from quantum_voice.services.knowledge.retrieval import retrieve

    rows, labels, kinds = [], [], []
    answerer = ExtractiveAnswerer()
    for business in load_material(MATERIAL_DIR, split=split):
        setup = build_business(business)
        with session_scope() as session:
            for question in business.questions.values():
                passages = retrieve(session, organization_id=setup.organization_id,
                                    knowledge_base_id=setup.knowledge_base_id, question=question.ask, top_k=8)
                choice = answerer.choose(question.ask, passages)
                if choice is None:
                    continue
                good = question.answerable and not missing_facts(choice.text, question.facts)
                rows.append(choice.evidence.vector())
                labels.append(1.0 if good else 0.0)
                kinds.append("ok" if good else ("wrong" if question.answerable else "out_of_scope"))
    return np.array(rows), np.array(labels), kinds


# The sign each piece of evidence must have: more similarity, coverage, a matching kind of answer, a clearer lead
# and the question's topic covered can only raise the confidence; topic words found nowhere can only lower it.
# A small development set has correlated features; without the signs a fit may learn "more coverage, less sure".
SIGNS = np.array([1, 1, 1, 1, -1, 1, 1])


def fit(x: np.ndarray, y: np.ndarray, *, steps: int = 8000, rate: float = 0.3, l2: float = 0.01,
        signs: np.ndarray = SIGNS):
    """Logistic regression on standardised features, each weight held to its sign; returns (weights, bias) on
    the raw features."""
    mean, scale = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / scale
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= rate * (z.T @ (p - y) / len(y) + l2 * w)
        w = np.where(w * signs < 0, 0.0, w)
        b -= rate * float((p - y).mean())
    return w / scale, b - float((w / scale) @ mean)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operating-point", type=float, default=0.81,
                        help="the fitted probability that a node threshold of 0.5 should stand for")
    args = parser.parse_args(argv)
    with temporary_database():
        x, y, kinds = collect("dev")
    weights, bias = fit(x, y)
    p = 1 / (1 + np.exp(-(x @ weights + bias)))
    kinds_arr = np.array(kinds)
    print(f"{len(y)} questions: {int((kinds_arr == 'ok').sum())} would be answered with the fact if said, "
          f"{int((kinds_arr == 'wrong').sum())} would be wrong, {int((kinds_arr == 'out_of_scope').sum())} out of scope")
    print(f"{'p >=':>6} {'kept':>6} {'wrong said':>11} {'invented':>9}")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        keep = p >= t
        print(f"{t:>6.1f} {int((keep & (kinds_arr == 'ok')).sum()):>6} {int((keep & (kinds_arr == 'wrong')).sum()):>11} "
              f"{int((keep & (kinds_arr == 'out_of_scope')).sum()):>9}")
    shift = math.log(args.operating_point / (1 - args.operating_point))
    print("CONFIDENCE_WEIGHTS =", np.round(weights, 3).tolist())
    print(f"CONFIDENCE_BIAS = {bias:.3f} - {shift:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
