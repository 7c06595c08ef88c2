"""Dispatch: hand the call to a person, with a reason, a priority and the skill needed.

When someone can take the call (``CallContext.can_hold``: an agent with the skill, or any agent, is available in
the workspace) the caller holds: they hear the node's ``connecting_text``, the call waits in the agents' queue
(status ``handed_off``, phase ``waiting``), and a hold line with the rough wait follows about every
``HOLD_REPEAT_SECONDS`` and on every turn. Then one of these happens, each told to the engine from outside
(``conversations`` reads the hand-off row): an agent accepts (``connected``: "I'm putting you through to Alex
now.", and the AI stays silent while the person talks), nobody answers within the campaign's wait
(``unanswered``), the person hands the call back (``resume``) or ends it with a disposition (``completed``).

When no one can take it, or no one answered, the caller is told so plainly, asked when the team could get back to
them (the ``callback_question``, only when the call has an email or phone kept with consent; the answer is kept on
the hand-off and in the lead's summary), and the AI
carries on: along the node's ``returned`` edge if the flow has one; else, when a trigger broke into a node (a
request, a keyword, a low-confidence streak), back where the call was (the question the Lead Gate was asking, or
"anything else?"); else (the flow routed the call here) on by the node's default exit. It never holds for no one,
and a hand-off is requested once a call: asked again, the caller hears that it is noted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows import nodes
from quantum_voice.services.flows.nodes import lead_gate
from quantum_voice.services.flows.privacy import can_follow_up
from quantum_voice.services.flows.triggers import asked_again_text
from quantum_voice.services.flows.schema import NodeType
from quantum_voice.services.flows.state import HandoffRequest

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import DispatchNode
    from quantum_voice.services.flows.step import Step

ANYTHING_ELSE = "Is there anything else I can help you with?"
CALLBACK_NOTED = "Thanks, I've passed that on to the team."
NO_CALLBACK = "No problem."
HOLD_REPEAT_SECONDS = 20
MAX_CALLBACK_CHARS = 200
_LISTENING = (NodeType.LEAD_GATE.value, NodeType.RAG_ANSWER.value, NodeType.CLARIFY.value)


def enter(step: "Step", node: "DispatchNode") -> None:
    reason, detail = step.handoff_reason
    held = step.ctx.can_hold(node.config.skill)
    request = HandoffRequest(reason=reason, detail=detail, priority=node.config.priority, skill=node.config.skill,
                             node_id=node.id, interrupted=step.interrupted, since=step.ctx.now,
                             last_hold_at=step.ctx.now, wait_seconds=step.ctx.handoff_wait_seconds)
    step.state.handoff = request
    step.act("handoff", held=held, reason=reason, detail=detail, priority=request.priority, skill=request.skill)
    step.state.low_confidence_streak = 0
    if held:
        request.phase = "waiting"
        step.state.status = "handed_off"
        step.say(node.config.connecting_text)
        return
    step.say(node.config.message if can_follow_up(step.state) else node.config.message_without_contact)
    offer_callback(step, node)


def respond(step: "Step", node: "DispatchNode", heard: "Heard | None") -> None:
    request = step.state.handoff
    if step.state.status == "handed_off":
        if request is not None and request.phase == "connected":
            return  # a person has the call: the AI is silent
        hold(step, node)
        return
    if request is not None and request.phase == "callback" and heard is not None:
        _callback_answer(step, node, heard)
        return
    step.say(asked_again_text(step, node.config))


# ---------------------------------------------------------------- while the caller holds

def hold(step: "Step", node: "DispatchNode") -> None:
    """The hold line: the node's waiting text and the rough wait left before a callback is offered."""
    request = step.state.handoff
    assert request is not None
    request.last_hold_at = step.ctx.now
    waited = (step.ctx.now - request.since).total_seconds() if request.since else 0.0
    step.say(f"{node.config.waiting_text} {_rough_wait(request.wait_seconds - waited, can_follow_up(step.state))}")


