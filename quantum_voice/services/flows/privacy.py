"""Personal data in a call's state is held only until the caller consents; refused or never given, it goes."""

from __future__ import annotations

from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.state import FlowState


def personal_keys(flow: FlowDefinition) -> set[str]:
    return {v.key for v in flow.variables if v.is_personal} | {"name", "email", "phone"}


def can_follow_up(state: FlowState) -> bool:
    """The team can get back to this caller: an email or a phone number kept with consent. Anything the agent says
    about following up is said only then (no promise to a caller no one can reach)."""
    known = state.variables
    return state.consent is True and bool(known.get("email") or known.get("phone"))


def forget_personal_data(state: FlowState, flow: FlowDefinition) -> None:
    for key in personal_keys(flow):
        state.variables.pop(key, None)
    state.gate.email_confirmed = False
    state.last_prompt = ""  # it may read an email address back
