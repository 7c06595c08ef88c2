"""Calls that outlive a failing provider: a whole call through the real loop whose primary STT, Deepgram (a local
fake speaking its wire format), dies after the first caller turn, every caller turn still answered (Whisper takes
over within the turn); and the RAG step's knowledge search, held to 2 s and then answered from Q&A pairs alone."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from sqlmodel import select

from agent.providers import cloud
from agent.resilience import breakers
from agent.simulate import simulate_call
from agent.voice import LocalVoice
from tests.local_server import LocalHTTPServer
from quantum_voice.core.config import Settings, reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.resilience import reset_breakers
from quantum_voice.models.accounts import User
from quantum_voice.models.billing import UsageRecord
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.knowledge import KnowledgeQuery
from quantum_voice.services.flows.knowledge_adapter import ServiceKnowledgeSearch
from quantum_voice.services.knowledge import rephrasing
from quantum_voice.services.knowledge.qna import create_pair
from tests.factories import repo_for
from tests.integration.agent.support import brochure_campaign, sqlite_only
from tests.integration.agent.test_voice_loop import spoken, words
from tests.unit.agent.test_cloud_providers import DEEPGRAM_KEY, FakeDeepgram



@pytest.fixture(scope="module")
def local_voice() -> LocalVoice:
    return LocalVoice.load()  # the process-wide models, loaded once


@pytest.fixture(autouse=True)
def fresh_breakers() -> Iterator[None]:
    breakers.reset()
    yield
    breakers.reset()


@sqlite_only
def test_every_caller_turn_is_answered_when_deepgram_dies_mid_call(engine, local_voice):
    campaign_id = brochure_campaign()
    turns = [spoken("My name is John Smith."), spoken("My email is john dot smith at example dot com."),
             spoken("How much is the monthly HOA fee?")]
    fake = FakeDeepgram(["My name is John Smith."], fail_after=1)

    async def call():
        await fake.start()
        settings = Settings(voice_stt_provider="deepgram", deepgram_api_key=DEEPGRAM_KEY,
                            deepgram_base_url=fake.base_url)
        try:
            return await simulate_call(campaign_id, turns, voice=LocalVoice(settings), fast=True)
        finally:
            await cloud.close_http_session()
            await fake.stop()

    result = asyncio.run(call())

    greeting, *replies = result.reports
    assert len(replies) == len(turns), "one reply per caller turn"
    assert all(r.reply.strip() for r in replies) and all(len(pcm) for pcm, _ in result.agent_audio)
    assert {"john", "smith"} <= words(replies[0].caller)
    assert words(replies[1].caller) & {"email", "example", "com"}, "Whisper heard the turn Deepgram failed on"
    assert {"hoa", "fee"} <= words(replies[2].caller) and "$450" in replies[2].reply
    assert fake.served == 1 and len(fake.of("/v1/listen")) > 1, "Deepgram answered once, then failed"
    assert all(r.headers["Authorization"] == f"Token {DEEPGRAM_KEY}" for r in fake.requests)

    deepgram = breakers.breaker("stt:deepgram", kind="stt")
    assert deepgram.failures >= 1 and deepgram.last_error
    with session_scope() as session:
        usage = {(u.provider, u.unit): u.quantity for u in session.exec(
            select(UsageRecord).where(UsageRecord.conversation_id == result.conversation_id))}
    assert usage[("deepgram", "seconds")] > 1 and usage[("local-whisper", "seconds")] > 2


# ---------------------------------------------------------------- knowledge: 2 s, then the Q&A pairs alone


class SlowChatCompletions:
    """An OpenAI-compatible ``POST /v1/chat/completions`` that takes ``delay`` seconds (the rephrasing model)."""

    def __init__(self, delay: float) -> None:
        delay_of = delay

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay_of)
                body = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
                                   "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                       "role": "assistant", "content": "The fee is $450 a month."}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = LocalHTTPServer(Handler).start()
        self.base_url = f"{self.server.url}/v1"

    def close(self) -> None:
        self.server.stop()


def knowledge_search(campaign_id: int, session, **options):
    campaign = session.get(Campaign, campaign_id)
    search = ServiceKnowledgeSearch(session, **options)
    return campaign, lambda question: search.search(organization_id=campaign.organization_id,
                                                    knowledge_base_id=campaign.knowledge_base_id, question=question,
                                                    threshold=0.5)


def finish_abandoned_searches() -> None:
    for thread in threading.enumerate():
        if thread.name == "knowledge-search":
            thread.join(10)


def logged_questions(knowledge_base_id: int) -> list[KnowledgeQuery]:
    with session_scope() as session:
        return list(session.exec(select(KnowledgeQuery).where(KnowledgeQuery.knowledge_base_id == knowledge_base_id)))


def test_a_knowledge_search_held_up_by_a_slow_provider_gives_up_after_two_seconds(engine, monkeypatch):
    campaign_id = brochure_campaign()
    slow_model = SlowChatCompletions(delay=2.6)
    monkeypatch.setenv("KNOWLEDGE_REPHRASE_MODEL", "gpt-test")
    monkeypatch.setenv("OPENAI_BASE_URL", slow_model.base_url)
    monkeypatch.setenv("KNOWLEDGE_REPHRASE_TIMEOUT_SECONDS", "5")
    reset_settings()
    rephrasing.reset_clients()
    try:
        with session_scope() as session:
            campaign, ask = knowledge_search(campaign_id, session)
            began = time.monotonic()
            found = ask("How much is the monthly HOA fee?")  # answered from the brochure, then sent to be reworded
            waited = time.monotonic() - began
    finally:
        finish_abandoned_searches()
        slow_model.close()
        rephrasing.reset_clients()
        reset_breakers()
    assert 1.9 <= waited < 2.5, "the 2 s budget, not the model's 2.6 s"
    assert found is None, "no Q&A pair covers it: the node's 'not found' path answers the caller"
    [logged] = logged_questions(campaign.knowledge_base_id)
    assert not logged.answered and logged.query == "How much is the monthly HOA fee?"


def test_out_of_time_the_q_and_a_pairs_still_answer(engine):
    campaign_id = brochure_campaign()
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        owner = session.exec(select(User)).first()
        create_pair(repo_for(session, owner), campaign.knowledge_base_id, "How much is the HOA fee?",
                    "The HOA fee is $450 a month, water included.")
    with session_scope() as session:
        _, ask = knowledge_search(campaign_id, session, timeout_seconds=1e-6)  # the budget is gone at once
        found = ask("What is the HOA fee?")
    finish_abandoned_searches()
    assert found.text == "The HOA fee is $450 a month, water included." and found.citations == ["Q&A"]
    [logged] = logged_questions(campaign.knowledge_base_id)
    assert logged.answered and logged.conversation_id is None


def test_in_time_the_full_search_answers_and_logs_as_before(engine):
    campaign_id = brochure_campaign()
    with session_scope() as session:
        campaign, ask = knowledge_search(campaign_id, session, timeout_seconds=30)
        found = ask("How much is the monthly HOA fee?")
    assert "$450" in found.text and found.citations[0].startswith("brochure")
    [logged] = logged_questions(campaign.knowledge_base_id)
    assert logged.answered and logged.confidence == pytest.approx(found.confidence)
