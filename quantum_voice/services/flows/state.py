"""What the engine remembers between turns, and what it asks the world to do.

``FlowState`` is plain JSON (``to_json`` / ``from_json``): it is stored in ``Conversation.flow_state`` after every
turn, so a call survives a restart of the process (or moves to another voice sidecar) mid-sentence.
``Action`` is one instruction for whoever drives the engine: say, ask, capture, consent, answer, handoff, end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

STATE_VERSION = 1
ActionKind = Literal["say", "ask", "capture", "consent", "answer", "handoff", "callback", "end", "understood"]
SPOKEN_KINDS = ("say", "ask", "answer")


class GateProgress(BaseModel):
    """Where the Lead Gate stands: which field it asked for last, re-asks so far, and what the caller heard."""

    asking: str | None = None  # name | email | confirm_email | phone | consent
    readbacks: int = 0  # times an email was read back (at most twice)
    attempts: dict[str, int] = Field(default_factory=dict)
    skipped: list[str] = Field(default_factory=list)
    email_confirmed: bool = False
    consent_wording: str | None = None  # exactly what was read to the caller (the consent record keeps it)
    policy_version: str | None = None


class HandoffRequest(BaseModel):
    reason: str  # request | keyword | duration | low_confidence | flow
    detail: str | None = None
    priority: str = "normal"
    skill: str | None = None
    node_id: str
    # where the request is: waiting in the agents' queue, connected to a person, asking the caller when to call
    # back (no one could take it), or done
    phase: Literal["waiting", "connected", "callback", "done"] = "done"
    interrupted: str | None = None  # the node a trigger broke into: where the AI carries on afterwards
    agent: str | None = None  # the first name of the person who took the call
    since: datetime | None = None  # when the caller started holding
    last_hold_at: datetime | None = None  # the latest hold line
    wait_seconds: int = 45  # how long the caller holds before a callback is offered
    callback: str | None = None  # when the caller would like to hear back, as they said it


class FlowState(BaseModel):
    state_version: int = STATE_VERSION
    node_id: str | None = None
    status: Literal["active", "handed_off", "ended"] = "active"
    started_at: datetime
    turns: int = 0
    variables: dict[str, str] = Field(default_factory=dict)
    given: list[str] = Field(default_factory=list)  # variables the caller typed before the call: no read-back
    # how each variable was learnt: "typed" (on the call page) beats "confirmed" (read back, caller said yes),
    # which beats "heard" (once); a worse source never overwrites a better one
    sources: dict[str, str] = Field(default_factory=dict)
    consent: bool | None = None
    gate: GateProgress = Field(default_factory=GateProgress)
    clarify_attempts: int = 0
    open_question: str | None = None  # asked but not answered yet; the next RAG Answer node takes it up
    asked_more: bool = False  # the RAG Answer node just asked "anything else?"
    checking: str | None = None  # a question answered tentatively: the caller was asked whether that answers it
    alternative: str | None = None  # what to offer next for ``checking`` if the caller says no (offered once)
    low_confidence_streak: int = 0
    said: list[str] = Field(default_factory=list)  # keyword scoring rules the caller fired
    questions_asked: int = 0  # questions the caller asked (a scoring rule counts them)
    unanswered: list[str] = Field(default_factory=list)  # questions the documents did not answer (for follow-up)
    requests: list[str] = Field(default_factory=list)  # what the caller asked the team to do (a visit, a quote)
    handoff: HandoffRequest | None = None
    end_reason: str | None = None
    last_prompt: str = ""

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FlowState":
        return cls.model_validate(data)


class Action(BaseModel):
    kind: ActionKind
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class StepResult(BaseModel):
    state: FlowState
    actions: list[Action] = Field(default_factory=list)
    node_id: str | None = None
    node_type: str | None = None

    @property
    def reply(self) -> str:
        """What the agent says this turn, in order."""
        return " ".join(a.text for a in self.actions if a.kind in SPOKEN_KINDS and a.text).strip()

    @property
    def touches_personal_data(self) -> bool:
        """Did this turn capture a personal field or read one back? Such turns are redacted if consent is refused."""
        return any(a.data.get("personal") for a in self.actions)

    def of_kind(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]
