"""The questions table: every question of a business asked once at the RAG Answer node, on a fresh state.

One call goes through the Lead Gate (a typed email with its consent ticket, then a name) to reach the RAG Answer
node; its ``FlowState`` is kept, and every question is put to ``engine.respond`` on a copy of it, with the
knowledge service the real calls use. So each question is judged alone (no earlier question colours it) but by
exactly the code a call runs. What counts is what the agent says; an ``answer`` action to a question the document
does not answer is an invented answer. The closest passage offered as such ("Here's the closest I have: ... Does
that answer your question?") is not presented as the answer: it is counted apart (``tentative``), and for an
answerable question it passes only when it holds the fact.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from bench.conversations.facts import missing_facts
from bench.conversations.material import Business, Question
from bench.conversations.setup import BusinessSetup, acting, consent_ticket

WARM_UP_QUESTION = "what do you do?"
REACH_ANSWERS = ("My name is Sam Taylor.", "Yes, that's right, and I agree.", "Yes.")


@dataclass
class QuestionResult:
    business: str
    id: str
    ask: str
    answerable: bool
    reply: str
    answered: bool  # the step holds an ``answer`` action presented as the answer
    tentative: bool  # the closest passage was offered as such, and the caller asked whether it answers
    passed: bool  # answerable: every fact is in the reply; out of scope: nothing presented as the answer
    missing: list[list[str]]
    expected: list[list[str]]
    step_ms: float
    node_after: str | None

    def to_json(self) -> dict:
        return asdict(self)


class SearchTimeouts(logging.Handler):
    """Counts the knowledge adapter's "search over N s" warnings: an answer missed for time, not for content."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "knowledge search over" in record.getMessage():
            self.count += 1


def rag_answer_state(setup: BusinessSetup):
    """(flow, state) of a call that has just reached the RAG Answer node."""
    from quantum_voice.services.conversations import CallSetup, flow_of, start_conversation, take_turn

    ticket = consent_ticket(setup, "bench.questions@example.com")
    with acting(setup) as repo:
        outcome = start_conversation(repo, setup.campaign_id, CallSetup(
            channel="api", is_test=True, caller_email="bench.questions@example.com", consent_record_id=ticket))
        transcript = [outcome.agent]
        for line in REACH_ANSWERS:
            if outcome.step.node_type == "rag_answer":
                break
            outcome = take_turn(repo, outcome.conversation.id, line)
            transcript += [line, outcome.agent]
        if outcome.step.node_type != "rag_answer":
            raise RuntimeError(f"{setup.business.key}: could not reach the RAG Answer node: {transcript}")
        return flow_of(repo, outcome.conversation), outcome.step.state


def ask_questions(setup: BusinessSetup, timeouts: SearchTimeouts | None = None) -> list[QuestionResult]:
    from quantum_voice.core.clock import utcnow
    from quantum_voice.core.db import session_scope
    from quantum_voice.models.campaigns import Campaign
    from quantum_voice.services.flows import engine
    from quantum_voice.services.flows.knowledge_adapter import ServiceKnowledgeSearch
    from quantum_voice.services.flows.step import CallContext

    flow, state = rag_answer_state(setup)
    results = []
    with session_scope() as session:
        campaign = session.get(Campaign, setup.campaign_id)

        def step(text: str):
            ctx = CallContext(organization_id=setup.organization_id, now=utcnow(),
                              knowledge=ServiceKnowledgeSearch(session), consent_wording=campaign.privacy_wording,
                              policy_version=campaign.privacy_policy_version)
            started = time.perf_counter()
            result = engine.respond(flow, state.model_copy(deep=True), text, ctx)
            return result, (time.perf_counter() - started) * 1000

        step(WARM_UP_QUESTION)  # models and caches load outside every timing
        for question in setup.business.questions.values():
            result, ms = step(question.ask)
            results.append(_judge(setup.business, question, result, ms))
    return results


def _judge(business: Business, question: Question, step, ms: float) -> QuestionResult:
    reply = step.reply
    answers = step.of_kind("answer")
    tentative = any(a.data.get("tentative") for a in answers)
    answered = any(not a.data.get("tentative") for a in answers)
    missing = [list(group) for group in missing_facts(reply, question.facts)] if question.answerable else []
    passed = not missing if question.answerable else not answered
    return QuestionResult(business=business.key, id=question.id, ask=question.ask, answerable=question.answerable,
                          reply=reply, answered=answered, tentative=tentative, passed=passed, missing=missing,
                          expected=[list(g) for g in question.facts], step_ms=round(ms, 1), node_after=step.node_id)
