"""Rule-based lead scoring: each rule adds points once, the total falls into a band (hot, warm, cold).

A rule fires on what the caller said (``keywords``: "how much", "tour"; matched by word forms, phrases and
negation as ``signals`` describes), on a field the call captured (``field``: a timeline, a budget), or on how many
questions the caller asked (``min_questions``). Each flow carries its own ``ScoringConfig`` (so weights are set per
campaign); ``default_rules()`` is where new flows start. Every fired rule is listed with its label and points in the
breakdown kept on the lead. The band later decides notifications (hot: instant alert, warm: a task, cold: follow-up
queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quantum_voice.models.leads import LeadBand
from quantum_voice.services.leads.signals import clauses, said_any

MAX_SCORE = 100


class ScoringRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=120)
    points: int = Field(ge=-100, le=100)
    keywords: list[Annotated[str, Field(max_length=80)]] = Field(default_factory=list, max_length=100)
    field: str | None = None
    min_questions: int | None = Field(default=None, ge=1, le=50)  # fires once the caller asked this many questions

    @model_validator(mode="after")
    def _needs_a_trigger(self) -> "ScoringRule":
        self.keywords = [" ".join(k.lower().split()) for k in self.keywords if k.strip()]
        if not self.keywords and not self.field and not self.min_questions:
            raise ValueError(f"rule '{self.id}' needs keywords, a field or a number of questions to fire on")
        return self


class ScoreBands(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hot: int = Field(default=70, ge=1, le=MAX_SCORE)  # score >= hot is hot
    warm: int = Field(default=40, ge=0, le=MAX_SCORE)  # warm <= score < hot is warm; below is cold

    @model_validator(mode="after")
    def _ordered(self) -> "ScoreBands":
        if self.warm >= self.hot:
            raise ValueError(f"the warm band ({self.warm}) must start below the hot band ({self.hot})")
        return self


PRICE_WORDS = ["how much", "cost", "price", "pricing", "rates", "your rate", "hourly rate", "what's the damage",
               "expensive", "charge", "fee", "hoa", "ballpark", "afford", "cheaper", "cheapest", "discount",
               "does that run", "does it run", "would that run", "would it run", "will that run", "run me",
               "set me back"]
PAYMENT_WORDS = ["payment", "pay monthly", "pay per month", "pay over time", "pay later", "finance", "financing",
                 "instalment", "installment", "loan", "credit", "mortgage", "deposit", "down payment"]
REQUEST_WORDS = ["come out", "come over", "come and look", "come take a look", "come and take a look",
                 "someone to come", "come by", "come see", "stop by", "book", "schedule", "appointment", "quote",
                 "estimate", "visit", "tour", "viewing", "showing", "open house", "see it in person", "walkthrough",
                 "consultation", "site survey", "assessment", "test drive", "demo", "sign up", "reserve",
                 "reservation", "come to me", "come to us", "come to her", "come to him", "come to them",
                 "come to the house", "come to my", "come round", "come around", "house call", "home visit"]
AVAILABILITY_WORDS = ["available", "availability", "in stock", "still for sale", "still on the market", "move in",
                      "when can i", "when can you", "when could you", "how soon", "earliest", "openings",
                      "any slots", "free slot"]
CONTACT_WORDS = ["call me back", "call us back", "give me a call", "get back to me", "get back to us", "send me",
                 "send us", "email me", "email us", "text me", "contact me", "contact us", "reach me", "follow up"]


def default_rules() -> list[ScoringRule]:
    """Where new flows start. A caller who asks the price and about paying monthly and wants a visit next month is
    hot (15 + 10 + 25 + 25 = 75); one who asks the price and says when is warm (40); one general question is cold."""
    return [
        ScoringRule(id="asked_pricing", label="Asked about pricing", points=15, keywords=PRICE_WORDS),
        ScoringRule(id="asked_payment", label="Asked about payment or financing", points=10,
                    keywords=PAYMENT_WORDS),
        ScoringRule(id="requested_tour", label="Requested a visit, quote or booking", points=25,
                    keywords=REQUEST_WORDS),
        ScoringRule(id="mentioned_timeline", label="Mentioned a timeline", points=25, field="timeline"),
        ScoringRule(id="stated_budget", label="Stated a budget", points=15, field="budget"),
        ScoringRule(id="named_interest", label="Said what they are interested in", points=10, field="interest"),
        ScoringRule(id="shared_phone", label="Shared a phone number", points=5, field="phone"),
        ScoringRule(id="asked_availability", label="Asked about availability", points=10, keywords=AVAILABILITY_WORDS),
        ScoringRule(id="asked_for_contact", label="Asked to be contacted", points=15, keywords=CONTACT_WORDS),
        ScoringRule(id="asked_questions", label="Asked several questions", points=10, min_questions=3),
    ]


class ScoringConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[ScoringRule] = Field(default_factory=default_rules, max_length=100)
    bands: ScoreBands = Field(default_factory=ScoreBands)

    @model_validator(mode="after")
    def _unique_ids(self) -> "ScoringConfig":
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"two scoring rules are called '{rule.id}'; give each its own id")
            seen.add(rule.id)
        return self


@dataclass(frozen=True)
class LeadScore:
    score: int
    band: str
    breakdown: list[dict[str, Any]] = field(default_factory=list)  # [{"rule", "label", "points"}]


def band_for(score: int, bands: ScoreBands | None = None) -> str:
    bands = bands or ScoreBands()
    if score >= bands.hot:
        return LeadBand.HOT.value
    if score >= bands.warm:
        return LeadBand.WARM.value
    return LeadBand.COLD.value


def rules_said(config: ScoringConfig, utterance: str) -> list[str]:
    """Ids of the keyword rules this utterance fires (the engine remembers them for the whole call)."""
    parsed = clauses(utterance)
    return [rule.id for rule in config.rules if rule.keywords and said_any(parsed, rule.keywords)]


def score_lead(fields: Mapping[str, Any], said: Iterable[str] = (), config: ScoringConfig | None = None,
               questions_asked: int = 0) -> LeadScore:
    """Score a lead from its captured ``fields``, the ids of keyword rules the caller fired (``said``) and the number
    of questions the caller asked during the call (``questions_asked``, for ``min_questions`` rules)."""
    config = config or ScoringConfig()
    fired = set(said)
    breakdown: list[dict[str, Any]] = []
    for rule in config.rules:
        if (rule.id in fired or (rule.field and fields.get(rule.field))
                or (rule.min_questions and questions_asked >= rule.min_questions)):
            breakdown.append({"rule": rule.id, "label": rule.label, "points": rule.points})
    score = max(0, min(MAX_SCORE, sum(item["points"] for item in breakdown)))
    return LeadScore(score=score, band=band_for(score, config.bands), breakdown=breakdown)
