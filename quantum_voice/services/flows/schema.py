"""The flow definition: versioned JSON that the designer edits and the engine runs.

``{"schema_version": 1, "nodes": [{id, type, position, config}], "edges": [{source, target, condition}],
"variables": [...], "scoring": {"rules": [...], "bands": {...}}}``

Each node type has its own config model with working defaults, so a node dragged in from the palette runs.
Validation of the graph as a whole (one Start, reachability, exits, conditions) lives in ``validation.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

# NodeType and NODE_LABELS live with the node-type table; the schema's users import them from here too
from quantum_voice.services.flows.node_types import NODE_LABELS, NodeType
from quantum_voice.services.leads.scoring import ScoringConfig

SCHEMA_VERSION = 1
NODE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,79}$"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartConfig(_Config):
    greeting: str = Field(default="Hi, thanks for calling! I'm the virtual assistant and I can answer your "
                                  "questions.", min_length=1, max_length=1000)
    voice: str = Field(default="default", max_length=80)
    ring_sequence: bool = True  # two rings before the greeting, so the call feels like a call


class LeadGateConfig(_Config):
    ask_name: bool = True
    ask_phone: bool = False
    name_prompt: str = Field(default="Can I get your name, please?", max_length=500)
    email_prompt: str = Field(default="What's the best email address to reach you?", max_length=500)
    phone_prompt: str = Field(default="And a phone number, in case we need to call you back?", max_length=500)
    consent_wording: str = Field(default="", max_length=2000)  # empty: the campaign's privacy wording
    consent_question: str = Field(default="Do you agree?", max_length=300)
    policy_version: str = Field(default="", max_length=40)  # empty: the campaign's policy version
    confirm_email: Literal["when_spoken", "always", "never"] = "when_spoken"
    max_attempts: int = Field(default=3, ge=1, le=10)  # re-asks per field before moving on
    completed_text: str = Field(default="Thanks, that's everything I need.", max_length=500)
    declined_text: str = Field(default="No problem, I won't keep any of your details.", max_length=500)


class RagAnswerConfig(_Config):
    knowledge_base_id: int | None = None
    confidence_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    max_answer_words: int = Field(default=45, ge=5, le=300)
    prompt: str = Field(default="What would you like to know?", max_length=500)
    follow_up: str = Field(default="Is there anything else I can help you with?", max_length=500)
    # the honest answer when the documents do not hold one; the first offers a follow-up, so it is only said to a
    # caller who left an email with consent
    fallback_text: str = Field(default="I don't have that information, but someone from the team can follow up "
                                       "with you by email.", max_length=500)
    fallback_without_contact: str = Field(default="I'm sorry, I don't have that information.", max_length=500)
    # below the threshold but at least this sure: the closest passage is offered as such, and the caller is asked
    # whether it answers the question ("no" gets the fallback); 0 turns this off
    tentative_threshold: float = Field(default=0.05, ge=0.0, le=1.0)
    tentative_text: str = Field(default="Here's the closest I have:", max_length=200)
    tentative_check: str = Field(default="Does that answer your question?", max_length=200)
    # after a "no": the next best passage, once, before the fallback ("" turns this off)
    alternative_text: str = Field(default="Maybe this is closer:", max_length=200)
    # a question about something no business answers ("who won the game?"): no follow-up offered, none kept
    off_topic_text: str = Field(default="I'm afraid I can't help with that; I can answer questions about what we "
                                        "do.", max_length=500)


class ClarifyConfig(_Config):
    questions: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=lambda: ["Could you tell me a little more about what you're looking for?"], min_length=1,
        max_length=20)
    variable: str | None = None  # the field this node fills; resolved once it is captured
    max_attempts: int = Field(default=2, ge=1, le=10)


class DispatchTriggers(_Config):
    on_request: bool = True  # "can I speak to someone"
    keywords: list[Annotated[str, Field(max_length=80)]] = Field(default_factory=list, max_length=50)  # "contract"
    max_call_minutes: float | None = Field(default=None, gt=0, le=240)
    low_confidence_streak: int | None = Field(default=None, ge=1, le=20)  # K unanswered turns in a row

    @field_validator("keywords")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        return [" ".join(k.lower().split()) for k in value if k.strip()]


class DispatchConfig(_Config):
    triggers: DispatchTriggers = Field(default_factory=DispatchTriggers)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    skill: str | None = Field(default=None, max_length=60)
    # No one can take the call live (no agent available, or none answered in time): said plainly, then the
    # callback question; the AI carries on afterwards
    message: str = Field(default="I'm sorry, I can't put you through to a person on this call. I've noted that "
                                 "you'd like to talk with someone, and the team can follow up with you.",
                         max_length=500)
    hold_text: str = Field(default="I've noted your request for the team. You can hang up whenever you're ready.",
                           max_length=500)
    # ... and the caller left no email or phone with consent: nothing promised that no one could keep
    message_without_contact: str = Field(default="I'm sorry, I can't put you through to a person on this call.",
                                         max_length=500)
    # Someone can take the call: the caller holds in the agents' queue
    connecting_text: str = Field(default="Let me find someone from the team for you. Please stay on the line.",
                                 max_length=500)
    waiting_text: str = Field(default="Thanks for holding.", max_length=500)  # the rough wait is added to it
    connected_text: str = Field(default="I'm putting you through to {agent} now.", max_length=500)
    unanswered_text: str = Field(default="I'm sorry, no one from the team is free to take your call right now.",
                                 max_length=500)
    # Empty: no callback is offered
    callback_question: str = Field(default="When would be a good time for someone to get back to you?",
                                   max_length=500)


class EndConfig(_Config):
    closing_text: str = Field(default="Thanks for calling. Have a great day!", max_length=1000)
    next_steps: str = Field(default="", max_length=1000)
    next_steps_without_contact: str = Field(default="", max_length=1000)  # no email or phone kept with consent


CONFIG_MODELS: dict[NodeType, type[_Config]] = {
    NodeType.START: StartConfig, NodeType.LEAD_GATE: LeadGateConfig, NodeType.RAG_ANSWER: RagAnswerConfig,
    NodeType.CLARIFY: ClarifyConfig, NodeType.DISPATCH: DispatchConfig, NodeType.END: EndConfig,
}


class Position(BaseModel):
    x: float = 0.0
    y: float = 0.0


class _Node(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the canvas may send its own keys (width, selected, ...)

    id: str = Field(pattern=NODE_ID_PATTERN)
    position: Position = Field(default_factory=Position)
    label: str = Field(default="", max_length=120)

    @property
    def title(self) -> str:
        return f"{NODE_LABELS[NodeType(self.type)]} node '{self.id}'"  # type: ignore[attr-defined]


class StartNode(_Node):
    type: Literal["start"] = "start"
    config: StartConfig = Field(default_factory=StartConfig)


class LeadGateNode(_Node):
    type: Literal["lead_gate"] = "lead_gate"
    config: LeadGateConfig = Field(default_factory=LeadGateConfig)


class RagAnswerNode(_Node):
    type: Literal["rag_answer"] = "rag_answer"
    config: RagAnswerConfig = Field(default_factory=RagAnswerConfig)


class ClarifyNode(_Node):
    type: Literal["clarify"] = "clarify"
    config: ClarifyConfig = Field(default_factory=ClarifyConfig)


class DispatchNode(_Node):
    type: Literal["dispatch"] = "dispatch"
    config: DispatchConfig = Field(default_factory=DispatchConfig)


class EndNode(_Node):
    type: Literal["end"] = "end"
    config: EndConfig = Field(default_factory=EndConfig)


Node = Annotated[Union[StartNode, LeadGateNode, RagAnswerNode, ClarifyNode, DispatchNode, EndNode],
                 Field(discriminator="type")]


class Edge(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(default=None, max_length=120)
    source: str = Field(min_length=1, max_length=80)
    target: str = Field(min_length=1, max_length=80)
    condition: str = Field(default="", max_length=200)  # see conditions.py; empty: the default exit


STANDARD_FIELDS = ("name", "email", "phone", "interest", "timeline", "budget")
PERSONAL_FIELDS = frozenset({"name", "email", "phone"})


class Variable(BaseModel):
    """A qualification field. The six standard ones have built-in extraction; custom ones say how to find them."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(default="", max_length=120)
    kind: Literal["standard", "text", "choice", "pattern", "date_time"] = "standard"
    # kind "choice": "3-bedroom|three bedroom" lists synonyms
    choices: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=100)
    pattern: str | None = Field(default=None, max_length=300)  # kind "pattern": a regular expression
    personal: bool = False  # stored only with consent, like name, email and phone

    @property
    def is_personal(self) -> bool:
        return self.personal or self.key in PERSONAL_FIELDS


