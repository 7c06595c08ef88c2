"""End: closing words and next steps (those for a caller the team cannot reach when no contact was kept with
consent); the call is over. Without consent, personal details are forgotten."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows.privacy import can_follow_up, forget_personal_data

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import EndNode
    from quantum_voice.services.flows.step import Step


def enter(step: "Step", node: "EndNode") -> None:
    step.say(node.config.closing_text)
    # "We'll follow up by email" only to a caller the team can reach
    step.say(node.config.next_steps if can_follow_up(step.state) else node.config.next_steps_without_contact)
    step.state.status, step.state.end_reason = "ended", step.end_reason
    if step.state.consent is not True:
        forget_personal_data(step.state, step.flow)
    step.act("end", reason=step.end_reason)


def respond(step: "Step", node: "EndNode", heard: "Heard") -> None:
    """The call has ended; nothing more is said."""
