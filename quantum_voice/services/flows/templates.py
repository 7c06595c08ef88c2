"""Flow templates a campaign can start from. Each builds a valid definition for a knowledge base and a business."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services.flows.schema import FlowDefinition, Variable, default_variables
from quantum_voice.services.leads.scoring import ScoringConfig, ScoringRule, default_rules

DEFAULT_TEMPLATE = "lead_capture_qa"


@dataclass(frozen=True)
class FlowTemplate:
    key: str
    name: str
    description: str
    build: Callable[[int | None, str], FlowDefinition]


def _node(node_id: str, node_type: str, x: float, y: float, label: str, **config: Any) -> dict[str, Any]:
    """``label`` is what the designer's canvas shows on the node (the id stays the stable reference)."""
    return {"id": node_id, "type": node_type, "label": label, "position": {"x": x, "y": y}, "config": config}


def _edge(source: str, target: str, condition: str = "") -> dict[str, Any]:
    return {"id": f"{source}-{target}{'-' + condition if condition else ''}", "source": source, "target": target,
            "condition": condition}


def lead_capture_qa(knowledge_base_id: int | None, business: str) -> FlowDefinition:
    """Start → Lead Gate → RAG Answer loop → Dispatch / End."""
    return FlowDefinition.model_validate({
        "nodes": [
            _node("start", "start", 0, 0, "Greeting",
                  greeting=f"Hi, thanks for calling {business}! I'm the virtual assistant, and I can answer your "
                           "questions."),
            _node("lead_gate", "lead_gate", 0, 140, "Collect details", ask_name=True, ask_phone=False,
                  completed_text="Thanks, {name}! That's everything I need."),
            _node("answer", "rag_answer", 0, 280, "Answer questions", knowledge_base_id=knowledge_base_id,
                  prompt="What would you like to know?"),
            _node("clarify", "clarify", 300, 280, "Clarify the question",
                  questions=["Could you tell me a little more about what you'd like to know?",
                             "Is it about prices, availability, or something else?"], max_attempts=2),
            _node("dispatch", "dispatch", 300, 420, "Hand off", priority="high", skill="sales",
                  triggers={"on_request": True, "keywords": ["contract", "complaint", "lawyer"],
                            "max_call_minutes": 5, "low_confidence_streak": 3}),
            _node("end", "end", 0, 420, "Goodbye", closing_text=f"Thanks for calling {business}. Have a great day!",
                  next_steps="We'll follow up by email with everything we talked about."),
        ],
        "edges": [
            _edge("start", "lead_gate"),
            _edge("lead_gate", "answer", "consented"),
            _edge("lead_gate", "answer", "declined"),
            _edge("lead_gate", "answer", "incomplete"),
            _edge("answer", "clarify", "low_confidence"),
            _edge("answer", "end", "done"),
            _edge("clarify", "answer", "resolved"),
            _edge("clarify", "dispatch", "unresolved"),
            _edge("dispatch", "end"),
        ],
    })


def appointment_booking(knowledge_base_id: int | None, business: str) -> FlowDefinition:
    """Start → Lead Gate (name, email, phone) → Clarify (day and time) → RAG Answer → End."""
    variables = default_variables() + [Variable(key="appointment_time", label="Preferred day and time",
                                                kind="date_time")]
    rules = default_rules() + [ScoringRule(id="picked_a_time", label="Picked a day and time", points=20,
                                           field="appointment_time")]
    return FlowDefinition.model_validate({
        "nodes": [
            _node("start", "start", 0, 0, "Greeting", greeting=f"Hi, thanks for calling {business}! I can book an "
                                                  "appointment for you."),
            _node("lead_gate", "lead_gate", 0, 140, "Collect details", ask_name=True, ask_phone=True,
                  completed_text="Thanks, {name}!"),
            _node("pick_time", "clarify", 0, 280, "Pick a day and time", variable="appointment_time", max_attempts=3,
                  questions=["What day and time would suit you? For example, next Tuesday at 3pm.",
                             "Which day works best for you, and morning or afternoon?"]),
            _node("answer", "rag_answer", 0, 420, "Answer questions", knowledge_base_id=knowledge_base_id,
                  prompt="Great, I've noted that. Do you have any questions before your visit?"),
            _node("dispatch", "dispatch", 300, 420, "Hand off", skill="scheduling",
                  triggers={"on_request": True, "keywords": ["reschedule", "cancel"]}),
            _node("end", "end", 0, 560, "Goodbye", closing_text="You're all set. Thanks for calling!",
                  next_steps="We'll confirm your appointment by email."),
        ],
        "edges": [
            _edge("start", "lead_gate"),
            _edge("lead_gate", "pick_time", "consented"),
            _edge("lead_gate", "end", "declined"),
            _edge("lead_gate", "end", "incomplete"),
            _edge("pick_time", "answer", "resolved"),
            _edge("pick_time", "dispatch", "unresolved"),
            _edge("answer", "end", "done"),
            _edge("dispatch", "end"),
        ],
        "variables": [v.model_dump() for v in variables],
        "scoring": ScoringConfig(rules=rules).model_dump(),
    })


