"""Edge conditions: when the engine takes an edge.

A condition is one of:
- empty (or ``always`` / ``default`` / ``next``): the node's default exit;
- an outcome of the source node: ``consented`` / ``declined`` / ``incomplete`` (Lead Gate), ``answered`` /
  ``low_confidence`` / ``done`` (RAG Answer), ``resolved`` / ``unresolved`` (Clarify), ``returned`` (Dispatch,
  when a person hands the call back), ``goodbye`` (any node that listens);
- a test on what the call has learnt: ``score >= 70``, ``band == hot``, ``interest contains "3-bedroom"``,
  ``has phone``, ``no budget``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from quantum_voice.services.flows.schema import NodeType

DEFAULT_WORDS = {"", "always", "default", "next", "else"}
OUTCOMES: dict[NodeType, set[str]] = {
    NodeType.START: set(),
    NodeType.LEAD_GATE: {"consented", "declined", "incomplete", "goodbye"},
    NodeType.RAG_ANSWER: {"answered", "low_confidence", "done", "goodbye"},
    NodeType.CLARIFY: {"resolved", "unresolved", "goodbye"},
    NodeType.DISPATCH: {"returned"},
    NodeType.END: set(),
}
ALL_OUTCOMES = set().union(*OUTCOMES.values())
OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "contains")
_COMPARISON = re.compile(r"^(?P<subject>[a-z][a-z0-9_]*)\s*(?P<op>==|!=|>=|<=|>|<|\bcontains\b)\s*(?P<value>.+)$")
_PRESENCE = re.compile(r"^(?P<word>has|no)\s+(?P<subject>[a-z][a-z0-9_]*)$")


class ConditionError(ValueError):
    """A condition that cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class Condition:
    kind: str  # default | outcome | compare | has | missing
    outcome: str | None = None
    subject: str | None = None
    op: str | None = None
    value: Any = None

    @property
    def is_default(self) -> bool:
        return self.kind == "default"


def parse_condition(text: str | None) -> Condition:
    raw = " ".join((text or "").split())
    lowered = raw.lower()
    if lowered in DEFAULT_WORDS:
        return Condition("default")
    if lowered in ALL_OUTCOMES:
        return Condition("outcome", outcome=lowered)
    presence = _PRESENCE.match(lowered)
    if presence:
        return Condition("has" if presence["word"] == "has" else "missing", subject=presence["subject"])
    comparison = _COMPARISON.match(raw.strip())
    if comparison:
        return _comparison(comparison["subject"].lower(), comparison["op"], comparison["value"].strip())
    raise ConditionError(
        f"'{raw}' is not a condition the engine understands. Use an outcome ({', '.join(sorted(ALL_OUTCOMES))}), "
        "a test like 'score >= 70', 'band == hot' or 'interest contains \"3-bedroom\"', 'has phone', or leave it "
        "empty for the default exit.")


def _comparison(subject: str, op: str, value: str) -> Condition:
    value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value
    if not value:
        raise ConditionError(f"'{subject} {op}' needs a value to compare with.")
    if op in (">=", "<=", ">", "<") and subject != "score":
        raise ConditionError(f"'{op}' compares numbers; only 'score' is a number (got '{subject}').")
    if subject == "score":
        if op == "contains":
            raise ConditionError("'score contains ...' makes no sense: compare the score, like 'score >= 70'.")
        try:
            return Condition("compare", subject=subject, op=op, value=float(value))
        except ValueError:
            raise ConditionError(f"'score {op} {value}': the score is compared with a number, like 70.") from None
    if subject == "band" and value.lower() not in ("hot", "warm", "cold"):
        raise ConditionError(f"'band {op} {value}': a band is hot, warm or cold.")
    return Condition("compare", subject=subject, op=op, value=value)


def holds(condition: Condition, facts: Mapping[str, Any]) -> bool:
    """Does a test condition hold for ``facts`` (variables plus ``score`` and ``band``)?"""
    if condition.kind == "has":
        return bool(facts.get(condition.subject))
    if condition.kind == "missing":
        return not facts.get(condition.subject)
    if condition.kind != "compare":
        return False
    actual = facts.get(condition.subject)
    if actual is None:
        return condition.op == "!="
    if condition.subject == "score":
        return _compare_numbers(float(actual), condition.op, float(condition.value))
    actual_text, expected = str(actual).lower(), str(condition.value).lower()
    if condition.op == "contains":
        return expected in actual_text
    return (actual_text == expected) == (condition.op == "==")


def _compare_numbers(actual: float, op: str, expected: float) -> bool:
    return {"==": actual == expected, "!=": actual != expected, ">=": actual >= expected,
            "<=": actual <= expected, ">": actual > expected, "<": actual < expected}.get(op, False)
