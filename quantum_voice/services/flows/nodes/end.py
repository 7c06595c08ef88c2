"""End: closing words and next steps; the call is over. Without consent, personal details are forgotten."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows.privacy import forget_personal_data

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import EndNode
    from quantum_voice.services.flows.turn import Turn


def enter(turn: "Turn", node: "EndNode") -> None:
    turn.say(node.config.closing_text)
    turn.say(node.config.next_steps)
    turn.state.status, turn.state.end_reason = "ended", turn.end_reason
    if turn.state.consent is not True:
        forget_personal_data(turn.state, turn.flow)
    turn.act("end", reason=turn.end_reason)


def respond(turn: "Turn", node: "EndNode", heard: "Heard") -> None:
    """The call has ended; nothing more is said."""
