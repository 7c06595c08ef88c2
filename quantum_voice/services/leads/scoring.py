"""Rule-based lead scoring: each rule adds points once, the total falls into a band (hot, warm, cold).

A rule fires on what the caller said (``keywords``: "how much", "tour") or on a field the call captured
(``field``: a timeline, a budget). Each flow carries its own ``ScoringConfig``; ``DEFAULT_SCORING`` is where
new flows start. The band later decides notifications (hot: instant alert, warm: a task, cold: follow-up queue).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quantum_voice.models.leads import LeadBand

MAX_SCORE = 100


class ScoringRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=120)
    points: int = Field(ge=-100, le=100)
    keywords: list[str] = Field(default_factory=list)
    field: str | None = None

    @model_validator(mode="after")
    def _needs_a_trigger(self) -> "ScoringRule":
        self.keywords = [" ".join(k.lower().split()) for k in self.keywords if k.strip()]
        if not self.keywords and not self.field:
            raise ValueError(f"rule '{self.id}' needs keywords or a field to fire on")
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


def default_rules() -> list[ScoringRule]:
    return [
        ScoringRule(id="asked_pricing", label="Asked about pricing", points=10,
                    keywords=["price", "pricing", "cost", "how much", "hoa", "fee", "payment", "mortgage",
                              "financing", "quote", "deposit"]),
        ScoringRule(id="requested_tour", label="Requested a tour or visit", points=20,
                    keywords=["tour", "visit", "viewing", "showing", "open house", "come by", "come see",
                              "stop by", "see it in person", "walkthrough", "appointment", "site visit",
                              "consultation", "demo", "book a"]),
        ScoringRule(id="mentioned_timeline", label="Mentioned a timeline", points=15, field="timeline"),
        ScoringRule(id="stated_budget", label="Stated a budget", points=15, field="budget"),
        ScoringRule(id="named_interest", label="Said what they are interested in", points=10, field="interest"),
        ScoringRule(id="shared_phone", label="Shared a phone number", points=10, field="phone"),
        ScoringRule(id="asked_availability", label="Asked about availability", points=10,
                    keywords=["available", "availability", "in stock", "still for sale", "move in", "move-in",
                              "when can i"]),
    ]


class ScoringConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[ScoringRule] = Field(default_factory=default_rules)
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


def _mentions(text: str, keyword: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(keyword)}(?:s|es)?(?![\w-])", text) is not None


def rules_said(config: ScoringConfig, utterance: str) -> list[str]:
    """Ids of the keyword rules this utterance fires (the engine remembers them for the whole call)."""
    text = " ".join(utterance.lower().split())
    return [rule.id for rule in config.rules if any(_mentions(text, k) for k in rule.keywords)]


def score_lead(fields: Mapping[str, Any], said: Iterable[str] = (), config: ScoringConfig | None = None) -> LeadScore:
    """Score a lead from its captured ``fields`` and the ids of keyword rules the caller fired (``said``)."""
    config = config or ScoringConfig()
    fired = set(said)
    breakdown: list[dict[str, Any]] = []
    for rule in config.rules:
        if rule.id in fired or (rule.field and fields.get(rule.field)):
            breakdown.append({"rule": rule.id, "label": rule.label, "points": rule.points})
    score = max(0, min(MAX_SCORE, sum(item["points"] for item in breakdown)))
    return LeadScore(score=score, band=band_for(score, config.bands), breakdown=breakdown)