def hold_due(step: "Step") -> bool:
    request = step.state.handoff
    return (step.state.status == "handed_off" and request is not None and request.phase == "waiting"
            and (request.last_hold_at is None
                 or (step.ctx.now - request.last_hold_at).total_seconds() >= HOLD_REPEAT_SECONDS))


def _rough_wait(seconds_left: float, reachable: bool) -> str:
    """The rough wait left before a callback is offered (a promise only to a caller the team can reach)."""
    if seconds_left >= 90:
        return f"Someone should be with you within {round(seconds_left / 60)} minutes."
    if seconds_left >= 40:
        return "Someone should be with you within about a minute."
    if reachable:
        return "Someone should be with you in a moment; if not, I'll make sure the team gets back to you."
    return "Someone should be with you in a moment; if not, I'll let you know."


def connected(step: "Step", node: "DispatchNode", agent: str) -> None:
    request = step.state.handoff
    assert request is not None
    request.phase, request.agent = "connected", agent
    step.say(node.config.connected_text.replace("{agent}", agent or "a colleague"))


def unanswered(step: "Step", node: "DispatchNode") -> None:
    """Nobody took the call in time: say so, offer the callback, carry on."""
    step.state.status = "active"
    step.say(node.config.unanswered_text)
    offer_callback(step, node)


def resumed(step: "Step", node: "DispatchNode", line: str = "") -> None:
    """The person handed the call back (``line``: or their connection was lost, said first): the AI picks up where
    the call was."""
    step.state.status = "active"
    step.say(line)
    if step.state.handoff is not None:
        step.state.handoff.phase = "done"
    carry_on(step, node)


def completed(step: "Step") -> None:
    """The person ended the call with a disposition: the AI closes it politely."""
    step.state.status = "active"
    if step.state.handoff is not None:
        step.state.handoff.phase = "done"
    step.go_to_end("handoff_completed")


# ---------------------------------------------------------------- no one could take it

def offer_callback(step: "Step", node: "DispatchNode") -> None:
    request = step.state.handoff
    assert request is not None
    # a callback is offered only to a caller the team can reach: an email or a phone number kept with consent
    if node.config.callback_question.strip() and can_follow_up(step.state):
        request.phase = "callback"
        step.ask(node.config.callback_question)
        return
    request.phase = "done"
    carry_on(step, node)


def _callback_answer(step: "Step", node: "DispatchNode", heard: "Heard") -> None:
    """The caller's answer to the callback question (a time is also kept as the lead's timeline, by the engine); a
    question instead goes back to the node the call was at."""
    request = step.state.handoff
    assert request is not None
    request.phase = "done"
    said = heard.understanding
    if said.question:
        back = _interrupted_node(step)
        if back is not None:
            step.state.node_id = back.id
            nodes.handler_for(back.type).respond(step, back, heard)
            return
    elif said.refusal or said.answer == "no" or said.unsure:
        step.say(NO_CALLBACK)
    else:
        request.callback = heard.text.strip()[:MAX_CALLBACK_CHARS]
        step.act("callback", when=request.callback)
        note = f"call back: {request.callback}"
        if note not in step.state.requests:
            step.state.requests.append(note)
        step.say(CALLBACK_NOTED)
    carry_on(step, node)


def carry_on(step: "Step", node: "DispatchNode") -> None:
    """Leave the node: by its ``returned`` edge, else back to the node a trigger broke into, else its default exit."""
    if step.follow("returned", leaving=False):
        return
    back = _interrupted_node(step)
    if back is None:
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


def _interrupted_node(step: "Step"):
    request = step.state.handoff
    interrupted = request.interrupted if request is not None else None
    back = step.flow.node(interrupted) if interrupted and step.flow.has_node(interrupted) else None
    return back if back is not None and back.type in _LISTENING else None
