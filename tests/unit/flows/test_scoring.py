"""Lead scoring: default rules on realistic caller sentences, the issue's caller, bands at the edges, custom and
old stored rules, the breakdown kept on the lead, negation, and the question-count rule."""

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

PRICE, PAYMENT, REQUEST = "asked_pricing", "asked_payment", "requested_tour"
AVAILABILITY, CONTACT = "asked_availability", "asked_for_contact"

# (what the caller said, the default keyword rules it fires)
CALLER_SENTENCES = [
    # price
    ("How much would it cost to redo the kitchen?", {PRICE}),
    ("What's the damage for a full install?", {PRICE}),
    ("whats the damage", {PRICE}),  # speech-to-text without the apostrophe
    ("Are you guys expensive?", {PRICE}),
    ("What do you charge per hour?", {PRICE}),
    ("What are your rates?", {PRICE}),
    ("Is the price negotiable?", {PRICE}),
    ("What are the HOA fees?", {PRICE}),
    ("How are these priced?", {PRICE}),  # trailing e: price -> priced
    ("Doesn't that cost extra?", {PRICE}),  # a negative question still asks
    ("I'm not sure how much it costs.", {PRICE}),  # "not sure" is no negation
    # payment and financing
    ("Do you offer financing?", {PAYMENT}),
    ("Can I pay monthly?", {PAYMENT}),
    ("Do you do instalments or is it all up front?", {PAYMENT}),
    ("Do you take credit cards?", {PAYMENT}),
    ("Could I get a loan through you?", {PAYMENT}),
    ("Is it financed through a bank?", {PAYMENT}),
    # a visit, a quote, a booking
    ("Can someone come out and take a look?", {REQUEST}),
    ("Could you come over on Saturday?", {REQUEST}),
    ("Could someone come right out?", {REQUEST}),  # one filler word inside a phrase
    ("I'd like someone to come and look at the roof.", {REQUEST}),
    ("Can I book a viewing for Thursday?", {REQUEST}),
    ("I'm looking to schedule an appointment.", {REQUEST}),
    ("I'm thinking of scheduling a consultation.", {REQUEST}),  # schedule -> scheduling
    ("Can you give me a quote?", {REQUEST}),
    ("Do you do quotes?", {REQUEST}),
    ("We got quoted way too much elsewhere.", {REQUEST}),
    ("I'd like an estimate for the fence.", {REQUEST}),
    ("We're visiting the area next week and want to see the house.", {REQUEST}),
    ("Do you do tours on weekends?", {REQUEST}),
    ("We'd like to arrange a site survey.", {REQUEST}),
    ("Can I take it for a test drive?", {REQUEST}),
    ("I want to sign up for the premium plan.", {REQUEST}),
    ("Can I reserve a table for four?", {REQUEST}),
    ("Wouldn't mind a quote if you have time.", {REQUEST}),
    ("Can't someone come out tomorrow?", {REQUEST}),
    ("I don't need a quote but I'd like a visit.", {REQUEST}),  # the visit is in its own clause
    ("My gran can't drive, could somebody come to her?", {REQUEST}),
    ("Do you do house calls?", {REQUEST}),
    ("And what would that run me?", {PRICE}),
    ("What does it run for a half day?", {PRICE}),
    # availability
    ("Is it still available?", {AVAILABILITY}),
    ("When can you start?", {AVAILABILITY}),
    ("Can we move-in before June?", {AVAILABILITY}),
    # contact and follow-up
    ("Please call me back this afternoon.", {CONTACT}),
    ("Can you get back to me by Friday?", {CONTACT}),
    ("Just email me the details.", {CONTACT}),
    ("Can you e-mail me the contract?", {CONTACT}),
    ("Send me the brochure please.", {CONTACT}),
    ("Someone should follow-up with me next week.", {CONTACT}),
    ("Why don't you send me a quote?", {REQUEST, CONTACT}),
    # several at once
    ("How much is it, do you do payment plans, and can I book a visit?", {PRICE, PAYMENT, REQUEST}),
    ("Is it still available? We'd love a tour.", {AVAILABILITY, REQUEST}),
    # nothing, or negated
    ("I don't need a quote, I just have a question.", set()),
    ("No visit needed, I'm only asking about the warranty.", set()),
    ("I'm not looking to book anything yet.", set()),
    ("We won't need a site survey.", set()),
    ("There's no need for an appointment.", set()),
    ("Don't call me back, I'll call you.", set()),
    ("Hello, who am I speaking with?", set()),
    ("What are your opening hours?", set()),
    ("Do you have parking?", set()),
    ("I'm not interested, thanks.", set()),
    ("What time do you close?", set()),
    ("The bookcase is lovely.", set()),  # words, not characters: "book" is not in "bookcase"
]


