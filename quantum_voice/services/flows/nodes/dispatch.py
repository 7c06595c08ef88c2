"""Dispatch: hand the call to a person, with a reason, a priority and the skill needed. The AI then holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows.state import HandoffRequest

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import DispatchNode
    from quantum_voice.services.flows.step import Step


def enter(step: "Step", node: "DispatchNode") -> None:
    reason, detail = step.handoff_reason
    request = HandoffRequest(reason=reason, detail=detail, priority=node.config.priority,
                             skill=node.config.skill, node_id=node.id)
    step.say(node.config.message)
    step.state.status, step.state.handoff = "handed_off", request
    step.act("handoff", **request.model_dump(exclude={"node_id"}))


def respond(step: "Step", node: "DispatchNode", heard: "Heard") -> None:
    step.say(node.config.hold_text)
