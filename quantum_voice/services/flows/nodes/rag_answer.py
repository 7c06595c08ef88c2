"""RAG Answer: answer from the knowledge base, then "anything else?" — a loop until the caller is done.

A clear question the documents do not answer gets the honest fallback ("I don't have that information, ...") and
is kept on the call for the team; only a vague one ("what about that?") takes the ``low_confidence`` edge (to
Clarify, or Dispatch) with the question kept open. "No, that's all" takes the ``done`` edge.

Between the two, when the closest passage is plausible but not certain (``tentative_threshold`` up to the node's
threshold), it is offered as such ("Here's the closest I have: ... Does that answer your question?"). The caller
decides: "no" gets the honest fallback (and the question is kept for the team), "yes" or a new question goes on.
Nothing is presented as the answer that the agent is not confident of, and a stated fact is not withheld.

A question about something no business answers ("who won the game last night?", ``off_topic``) gets the node's
``off_topic_text``: no follow-up is offered and nothing is kept for the team.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantum_voice.services.flows.answers import (confident, is_request, is_vague, look_up, note_request, say_answer,
                                                  say_not_found, say_tentative, tentative)
from quantum_voice.services.flows.off_topic import is_off_topic
from quantum_voice.services.flows.triggers import hand_off_if_triggered

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import RagAnswerNode
    from quantum_voice.services.flows.turn import Turn


def enter(turn: "Turn", node: "RagAnswerNode") -> None:
    turn.state.asked_more = False
    question, turn.state.open_question = turn.state.open_question, None
    if question:
        answer(turn, node, question)  # asked earlier (mid-Lead-Gate, or clarified): answer it now
    else:
        turn.ask(node.config.prompt)


def respond(turn: "Turn", node: "RagAnswerNode", heard: "Heard") -> None:
    said = heard.understanding
    checking, turn.state.checking = turn.state.checking, None
    if checking and not said.question and not said.goodbye and not turn.captured and said.answer:
        if said.answer == "no":  # the closest passage did not answer it: the honest fallback, kept for the team
            say_not_found(turn, node.config, checking)
        else:
            turn.say("Good.")
        _ask_for_more(turn, node)
    elif (said.goodbye and not said.question) or (said.answer == "no" and not said.question and not turn.captured):
        turn.leave("done")
    elif said.answer == "yes" and not said.question and not turn.captured and len(heard.text.split()) <= 4:
        turn.ask("Sure, what would you like to know?")
    elif turn.captured and not said.question and not is_request(heard.text):
        turn.say("Got it, thanks.")
        _ask_for_more(turn, node)
    else:
        answer(turn, node, said.question_text, statement=not said.question)


def answer(turn: "Turn", node: "RagAnswerNode", question: str, *, statement: bool = False) -> None:
    """Answer ``question`` from the knowledge base. ``statement``: the caller said something rather than asked
    (the documents may still speak to it; if not, it is acknowledged, not treated as a question missed)."""
    cfg = node.config
    vague = is_vague(question) and not statement
    result = None if vague else look_up(turn, cfg.knowledge_base_id, question, cfg.confidence_threshold)
    if confident(result, cfg.confidence_threshold):
        if not turn.low_confidence_counted:
            turn.state.low_confidence_streak = 0
        say_answer(turn, result, question, cfg.knowledge_base_id, cfg.max_answer_words)
        if not turn.follow("answered", leaving=False):
            _ask_for_more(turn, node)
        return
    if vague:  # nothing to look up yet: ask what they mean (the Clarify node), which may end with a person
        turn.count_low_confidence()
        if hand_off_if_triggered(turn):
            return
        turn.state.open_question = question
        turn.handoff_reason = ("low_confidence", question[:500])
        if turn.follow("low_confidence", leaving=False):
            return
        turn.state.open_question = None
    # A clear question the documents do not answer is the agent's miss, not the caller's: say so honestly, never
    # count it towards a hand-off for "low confidence".
    if not turn.low_confidence_counted:
        turn.state.low_confidence_streak = 0
    if not statement and is_off_topic(question):  # "who won the game?": no follow-up offered, nothing kept
        turn.say(cfg.off_topic_text)
        _ask_for_more(turn, node)
        return
    if not statement and not is_request(question) and tentative(result, cfg):
        say_tentative(turn, result, question, cfg)
        turn.state.checking = question
        turn.ask(cfg.tentative_check)
        return
    if is_request(question):
        note_request(turn, question)
    elif statement:
        turn.say("Got it, thanks.")
    else:
        say_not_found(turn, cfg, question)
    _ask_for_more(turn, node)


def _ask_for_more(turn: "Turn", node: "RagAnswerNode") -> None:
    turn.state.asked_more = True
    turn.ask(node.config.follow_up)