@pytest.mark.parametrize("sentence,expected", CALLER_SENTENCES, ids=[s for s, _ in CALLER_SENTENCES])
def test_what_callers_say_fires_the_right_rules(sentence, expected):
    assert set(rules_said(ScoringConfig(), sentence)) == expected


def test_default_rules_and_weights():
    points = {rule.id: rule.points for rule in ScoringConfig().rules}
    assert points == {PRICE: 15, PAYMENT: 10, REQUEST: 25, "mentioned_timeline": 25, "stated_budget": 15,
                      "named_interest": 10, "shared_phone": 5, AVAILABILITY: 10, CONTACT: 15, "asked_questions": 10}


def test_the_issues_caller_is_hot():
    """Asked about price and payment options and wanted a visit next month: scored 25 (cold) before."""
    config = ScoringConfig()
    said: list[str] = []
    for turn in ("Hi, how much does the loft conversion cost?", "And what payment options do you have?",
                 "Great. Could someone come out for a visit next month?"):
        said += [rule for rule in rules_said(config, turn) if rule not in said]
    result = score_lead({"timeline": "next month"}, said, config)
    assert said == [PRICE, PAYMENT, REQUEST]
    assert result.score == 75 and result.band == "hot"
    assert score_lead({"timeline": "next month"}, said, config, questions_asked=3).score == 85


def test_one_general_question_is_cold_and_price_with_a_timeline_is_warm():
    config = ScoringConfig()
    assert rules_said(config, "Do you have parking?") == []
    assert score_lead({}, [], config, questions_asked=1).band == "cold"
    assert score_lead({"interest": "the loft"}, [], config, questions_asked=1).band == "cold"  # 10
    assert score_lead({"timeline": "soon"}, [PRICE], config).score == 40
    assert score_lead({"timeline": "soon"}, [PRICE], config).band == "warm"


@pytest.mark.parametrize("score,band", [(100, "hot"), (70, "hot"), (69, "warm"), (40, "warm"), (39, "cold"),
                                        (0, "cold")])
def test_bands(score, band):
    assert band_for(score) == band


def test_scores_at_the_band_edges():
    config = ScoringConfig()
    assert score_lead({"timeline": "x", "budget": "y"}, [REQUEST, CONTACT], config).score == 80
    # 25 + 15 + 25 + 5 = 70: hot at the very edge; without the phone, 65: warm
    assert score_lead({"timeline": "x", "budget": "y", "phone": "5551234567"}, [REQUEST], config).band == "hot"
    assert score_lead({"timeline": "x", "budget": "y"}, [REQUEST], config).band == "warm"
    # 15 + 25 = 40: warm at the edge; 15 + 10 + 10 + 5 = 40 too; 15 + 10 + 10 = 35: cold
    assert score_lead({"budget": "y"}, [REQUEST], config).band == "warm"
    assert score_lead({"phone": "1"}, [PRICE, PAYMENT], config, questions_asked=3).band == "warm"
    assert score_lead({}, [PRICE, PAYMENT], config, questions_asked=3).band == "cold"


def test_questions_asked_fires_at_the_threshold_only():
    config = ScoringConfig()
    assert [i["rule"] for i in score_lead({}, [], config, questions_asked=2).breakdown] == []
    assert [i["rule"] for i in score_lead({}, [], config, questions_asked=3).breakdown] == ["asked_questions"]
    assert score_lead({}, [], config, questions_asked=12).score == 10  # once, however many
    assert score_lead({}, [], config).score == 0  # callers that pass no count: the rule never fires


def test_breakdown_lists_each_fired_rule_once_with_label_and_points():
    fields = {"timeline": "next month", "budget": "$450k", "phone": "5551234567", "email": ""}
    result = score_lead(fields, [PRICE, REQUEST, PRICE, "no_such_rule"], questions_asked=4)
    assert result.breakdown == [
        {"rule": PRICE, "label": "Asked about pricing", "points": 15},
        {"rule": REQUEST, "label": "Requested a visit, quote or booking", "points": 25},
        {"rule": "mentioned_timeline", "label": "Mentioned a timeline", "points": 25},
        {"rule": "stated_budget", "label": "Stated a budget", "points": 15},
        {"rule": "shared_phone", "label": "Shared a phone number", "points": 5},
        {"rule": "asked_questions", "label": "Asked several questions", "points": 10},
    ]
    assert result.score == 95 and result.band == "hot"


