"""Edge conditions: outcomes, tests on what the call learnt, and the default exit."""

import pytest

from quantum_voice.services.flows.conditions import ConditionError, holds, parse_condition


@pytest.mark.parametrize("text", ["", "  ", "always", "Default", "next"])
def test_default_exit(text):
    assert parse_condition(text).is_default


def test_outcome():
    assert parse_condition("Declined").outcome == "declined"


@pytest.mark.parametrize("text,facts,expected", [
    ("score >= 70", {"score": 70}, True),
    ("score >= 70", {"score": 69}, False),
    ("score < 40", {"score": 10}, True),
    ("score == 45", {"score": 45}, True),
    ("band == hot", {"band": "hot"}, True),
    ("band != hot", {"band": "warm"}, True),
    ("interest contains \"3-bedroom\"", {"interest": "the 3-Bedroom model"}, True),
    ("interest contains 'studio'", {"interest": "the 3-bedroom model"}, False),
    ("timeline == asap", {}, False),
    ("timeline != asap", {}, True),
    ("has phone", {"phone": "555"}, True),
    ("has phone", {}, False),
    ("no budget", {}, True),
])
def test_tests_on_facts(text, facts, expected):
    assert holds(parse_condition(text), facts) is expected


def test_errors_explain_the_grammar():
    with pytest.raises(ConditionError, match="leave it empty for the default exit"):
        parse_condition("when they are happy")