def default_variables() -> list[Variable]:
    return [Variable(key=key, label=key.capitalize()) for key in STANDARD_FIELDS]


class FlowDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    variables: list[Variable] = Field(default_factory=default_variables, max_length=50)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)

    # Lookups by id, built once per list (validation walks every edge: a scan per lookup made it quadratic). Nodes
    # and edges are replaced or appended, never renamed in place, so the lists' identity and length key the index.
    _index: tuple | None = PrivateAttr(default=None)

    def _lookup(self) -> tuple[dict[str, Any], dict[str, list[Edge]]]:
        key = (id(self.nodes), len(self.nodes), id(self.edges), len(self.edges))
        if self._index is None or self._index[0] != key:
            nodes: dict[str, Any] = {}
            for node in self.nodes:
                nodes.setdefault(node.id, node)
            edges: dict[str, list[Edge]] = {}
            for edge in self.edges:
                edges.setdefault(edge.source, []).append(edge)
            self._index = (key, nodes, edges)
        return self._index[1], self._index[2]

    def node(self, node_id: str) -> Any:
        found = self._lookup()[0].get(node_id)
        if found is None:
            raise KeyError(node_id)
        return found

    def has_node(self, node_id: str) -> bool:
        return node_id in self._lookup()[0]

    def nodes_of(self, node_type: NodeType) -> list[Any]:
        return [node for node in self.nodes if node.type == node_type.value]

    def edges_from(self, node_id: str) -> list[Edge]:
        return list(self._lookup()[1].get(node_id, []))

    def variable(self, key: str) -> Variable | None:
        return next((v for v in self.variables if v.key == key), None)

    def default_knowledge_base_id(self) -> int | None:
        """The knowledge base used to answer questions asked outside a RAG Answer node (in the Lead Gate)."""
        return next((n.config.knowledge_base_id for n in self.nodes_of(NodeType.RAG_ANSWER)
                     if n.config.knowledge_base_id), None)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