def test_score_is_clamped_and_negative_rules_work():
    config = ScoringConfig(rules=[ScoringRule(id="browsing", label="Just browsing", points=-30,
                                              keywords=["just browsing"]),
                                  ScoringRule(id="big", label="Big", points=100, field="budget")])
    assert rules_said(config, "We're just browsing really") == ["browsing"]
    assert rules_said(config, "We're not just browsing, we want to buy") == []  # negated
    assert score_lead({}, ["browsing"], config).score == 0
    assert score_lead({"budget": "2m"}, [], config).score == 100


def test_custom_bands():
    config = ScoringConfig(bands=ScoreBands(hot=50, warm=20))
    assert score_lead({"budget": "x", "timeline": "y"}, [], config).band == "warm"  # 40
    assert score_lead({"budget": "x", "timeline": "y", "interest": "z"}, [], config).band == "hot"  # 50


# a flow saved before this change: its rules, ids, weights and keywords exactly as they were stored
OLD_STORED_SCORING = {
    "rules": [
        {"id": "asked_pricing", "label": "Asked about pricing", "points": 10,
         "keywords": ["price", "pricing", "cost", "how much", "hoa", "fee", "payment", "mortgage", "financing",
                      "quote", "deposit"], "field": None},
        {"id": "requested_tour", "label": "Requested a tour or visit", "points": 20,
         "keywords": ["tour", "visit", "viewing", "showing", "open house", "come by", "come see", "stop by",
                      "see it in person", "walkthrough", "appointment", "site visit", "consultation", "demo",
                      "book a"], "field": None},
        {"id": "mentioned_timeline", "label": "Mentioned a timeline", "points": 15, "keywords": [],
         "field": "timeline"},
        {"id": "stated_budget", "label": "Stated a budget", "points": 15, "keywords": [], "field": "budget"},
        {"id": "named_interest", "label": "Said what they are interested in", "points": 10, "keywords": [],
         "field": "interest"},
        {"id": "shared_phone", "label": "Shared a phone number", "points": 10, "keywords": [], "field": "phone"},
        {"id": "asked_availability", "label": "Asked about availability", "points": 10,
         "keywords": ["available", "availability", "in stock", "still for sale", "move in", "move-in",
                      "when can i"], "field": None},
    ],
    "bands": {"hot": 70, "warm": 40},
}


def test_old_stored_configs_still_validate_and_score_with_their_own_weights():
    config = ScoringConfig.model_validate(OLD_STORED_SCORING)
    assert [rule.min_questions for rule in config.rules] == [None] * 7
    assert rules_said(config, "How much is the HOA fee?") == [PRICE]
    assert set(rules_said(config, "Can we book a tour? Is it still available?")) == {REQUEST, AVAILABILITY}
    assert rules_said(config, "what are the fees") == [PRICE]
    assert rules_said(config, "We were hoping for a showing, maybe stopping by Friday") == [REQUEST]  # word forms
    assert rules_said(config, "Is the move-in date flexible?") == [AVAILABILITY]
    assert rules_said(config, "hello there") == []
    result = score_lead({"timeline": "soon", "budget": "1m"}, [REQUEST], config, questions_asked=9)
    assert result.score == 50 and result.band == "warm"  # old weights, and no question rule in an old config
    assert ScoringConfig.model_validate(config.model_dump()) == config  # round-trips as stored


def test_a_question_rule_can_be_configured_per_campaign():
    config = ScoringConfig.model_validate({"rules": [
        {"id": "curious", "label": "Asked lots of questions", "points": 40, "min_questions": 5},
        {"id": "pricing", "label": "Pricing", "points": 30, "keywords": ["how much"]}]})
    assert rules_said(config, "how much? how much? how much? how much? how much?") == ["pricing"]
    assert score_lead({}, ["pricing"], config, questions_asked=5).score == 70


def test_bad_scoring_settings_are_refused_with_a_reason():
    with pytest.raises(ValidationError, match="must start below the hot band"):
        ScoreBands(hot=40, warm=40)
    with pytest.raises(ValidationError, match="needs keywords, a field or a number of questions"):
        ScoringRule(id="nothing", label="Nothing", points=5)
    with pytest.raises(ValidationError):
        ScoringRule(id="zero", label="Zero", points=5, min_questions=0)
    with pytest.raises(ValidationError, match="two scoring rules are called"):
        ScoringConfig(rules=[ScoringRule(id="a", label="A", points=1, field="x"),
                             ScoringRule(id="a", label="A", points=1, field="y")])
