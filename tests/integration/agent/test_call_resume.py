"""A call survives its voice sidecar dying mid-call: two sidecar media servers in one process (different worker
ids), the caller's browser on the first; the first stops dead (its event loop frozen, as a killed process: no
hang-up, nothing more written); the app resumes the call on the second with the page's call token, and the same
conversation carries on where it was — over WebRTC through the app's service, and over the call socket through the
app's relay.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from agent.brain import CallBrain
from agent.heartbeat import report_heartbeat
from quantum_voice.api import create_api
from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import get_engine, session_scope
from quantum_voice.core.errors import Conflict
from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead
from quantum_voice.services.flows.engine import CUT_OFF
from quantum_voice.services.public_calls import call_tickets, email_gate, placement
from tests.integration.agent.support import SidecarThread, brochure_campaign, is_agent, sqlite_only, started_server
from tests.integration.agent.test_socket_transport import receive_until, refused
from tests.integration.agent.test_webrtc_transport import Browser

IP = "203.0.113.7"
# enough of an offer for the app's checks: it never reaches a sidecar
OFFER = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n"


def in_session(fn, *args, **kwargs):
    with Session(get_engine(), expire_on_commit=False) as session:
        return fn(session, *args, **kwargs)


def live(campaign_id: int) -> str:
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        campaign.status = "live"
        return campaign.slug


def transcript(conversation_id: int) -> list[TranscriptTurn]:
    with session_scope() as session:
        return list(session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == conversation_id)
                                 .order_by(TranscriptTurn.seq)).all())


@sqlite_only
def test_a_call_whose_sidecar_dies_mid_call_carries_on_on_another_sidecar(engine, voice):
    campaign_id = brochure_campaign()
    with session_scope() as session:
        ticket = email_gate.open_gate(session, live(campaign_id), email="john.smith@example.com", consent=True,
                                      ip=IP, user_agent="test", page_opened_at=utcnow().timestamp() - 5)
    sidecar_a = SidecarThread(voice, worker_id="sidecar-a:1")
    report_heartbeat("sidecar-a:1", media_url=sidecar_a.server.url)

    async def scenario():
        first, again, sidecar_b = Browser(), Browser(), None
        try:
            placed = await asyncio.to_thread(in_session, placement.place_call, ticket.token,
                                             sdp=await first.offer(), ip=IP, user_agent="test")
            await first.accept(placed.sdp)
            await first.wait_for(is_agent(0))
            listening = await first.wait_until_agent_listens()
            first.microphone.say("My name is John Smith.")
            at, asked = await first.wait_for(is_agent(1), after=listening)
            await first.wait_until_agent_listens(after=at)

            sidecar_b = await started_server(voice, worker_id="sidecar-b:1")
            report_heartbeat("sidecar-b:1", media_url=sidecar_b.url)
            with pytest.raises(Conflict, match="still connected"):  # while A runs the call, it stays there
                await asyncio.to_thread(in_session, placement.resume_call, placed.call_token, sdp=OFFER, ip=IP)

            sidecar_a.freeze()  # A dies mid-call; its heartbeat is still fresh
            await first.close()
            resumed = await asyncio.to_thread(in_session, placement.resume_call, placed.call_token,
                                              sdp=await again.offer(), ip=IP)
            await again.accept(resumed.sdp)
            _, line = await again.wait_for(is_agent(0))
            listening = await again.wait_until_agent_listens()
            again.microphone.say("How much is the monthly HOA fee?")
            _, answer = await again.wait_for(is_agent(1), after=listening)
            again.hang_up()
            _, ended = await again.wait_for(lambda m: m["type"] == "ended")
            return placed, asked, resumed, line, answer, ended, again.loud_frames
        finally:
            await first.close()
            await again.close()
            if sidecar_b is not None:
                await sidecar_b.stop()

    try:
        placed, asked, resumed, line, answer, ended, heard = asyncio.run(scenario())
    finally:
        sidecar_a.stop()  # what A still held closes, and leaves the conversation B took over alone

    assert resumed.conversation_id == placed.conversation_id and resumed.call_token != placed.call_token
    question = asked["text"].rsplit(". ", 1)[-1]  # "Thanks, John! ... What would you like to know?"
    assert line["text"] == f"{CUT_OFF} {question}" and "know" in question, "no greeting: the question again"
    assert heard > 20, "the resume line was spoken"
    assert "$450" in answer["text"], "the flow carried on: the knowledge base answers the question"
    assert ended == {"type": "ended", "reason": "caller_hung_up"}
    with session_scope() as session:
        [row] = session.exec(select(Conversation)).all()
        lead = session.exec(select(Lead).where(Lead.conversation_id == row.id)).one()
    assert row.id == placed.conversation_id and row.worker_id == "sidecar-b:1"
    assert row.status == "ended" and row.end_reason == "caller_hung_up"
    assert lead.name and "john" in lead.name.lower() and lead.email == "john.smith@example.com", \
        "the name from before the drop is kept"
    turns = transcript(row.id)
    assert [t.seq for t in turns] == list(range(len(turns))), "one transcript, numbered on"
    assert [t.speaker for t in turns] == ["agent", "caller", "agent", "agent", "caller", "agent"]
    assert turns[3].text == line["text"] and "metrics" in turns[3].meta


@sqlite_only
def test_a_lost_call_resumes_over_the_call_socket_through_the_app(engine, voice):
    campaign_id = brochure_campaign()
    lost = CallBrain(campaign_id, worker_id="gone-host:1")  # its sidecar is gone: no heartbeat
    asyncio.run(lost.start())
    asked = asyncio.run(lost.respond("My name is John Smith")).text
    token = placement.call_token_for(organization_id=lost.organization_id, worker_id="gone-host:1",
                                     call_id="lost", conversation_id=lost.conversation_id, campaign_id=campaign_id)
    sidecar_b = SidecarThread(voice, worker_id="sidecar-b:1")
    report_heartbeat("sidecar-b:1", media_url=sidecar_b.server.url)

    async def sidecar_refusals():  # the sidecar's own checks, whatever the app let through
        start = {"type": "resume", "conversation_id": lost.conversation_id, "campaign_id": campaign_id}
        async with aiohttp.ClientSession() as http:
            return (await refused(http, sidecar_b.server, json.dumps(start)),
                    await refused(http, sidecar_b.server, json.dumps({**start, "campaign_id": campaign_id + 1})))

    try:
        with TestClient(create_api()).websocket_connect(f"/api/public/calls/socket?resume={token}") as ws:
            started = ws.receive_json()
            resumed, _ = receive_until(ws, is_agent(0))
            _, audio = receive_until(ws, audio=10)
            ws.send_text(json.dumps({"type": "hangup"}))
            ended, _ = receive_until(ws, lambda m: m["type"] == "ended")
        (ended_call, ended_code), (other_campaign, _) = asyncio.run(sidecar_refusals())
    finally:
        sidecar_b.stop()

    assert started["type"] == "started" and started["conversation_id"] == lost.conversation_id
    assert resumed[-1]["text"] == f"{CUT_OFF} What's the best email address to reach you?" and "email" in asked
    assert any(chunk.strip(b"\0") for chunk in audio), "the resume line is spoken as PCM"
    assert ended[-1] == {"type": "ended", "reason": "caller_hung_up"}
    assert call_tickets.unseal("call", started["call_token"], "")["worker"] == "sidecar-b:1"
    with session_scope() as session:
        row = session.get(Conversation, lost.conversation_id)
    assert row.worker_id == "sidecar-b:1" and row.end_reason == "caller_hung_up"
    assert [t.seq for t in transcript(row.id)] == [0, 1, 2, 3] and transcript(row.id)[3].text.startswith(CUT_OFF)
    assert ended_call["status"] == 409 and ended_call["code"] == "call_ended" and ended_code == 1008
    assert other_campaign["status"] == 404 and "to resume" in other_campaign["message"]
