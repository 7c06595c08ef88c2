"""RAG Answer: answer from the knowledge base, then "anything else?" — a loop until the caller is done.

A clear question the documents do not answer gets the honest fallback ("I don't have that information, ...") and
is kept on the call for the team; only a vague one ("what about that?") takes the ``low_confidence`` edge (to
Clarify, or Dispatch) with the question kept open. "No, that's all" takes the ``done`` edge.

Between the two, when the closest passage is plausible but not certain (``tentative_threshold`` up to the node's
threshold), it is offered as such ("Here's the closest I have: ... Does that answer your question?"). The caller
decides: "no" gets the next closest passage, once (``alternative_text``: "Maybe this is closer: ..."), and a second
"no" the honest fallback (the question is kept for the team); "yes" or a new question goes on.
Nothing is presented as the answer that the agent is not confident of, and a stated fact is not withheld.

A question about something no business answers ("who won the game last night?", ``off_topic``) gets the node's
``off_topic_text``: no follow-up is offered and nothing is kept for the team.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows.answers import (confident, is_request, is_vague, look_up, note_request,
                                                  say_alternative, say_answer, say_not_found, say_tentative,
                                                  tentative)
from quantum_voice.services.flows.off_topic import is_off_topic
from quantum_voice.services.flows.triggers import hand_off_if_triggered

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import RagAnswerNode
    from quantum_voice.services.flows.step import Step


def enter(step: "Step", node: "RagAnswerNode") -> None:
    step.state.asked_more = False
    question, step.state.open_question = step.state.open_question, None
    if question:
        answer(step, node, question)  # asked earlier (mid-Lead-Gate, or clarified): answer it now
    else:
        step.ask(node.config.prompt)


def respond(step: "Step", node: "RagAnswerNode", heard: "Heard") -> None:
    said = heard.understanding
    checking, step.state.checking = step.state.checking, None
    alternative, step.state.alternative = step.state.alternative, None
    if checking and not said.question and not said.goodbye and not step.captured and said.answer:
        if said.answer == "no" and alternative and node.config.alternative_text:  # the next closest, once
            say_alternative(step, alternative, checking, node.config)
            step.state.checking = checking
            step.ask(node.config.tentative_check)
            return
        if said.answer == "no":  # the closest passage did not answer it: the honest fallback, kept for the team
            say_not_found(step, node.config, checking)
        else:
            step.say("Good.")
        _ask_for_more(step, node)
    elif (said.goodbye and not said.question) or (said.answer == "no" and not said.question and not step.captured):
        step.leave("done")
    elif said.answer == "yes" and not said.question and not step.captured and len(heard.text.split()) <= 4:
        step.ask("Sure, what would you like to know?")
    elif step.captured and not said.question and not is_request(heard.text):
        step.say("Got it, thanks.")
        _ask_for_more(step, node)
    else:
        answer(step, node, said.question_text, statement=not said.question)


def answer(step: "Step", node: "RagAnswerNode", question: str, *, statement: bool = False) -> None:
    """Answer ``question`` from the knowledge base. ``statement``: the caller said something rather than asked
    (the documents may still speak to it; if not, it is acknowledged, not treated as a question missed)."""
    cfg = node.config
    vague = is_vague(question) and not statement
    result = None if vague else look_up(step, cfg.knowledge_base_id, question, cfg.confidence_threshold)
    if confident(result, cfg.confidence_threshold):
        if not step.low_confidence_counted:
            step.state.low_confidence_streak = 0
        say_answer(step, result, question, cfg.knowledge_base_id, cfg.max_answer_words)
        if not step.follow("answered", leaving=False):
            _ask_for_more(step, node)
        return
    if vague:  # nothing to look up yet: ask what they mean (the Clarify node), which may end with a person
        step.count_low_confidence()
        if hand_off_if_triggered(step):
            return
        step.state.open_question = question
        step.handoff_reason = ("low_confidence", question[:500])
        if step.follow("low_confidence", leaving=False):
            return
        step.state.open_question = None
    # A clear question the documents do not answer is the agent's miss, not the caller's: say so honestly, never
    # count it towards a hand-off for "low confidence".
    if not step.low_confidence_counted:
        step.state.low_confidence_streak = 0
    if not statement and is_off_topic(question):  # "who won the game?": no follow-up offered, nothing kept
        step.say(cfg.off_topic_text)
        _ask_for_more(step, node)
        return
    if not statement and not is_request(question) and tentative(result, cfg):
        say_tentative(step, result, question, cfg)
        step.state.checking, step.state.alternative = question, result.alternative
        step.ask(cfg.tentative_check)
        return
    if is_request(question):
        note_request(step, question)
    elif statement:
        step.say("Got it, thanks.")
    else:
        say_not_found(step, cfg, question)
    _ask_for_more(step, node)


def _ask_for_more(step: "Step", node: "RagAnswerNode") -> None:
    step.state.asked_more = True
    step.ask(node.config.follow_up)
