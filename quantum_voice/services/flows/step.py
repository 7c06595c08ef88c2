"""The working space of one engine step: a private copy of the state, the actions so far, and moving between
nodes along edges. Node behaviour lives in ``nodes/``; the order of a step lives in ``engine.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from quantum_voice.services.flows import nodes
from quantum_voice.services.flows.conditions import holds, parse_condition
from quantum_voice.services.flows.knowledge import KnowledgeSearch
from quantum_voice.services.flows.schema import FlowDefinition, Edge, NodeType
from quantum_voice.services.flows.semantic import IntentMatcher, local_matcher
from quantum_voice.services.flows.understanding import Understander
from quantum_voice.services.flows.state import Action, FlowState, StepResult
from quantum_voice.services.leads.scoring import score_lead

MAX_HOPS = 25  # node changes in one step; a well-formed flow needs a handful


@dataclass(frozen=True)
class CallContext:
    """What the engine needs from outside for one step. Nothing in it comes from the caller."""

    organization_id: int
    now: datetime
    knowledge: KnowledgeSearch | None = None
    consent_wording: str = ""  # the campaign's privacy wording, when the Lead Gate has none of its own
    policy_version: str = "1"
    stt_confidence: float | None = None  # speech-to-text's confidence in this utterance, when known
    # The embedding stage of intent detection (the local model by default; it loads on first use and falls back
    # to the rules alone if it cannot). ``None``: the rules only.
    intents: IntentMatcher | None = field(default_factory=local_matcher)
    # An optional LLM that reads each turn (``understanding.py``); its reading is advice the rules check.
    understander: Understander | None = None
    # Whether a person could take this call live now: ``someone_free(skill)`` asks the agents' presence (the call
    # runner gives it; only asked when a Dispatch node is entered); ``agents_available`` says yes outright (tests).
    # No one: a Dispatch node records the request and the AI carries on, instead of holding the caller for no one.
    agents_available: bool = False
    someone_free: Callable[[str | None], bool] | None = None
    handoff_wait_seconds: int = 45  # the campaign's wait for a person before a callback is offered

    def can_hold(self, skill: str | None) -> bool:
        return self.agents_available or (self.someone_free is not None and self.someone_free(skill))


class Step:
    """One engine step in the making (a caller turn, the start, a tick or a hang-up): the nodes and edges call its
    ``say``/``ask``/``enter``/``follow``, and ``result()`` is what the step leaves."""

    def __init__(self, flow: FlowDefinition, state: FlowState, ctx: CallContext):
        self.flow, self.ctx = flow, ctx
        self.state = state.model_copy(deep=True)  # the caller's state object is never changed
        self.actions: list[Action] = []
        self.captured: list[str] = []  # variables set or changed this step
        self.handoff_reason: tuple[str, str | None] = ("flow", None)
        self.end_reason = "completed"
        self._hops = 0
        self.entered: list[str] = []  # nodes entered this step, in order
        self.interrupted: str | None = None  # the node a hand-off trigger broke into (triggers.py), this step
        self.low_confidence_counted = False  # a turn adds at most one to the low-confidence streak

    @property
    def node(self) -> Any:
        return self.flow.node(self.state.node_id) if self.state.node_id else None

    # ---------------------------------------------------------------- speaking

    def act(self, kind: str, text: str = "", **data: Any) -> None:
        self.actions.append(Action(kind=kind, text=text, data=data))

    def say(self, text: str, **data: Any) -> None:
        if text.strip():
            self.act("say", text.strip(), **data)

    def ask(self, text: str, **data: Any) -> None:
        self.act("ask", text.strip(), **data)
        self.state.last_prompt = text.strip()

    def ask_again(self) -> None:
        self.ask(self.state.last_prompt or "How can I help you?")

    # ---------------------------------------------------------------- moving

    def enter(self, node_id: str) -> None:
        self._hops += 1
        if self._hops > MAX_HOPS:
            raise RuntimeError(f"flow loops without waiting for the caller (at node '{node_id}')")
        self.state.node_id = node_id
        self.entered.append(node_id)
        node = self.flow.node(node_id)
        nodes.handler_for(node.type).enter(self, node)

    def follow(self, outcome: str, *, leaving: bool = True) -> bool:
        """Take the edge for ``outcome``. ``leaving``: fall back to test conditions and the default exit.
        Returns whether an edge was taken."""
        edge = self._choose_edge(outcome, leaving)
        if edge is None:
            return False
        self.enter(edge.target)
        return True

    def _choose_edge(self, outcome: str, leaving: bool) -> Edge | None:
        edges = [e for e in self.flow.edges_from(self.state.node_id or "") if self.flow.has_node(e.target)]
        parsed = [(edge, parse_condition(edge.condition)) for edge in edges]
        for edge, condition in parsed:
            if condition.kind == "outcome" and condition.outcome == outcome:
                return edge
        if not leaving:
            return None
        facts = self.facts()
        for edge, condition in parsed:
            if condition.kind in ("compare", "has", "missing") and holds(condition, facts):
                return edge
        return next((edge for edge, condition in parsed if condition.is_default), None)

    def leave(self, outcome: str) -> None:
        """Leave the current node by ``outcome``; with no edge for it, finish the call politely."""
        if not self.follow(outcome):
            self.go_to_end(outcome)

    def count_low_confidence(self) -> None:
        if not self.low_confidence_counted:
            self.state.low_confidence_streak += 1
            self.low_confidence_counted = True

    def go_to_end(self, reason: str) -> None:
        """Finish the call at the first End node (every valid flow has one)."""
        self.end_reason = reason
        ends = self.flow.nodes_of(NodeType.END)
        if ends:
            self.enter(ends[0].id)
        else:
            self.state.status, self.state.end_reason = "ended", reason
            self.act("end", reason=reason)

    # ---------------------------------------------------------------- what the call has learnt

    def facts(self) -> dict[str, Any]:
        score = score_lead(self.state.variables, self.state.said, self.flow.scoring,
                           questions_asked=self.state.questions_asked)
        return {**self.state.variables, "score": score.score, "band": score.band}

    def result(self) -> StepResult:
        node = self.node
        return StepResult(state=self.state, actions=self.actions, node_id=self.state.node_id,
                          node_type=node.type if node is not None else None)
