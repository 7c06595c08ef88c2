"""Clarify: follow-up questions until the answer is clear (or its variable is filled), up to a maximum."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import ClarifyNode
    from quantum_voice.services.flows.step import Step


def enter(step: "Step", node: "ClarifyNode") -> None:
    step.state.clarify_attempts = 0
    first_visit_this_turn = step.entered.count(node.id) == 1  # never bounce between nodes within one turn
    if node.config.variable and step.state.variables.get(node.config.variable) and first_visit_this_turn:
        step.leave("resolved")  # the caller already told us
        return
    step.ask(node.config.questions[0])


def respond(step: "Step", node: "ClarifyNode", heard: "Heard") -> None:
    if _resolved(step, node, heard):
        if step.state.open_question:  # the unclear question, now with the detail that makes it answerable
            step.state.open_question = f"{step.state.open_question} {heard.text.strip()}"[:1000]
        step.leave("resolved")
        return
    step.state.clarify_attempts += 1
    if step.state.clarify_attempts >= node.config.max_attempts:
        step.handoff_reason = ("low_confidence", f"still unclear after {step.state.clarify_attempts} follow-ups")
        step.leave("unresolved")
        return
    questions = node.config.questions
    step.ask(questions[step.state.clarify_attempts % len(questions)])


def _resolved(step: "Step", node: "ClarifyNode", heard: "Heard") -> bool:
    if node.config.variable:
        return node.config.variable in step.captured
    understanding = heard.understanding
    return not understanding.unsure and (bool(step.captured) or len(heard.text.split()) >= 2)
