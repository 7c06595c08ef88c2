"""When a call goes to a person: the Dispatch nodes' triggers, checked on every turn.

Explicit request ("can I speak to someone"), a keyword ("contract"), the call running past N minutes, or K
answers in a row the agent was not confident about. The first Dispatch node whose trigger fires takes the call.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from quantum_voice.services.flows.intents import normalise
from quantum_voice.services.flows.privacy import can_follow_up
from quantum_voice.services.flows.schema import DispatchConfig, DispatchTriggers, NodeType

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.step import Step

NO_ONE_TO_TRANSFER_TO = ("I can't put you through to a person from here, but I'll make sure the team knows you'd "
                         "like to talk to someone.")


def hand_off_if_triggered(step: "Step", heard: "Heard | None" = None) -> bool:
    """Enter the first Dispatch node whose trigger fires. Returns whether the call was handed off."""
    if step.state.status != "active" or (step.node is not None and step.node.type in ("dispatch", "end")):
        return False
    # requested once already this call and no one could take it: say it's noted (after talking with a person who
    # handed the call back, the caller may ask again)
    if step.state.handoff is not None and step.state.handoff.agent is None:
        asked_again = heard is not None and heard.understanding.handoff
        if asked_again:
            dispatch = step.flow.node(step.state.handoff.node_id) if step.flow.has_node(
                step.state.handoff.node_id or "") else None
            step.say(asked_again_text(step, dispatch.config if dispatch else DispatchConfig()))
            step.ask_again()
        return asked_again
    for node in step.flow.nodes_of(NodeType.DISPATCH):
        reason = _fired(step, node.config.triggers, heard)
        if reason:
            step.handoff_reason, step.interrupted = reason, step.state.node_id
            step.enter(node.id)
            return True
    return False


def _fired(step: "Step", triggers: DispatchTriggers, heard: "Heard | None") -> tuple[str, str | None] | None:
    if heard is not None:
        if triggers.on_request and heard.understanding.handoff:
            return "request", heard.text.strip()[:500]
        text = normalise(heard.text)
        for keyword in triggers.keywords:
            if re.search(rf"(?<![\w-]){re.escape(keyword)}(?:s|es)?(?![\w-])", text):
                return "keyword", keyword
    minutes = (step.ctx.now - step.state.started_at).total_seconds() / 60
    if triggers.max_call_minutes and minutes >= triggers.max_call_minutes:
        return "duration", f"call longer than {triggers.max_call_minutes:g} minutes"
    streak = step.state.low_confidence_streak
    if triggers.low_confidence_streak and streak >= triggers.low_confidence_streak:
        return "low_confidence", f"{streak} answers in a row below the confidence threshold"
    return None


def asked_again_text(step: "Step", config: DispatchConfig) -> str:
    """What a caller who asks for a person again hears: the request was noted, when the team can reach them."""
    return config.hold_text if can_follow_up(step.state) else config.message_without_contact