def support_triage(knowledge_base_id: int | None, business: str) -> FlowDefinition:
    """Start → Lead Gate → Clarify (what is wrong) → RAG Answer → Dispatch when unsure / End."""
    variables = default_variables() + [Variable(key="issue", label="What the caller needs help with", kind="text")]
    return FlowDefinition.model_validate({
        "nodes": [
            _node("start", "start", 0, 0, "Greeting", greeting=f"Hi, you've reached {business} support."),
            _node("lead_gate", "lead_gate", 0, 140, "Collect details", ask_name=True, ask_phone=False,
                  email_prompt="What's the email address on your account?", completed_text="Thanks, {name}."),
            _node("describe", "clarify", 0, 280, "Describe the problem", variable="issue", max_attempts=2,
                  questions=["What can I help you with today?",
                             "Could you describe the problem in a sentence or two?"]),
            _node("answer", "rag_answer", 0, 420, "Answer questions", knowledge_base_id=knowledge_base_id,
                  confidence_threshold=0.6,
                  prompt="Let me look that up."),
            _node("dispatch", "dispatch", 300, 420, "Hand off", priority="high", skill="support",
                  triggers={"on_request": True, "keywords": ["outage", "down", "refund", "cancel", "broken"],
                            "low_confidence_streak": 2}),
            _node("end", "end", 0, 560, "Goodbye", closing_text="Glad I could help. Goodbye!",
                  next_steps="If the problem comes back, just call again.",
                  next_steps_without_contact="If the problem comes back, just call again."),
        ],
        "edges": [
            _edge("start", "lead_gate"),
            _edge("lead_gate", "describe", "consented"),
            _edge("lead_gate", "describe", "declined"),
            _edge("lead_gate", "describe", "incomplete"),
            _edge("describe", "answer", "resolved"),
            _edge("describe", "dispatch", "unresolved"),
            _edge("answer", "dispatch", "low_confidence"),
            _edge("answer", "end", "done"),
            _edge("dispatch", "end"),
        ],
        "variables": [v.model_dump() for v in variables],
    })


TEMPLATES: dict[str, FlowTemplate] = {t.key: t for t in (
    FlowTemplate("lead_capture_qa", "Lead capture + Q&A",
                 "Greets, takes the caller's name, email and consent, then answers questions from your knowledge "
                 "base and hands over to your team when needed.", lead_capture_qa),
    FlowTemplate("appointment_booking", "Appointment booking",
                 "Takes contact details and consent, asks for a preferred day and time, answers questions.",
                 appointment_booking),
    FlowTemplate("support_triage", "Support triage",
                 "Identifies the customer, asks what is wrong, answers from your help docs and escalates urgent "
                 "or unanswered problems.", support_triage),
)}


def require_template(key: str) -> FlowTemplate:
    template = TEMPLATES.get(key)
    if template is None:
        raise ValidationFailed(f"There is no flow template '{key}'. Pick one of: {', '.join(TEMPLATES)}.",
                               field="template")
    return template


def build_template(key: str, *, knowledge_base_id: int | None, business: str) -> FlowDefinition:
    return require_template(key).build(knowledge_base_id, business)
