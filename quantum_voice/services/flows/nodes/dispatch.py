"""Dispatch: hand the call to a person, with a reason, a priority and the skill needed. The AI then holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows.state import HandoffRequest

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import DispatchNode
    from quantum_voice.services.flows.turn import Turn


def enter(turn: "Turn", node: "DispatchNode") -> None:
    reason, detail = turn.handoff_reason
    request = HandoffRequest(reason=reason, detail=detail, priority=node.config.priority,
                             skill=node.config.skill, node_id=node.id)
    turn.say(node.config.message)
    turn.state.status, turn.state.handoff = "handed_off", request
    turn.act("handoff", **request.model_dump(exclude={"node_id"}))


def respond(turn: "Turn", node: "DispatchNode", heard: "Heard") -> None:
    turn.say(node.config.hold_text)
