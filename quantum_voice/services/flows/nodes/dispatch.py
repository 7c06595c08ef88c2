"""Dispatch: hand the call to a person, with a reason, a priority and the skill needed.

When a person can take the call (``CallContext.agents_available``) the AI holds: the caller hears the node's
message, then its hold text on every turn until a person takes over or hands back. When no one can (today, until
the agent workspace of issue 16 exists), the request is still recorded for the team, the caller is told so
plainly, and the AI carries on: along the node's ``returned`` edge if the flow has one; else, when a trigger
broke into a node (a request, a keyword, a low-confidence streak), back where the call was (the question the Lead
Gate was asking, or "anything else?"); else (the flow routed the call here) on by the node's default exit. It never
holds for no one, and a hand-off is requested once a call: asked again, the caller hears that it is noted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows.nodes import lead_gate
from quantum_voice.services.flows.schema import NodeType
from quantum_voice.services.flows.state import HandoffRequest

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import DispatchNode
    from quantum_voice.services.flows.step import Step

ANYTHING_ELSE = "Is there anything else I can help you with?"
_LISTENING = (NodeType.LEAD_GATE.value, NodeType.RAG_ANSWER.value, NodeType.CLARIFY.value)


def enter(step: "Step", node: "DispatchNode") -> None:
    reason, detail = step.handoff_reason
    held = step.ctx.agents_available
    request = HandoffRequest(reason=reason, detail=detail, priority=node.config.priority,
                             skill=node.config.skill, node_id=node.id)
    step.say(node.config.message)
    step.state.handoff = request
    step.act("handoff", held=held, **request.model_dump(exclude={"node_id"}))
    if held:
        step.state.status = "handed_off"
        return
    step.state.low_confidence_streak = 0
    if step.follow("returned", leaving=False):
        return
    interrupted = step.interrupted
    back = step.flow.node(interrupted) if interrupted and step.flow.has_node(interrupted) else None
    if back is None or back.type not in _LISTENING:
        step.leave("returned")
        return
    step.state.node_id = back.id  # back where the call was, without entering it again (no second greeting)
    if back.type == NodeType.RAG_ANSWER.value:
        step.state.asked_more = True
        step.ask(back.config.follow_up or ANYTHING_ELSE)
    elif back.type == NodeType.LEAD_GATE.value:
        lead_gate.carry_on(step, back)
    else:
        step.ask_again()


def respond(step: "Step", node: "DispatchNode", heard: "Heard") -> None:
    step.say(node.config.hold_text)
