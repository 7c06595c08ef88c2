"""The sidecar's bookkeeping on a real database: the flow as livekit-agents' LLM, restarts, heartbeats."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from livekit.agents import llm
from sqlmodel import select

from agent.__main__ import recover
from agent.brain import APOLOGY, CallBrain, FlowLLM
from agent.heartbeat import report_heartbeat
from quantum_voice.core.db import session_scope
from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.services.conversations import CallSetup
from tests.integration.agent.support import brochure_campaign, conversation


def ask(flow_llm: FlowLLM, text: str) -> str:
    async def run():
        ctx = llm.ChatContext.empty()
        ctx.add_message(role="user", content=text)
        chunks = []
        async with flow_llm.chat(chat_ctx=ctx) as stream:
            async for chunk in stream:
                chunks.append(chunk.delta.content if chunk.delta else "")
        return "".join(chunks)
    return asyncio.run(run())


def test_the_flow_answers_as_the_sessions_llm_and_a_failed_step_is_an_apology_not_silence(engine):
    brain = CallBrain(brochure_campaign(), setup=CallSetup(channel="web"), worker_id="host:1")
    greeting = asyncio.run(brain.start())
    assert "Harbor View" in greeting.text and conversation(brain.conversation_id).worker_id == "host:1"
    flow_llm = FlowLLM(brain)
    assert ask(flow_llm, "My name is John Smith") == brain.last.text and "email" in brain.last.text.lower()

    with session_scope() as session:  # the call's row disappears under the step: the caller still hears a reply
        session.delete(session.get(Conversation, brain.conversation_id))
    assert ask(flow_llm, "john at example dot com") == APOLOGY and flow_llm.last.failed


def test_a_restarted_sidecar_closes_the_calls_its_predecessor_left_open(engine):
    campaign_id = brochure_campaign()
    orphan = CallBrain(campaign_id, worker_id="host:111")
    alive = CallBrain(campaign_id, worker_id="host:222")
    for brain in (orphan, alive):
        asyncio.run(brain.start())
        asyncio.run(brain.respond("My name is John Smith"))
    report_heartbeat("host:222")

    assert recover("host:333") == [orphan.conversation_id]
    closed = conversation(orphan.conversation_id)
    assert closed.status == "ended" and closed.end_reason == "voice_worker_lost" and closed.ended_at is not None
    assert conversation(alive.conversation_id).status == "active"
    with session_scope() as session:
        turns = session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == orphan.conversation_id))
        assert len(turns.all()) >= 3, "the transcript so far is kept"
    assert recover("host:333") == [], "closing is done once"


def test_a_long_call_is_handed_off_by_time_even_while_the_caller_is_quiet(engine):
    brain = CallBrain(brochure_campaign(), setup=CallSetup(channel="web"))
    asyncio.run(brain.start())
    assert asyncio.run(brain.tick()) is None, "nothing fires early in the call"

    with session_scope() as session:  # the lead-capture template hands off after 5 minutes
        row = session.get(Conversation, brain.conversation_id)
        engine_state = dict(row.flow_state["engine"])
        engine_state["started_at"] = (datetime.fromisoformat(engine_state["started_at"])
                                      - timedelta(minutes=6)).isoformat()
        row.flow_state = {**row.flow_state, "engine": engine_state}
    reply = asyncio.run(brain.tick())
    assert reply is not None and reply.handoff and reply.handoff.get("reason") == "duration" and reply.text
    assert conversation(brain.conversation_id).status == "handed_off"
    assert asyncio.run(brain.tick()) is None, "a call already with a person is left alone"
