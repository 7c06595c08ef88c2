"""Clarify: follow-up questions until the answer is clear (or its variable is filled), up to a maximum."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import ClarifyNode
    from quantum_voice.services.flows.turn import Turn


def enter(turn: "Turn", node: "ClarifyNode") -> None:
    turn.state.clarify_attempts = 0
    first_visit_this_turn = turn.entered.count(node.id) == 1  # never bounce between nodes within one turn
    if node.config.variable and turn.state.variables.get(node.config.variable) and first_visit_this_turn:
        turn.leave("resolved")  # the caller already told us
        return
    turn.ask(node.config.questions[0])


def respond(turn: "Turn", node: "ClarifyNode", heard: "Heard") -> None:
    if _resolved(turn, node, heard):
        if turn.state.open_question:  # the unclear question, now with the detail that makes it answerable
            turn.state.open_question = f"{turn.state.open_question} {heard.text.strip()}"[:1000]
        turn.leave("resolved")
        return
    turn.state.clarify_attempts += 1
    if turn.state.clarify_attempts >= node.config.max_attempts:
        turn.handoff_reason = ("low_confidence", f"still unclear after {turn.state.clarify_attempts} follow-ups")
        turn.leave("unresolved")
        return
    questions = node.config.questions
    turn.ask(questions[turn.state.clarify_attempts % len(questions)])


def _resolved(turn: "Turn", node: "ClarifyNode", heard: "Heard") -> bool:
    if node.config.variable:
        return node.config.variable in turn.captured
    understanding = heard.understanding
    return not understanding.unsure and (bool(turn.captured) or len(heard.text.split()) >= 2)
