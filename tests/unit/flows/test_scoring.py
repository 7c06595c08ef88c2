"""Lead scoring: default rules, bands at the edges, custom rules, keywords heard during a call."""

import pytest
from pydantic import ValidationError

from quantum_voice.services.leads.scoring import (
    ScoreBands,
    ScoringConfig,
    ScoringRule,
    band_for,
    rules_said,
    score_lead,
)


def test_default_rules_from_the_product():
    config = ScoringConfig()
    points = {rule.id: rule.points for rule in config.rules}
    assert points["asked_pricing"] == 10 and points["requested_tour"] == 20 and points["mentioned_timeline"] == 15


@pytest.mark.parametrize("score,band", [(100, "hot"), (70, "hot"), (69, "warm"), (40, "warm"), (39, "cold"),
                                        (0, "cold")])
def test_bands(score, band):
    assert band_for(score) == band


def test_keywords_heard_in_a_call():
    config = ScoringConfig()
    assert rules_said(config, "How much is the HOA fee?") == ["asked_pricing"]
    assert set(rules_said(config, "Can we book a tour? Is it still available?")) == {"requested_tour",
                                                                                    "asked_availability"}
    assert rules_said(config, "hello there") == []
    assert rules_said(config, "what are the fees") == ["asked_pricing"]  # plurals count


def test_score_adds_each_rule_once_and_explains_itself():
    fields = {"timeline": "next month", "budget": "$450k", "phone": "5551234567"}
    result = score_lead(fields, ["asked_pricing", "requested_tour", "asked_pricing"])
    assert result.score == 10 + 20 + 15 + 15 + 10 and result.band == "hot"
    assert [item["rule"] for item in result.breakdown] == ["asked_pricing", "requested_tour", "mentioned_timeline",
                                                           "stated_budget", "shared_phone"]


def test_pricing_and_timeline_is_cold_tour_and_timeline_and_budget_is_warm():
    assert score_lead({"timeline": "soon"}, ["asked_pricing"]).band == "cold"  # 25
    assert score_lead({"timeline": "soon", "budget": "1m"}, ["requested_tour"]).band == "warm"  # 50


def test_score_is_clamped_and_negative_rules_work():
    config = ScoringConfig(rules=[ScoringRule(id="browsing", label="Just browsing", points=-30,
                                              keywords=["just browsing"]),
                                  ScoringRule(id="big", label="Big", points=100, field="budget")])
    assert score_lead({}, ["browsing"], config).score == 0
    assert score_lead({"budget": "2m"}, [], config).score == 100


def test_custom_bands():
    config = ScoringConfig(bands=ScoreBands(hot=50, warm=20))
    assert score_lead({"budget": "x", "timeline": "y", "interest": "z"}, [], config).band == "warm"  # 40
    assert score_lead({"budget": "x", "timeline": "y", "interest": "z", "phone": "1"}, [], config).band == "hot"


def test_bad_scoring_settings_are_refused_with_a_reason():
    with pytest.raises(ValidationError, match="must start below the hot band"):
        ScoreBands(hot=40, warm=40)
    with pytest.raises(ValidationError, match="needs keywords or a field"):
        ScoringRule(id="nothing", label="Nothing", points=5)
    with pytest.raises(ValidationError, match="two scoring rules are called"):
        ScoringConfig(rules=[ScoringRule(id="a", label="A", points=1, field="x"),
                             ScoringRule(id="a", label="A", points=1, field="y")])
