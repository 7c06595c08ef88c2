"""The sidecar's bookkeeping on a real database: the flow as livekit-agents' LLM, restarts (lost calls: resumed
elsewhere, or closed after their grace period), heartbeats."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from livekit.agents import llm
from sqlmodel import select

from agent.__main__ import recover
from agent.brain import APOLOGY, CallBrain, FlowLLM
from agent.heartbeat import report_heartbeat
from quantum_voice.core.clock import set_clock, utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import Conflict, NotFound
from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.services.conversations import CallSetup
from quantum_voice.worker import close_lost_calls
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


def later(seconds: float) -> datetime:
    """``seconds`` from now, for the clock of the code under test."""
    moment = utcnow() + timedelta(seconds=seconds)
    set_clock(lambda: moment)
    return moment


def test_a_restarted_sidecar_closes_the_calls_its_predecessor_left_open_once_they_can_no_longer_be_resumed(engine):
    campaign_id = brochure_campaign()
    orphan = CallBrain(campaign_id, worker_id="host:111")
    alive = CallBrain(campaign_id, worker_id="host:222")
    for brain in (orphan, alive):
        asyncio.run(brain.start())
        asyncio.run(brain.respond("My name is John Smith"))
    report_heartbeat("host:222")

    assert recover("host:333") == [], "inside its grace period a lost call stays open, to be resumed"
    assert conversation(orphan.conversation_id).status == "active"
    later(get_settings().call_resume_grace_seconds + 1)
    report_heartbeat("host:222")
    assert recover("host:333") == [orphan.conversation_id]
    closed = conversation(orphan.conversation_id)
    assert closed.status == "ended" and closed.end_reason == "voice_worker_lost" and closed.ended_at is not None
    assert conversation(alive.conversation_id).status == "active"
    with session_scope() as session:
        turns = session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == orphan.conversation_id))
        assert len(turns.all()) >= 3, "the transcript so far is kept"
    assert recover("host:333") == [], "closing is done once"


def test_the_grace_period_counts_from_the_lost_sidecars_last_heartbeat_and_the_app_closes_the_call_after_it(engine):
    grace = get_settings().call_resume_grace_seconds
    lost = CallBrain(brochure_campaign(), worker_id="host:111")
    asyncio.run(lost.start())
    report_heartbeat("host:111")  # it was alive until now, then died without a word
    later(grace - 5)  # long past the heartbeat timeout: the sidecar counts as gone
    assert close_lost_calls() == [] and conversation(lost.conversation_id).status == "active"
    later(grace + 1)
    assert close_lost_calls() == [lost.conversation_id], "the app's background worker closes it"
    assert conversation(lost.conversation_id).end_reason == "voice_worker_lost"


def test_a_sidecar_restarting_under_its_predecessors_id_leaves_its_calls_resumable_then_closes_them(engine):
    grace = get_settings().call_resume_grace_seconds
    left = CallBrain(brochure_campaign(), worker_id="host:111")
    asyncio.run(left.start())
    report_heartbeat("host:111")

    assert recover("host:111") == []  # the same id starts again (a container restarted: same host, same pid)
    report_heartbeat("host:111")
    released = conversation(left.conversation_id)
    assert released.status == "active" and released.worker_id == "host:111 (restarted)", \
        "not taken for one of the new process's calls"
    later(grace + 1)
    report_heartbeat("host:111")  # the new process is alive, but the call was never its own
    assert close_lost_calls() == [left.conversation_id]


def test_another_sidecar_resumes_a_lost_call_where_it_was_with_no_new_conversation(engine):
    campaign_id = brochure_campaign()
    first = CallBrain(campaign_id, setup=CallSetup(channel="web"), worker_id="host:111")
    asyncio.run(first.start())
    asked = asyncio.run(first.respond("My name is John Smith")).text

    second = CallBrain(campaign_id, worker_id="host:222", conversation_id=first.conversation_id)
    line = asyncio.run(second.resume())
    assert line.text.startswith("Sorry, we got cut off.") and line.text.endswith(asked.split(". ")[-1])
    assert second.organization_id == first.organization_id and line.agent_seq == 3
    row = conversation(first.conversation_id)
    assert row.worker_id == "host:222" and row.status == "active"
    reply = asyncio.run(second.respond("john at example dot com"))
    assert "Is that right" in reply.text and reply.agent_seq == 5
    with session_scope() as session:
        assert len(session.exec(select(Conversation)).all()) == 1
        turns = session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == first.conversation_id)
                             .order_by(TranscriptTurn.seq)).all()
    assert [t.seq for t in turns] == list(range(6)) and [t.speaker for t in turns][2:] == [
        "agent", "agent", "caller", "agent"]

    asyncio.run(second.hang_up())
    with pytest.raises(Conflict, match="already ended"):
        asyncio.run(CallBrain(campaign_id, worker_id="host:333", conversation_id=first.conversation_id).resume())
    with pytest.raises(NotFound, match="to resume"):  # not a call of that campaign
        asyncio.run(CallBrain(campaign_id + 1, worker_id="host:333", conversation_id=first.conversation_id).resume())


def test_a_long_call_asks_for_a_person_by_time_even_while_the_caller_is_quiet(engine):
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
    assert reply is not None and reply.handoff and reply.handoff.get("reason") == "duration"
    assert reply.text.startswith("I'm sorry, I can't put you through to a person")  # no one can take it live yet
    assert conversation(brain.conversation_id).status == "active"  # the AI carries on
    assert asyncio.run(brain.tick()) is None, "a hand-off is requested once a call"
