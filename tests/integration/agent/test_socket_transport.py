"""Browser calls over the WebSocket fallback: an aiohttp client plays the browser against the sidecar's media server
(its microphone 16 kHz PCM that Piper synthesized, paced in 20 ms chunks), the real voice loop answers over the
socket; a WebRTC call that never connected moves onto a socket; and the app's public route relays a call from the
email gate's ticket to a sidecar running in its own thread.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack
from fastapi.testclient import TestClient
from sqlmodel import select

from agent.heartbeat import report_heartbeat
from agent.providers.audio import as_int16, resample
from agent.providers.piper_tts import synthesize_pcm
from agent.transports.signalling import MediaServer
from quantum_voice.api import create_api
from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.models.calls import ConsentRecord, Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead
from quantum_voice.services.media import SIGNALLING_HEADER, signalling_key
from quantum_voice.services.public_calls import email_gate, placement
from tests.integration.agent.support import (WAIT, CallEvents, SidecarThread, brochure_campaign, conversation,
                                             is_agent, sqlite_only, started_server, words)

RATE = 16000
CHUNK = 320  # 20 ms


def is_caller(m: dict) -> bool:
    return m["type"] == "transcript" and m["speaker"] == "caller"


def speech(text: str) -> np.ndarray:
    pcm, rate = synthesize_pcm(text)
    return resample(as_int16(pcm), rate, RATE)


class SocketBrowser(CallEvents):
    """A caller's browser on the call socket: its microphone sends 16 kHz PCM in 20 ms chunks in real time (about
    a second of silence first, silence whenever the caller says nothing), the agent's audio is counted and the
    events are kept."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__()
        self.ws = ws
        self.chunk_sizes: set[int] = set()
        self.loud_chunks = 0
        self.closed = asyncio.Event()
        self._pending = np.zeros(RATE, dtype=np.int16)
        self._tasks = [asyncio.ensure_future(self._listen()), asyncio.ensure_future(self._speak())]

    def say(self, text: str) -> None:
        self._pending = np.concatenate([self._pending, speech(text), np.zeros(RATE, dtype=np.int16)])

    async def send(self, message: dict) -> None:
        await self.ws.send_str(json.dumps(message))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.ws.close()

    async def _listen(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(message.data))
            elif message.type == aiohttp.WSMsgType.BINARY:
                samples = np.frombuffer(message.data, dtype=np.int16).astype(np.float32)
                self.chunk_sizes.add(len(message.data))
                if np.sqrt(np.mean(samples * samples)) > 200:
                    self.loud_chunks += 1
        self.closed.set()

    async def _speak(self) -> None:
        began, sent = time.monotonic(), 0
        while not self.ws.closed:
            chunk, self._pending = self._pending[:CHUNK], self._pending[CHUNK:]
            chunk = np.concatenate([chunk, np.zeros(CHUNK - len(chunk), dtype=np.int16)])
            try:
                await self.ws.send_bytes(chunk.tobytes())
            except ConnectionError:
                return
            sent += 1
            await asyncio.sleep(max(0.0, began + sent * 0.02 - time.monotonic()))


async def open_socket(http: aiohttp.ClientSession, server: MediaServer, start: dict) -> tuple[SocketBrowser, dict]:
    ws = await http.ws_connect(f"{server.url}/calls/socket", headers={SIGNALLING_HEADER: signalling_key()})
    await ws.send_str(json.dumps(start))
    browser = SocketBrowser(ws)
    _, first = await browser.wait_for(lambda m: True, timeout=30)
    return browser, first


async def refused(http: aiohttp.ClientSession, server: MediaServer, first: str) -> tuple[dict, int | None]:
    """The sidecar's answer to a socket whose first message is ``first``, and the code it closed with."""
    async with http.ws_connect(f"{server.url}/calls/socket", headers={SIGNALLING_HEADER: signalling_key()}) as ws:
        await ws.send_str(first)
        answer = json.loads((await ws.receive(timeout=30)).data)
        await ws.receive(timeout=5)  # the close
        return answer, ws.close_code


@sqlite_only
def test_a_socket_call_greets_hears_the_caller_answers_in_pcm_and_ends_when_the_browser_hangs_up(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        server = await started_server(voice)
        async with aiohttp.ClientSession() as http:
            browser, started = await open_socket(http, server, {
                "type": "start", "campaign_id": campaign_id,
                "setup": {"channel": "web", "is_test": True, "future_field": "ignored"}})
            try:
                _, greeting = await browser.wait_for(is_agent(0))
                heard_greeting = await browser.wait_until_agent_listens()
                browser.say("My name is John Smith.")
                _, caller = await browser.wait_for(is_caller, after=heard_greeting)
                _, reply = await browser.wait_for(is_agent(1))
                await browser.send({"type": "hangup"})
                _, ended = await browser.wait_for(lambda m: m["type"] == "ended")
                await asyncio.wait_for(browser.closed.wait(), 10)
                return (started, greeting, caller, reply, ended, browser.loud_chunks, browser.chunk_sizes,
                        browser.messages[0], len(server.calls.calls))
            finally:
                await browser.close()
                await server.stop()

    started, greeting, caller, reply, ended, loud, sizes, first, calls_left = asyncio.run(scenario())
    assert first == started and started["type"] == "started" and started["call_id"]
    assert "Harbor View" in greeting["text"] and greeting["interrupted"] is False and greeting["heard"] is None
    assert {"john", "smith"} <= words(caller["text"])
    assert reply["text"] and not reply["interrupted"]
    assert loud > 50, "the browser heard the agent's voice, not silence"
    assert sizes == {640}, "the agent's audio comes as 20 ms of 16 kHz s16le"
    assert ended == {"type": "ended", "reason": "caller_hung_up"} and calls_left == 0
    row = conversation(started["conversation_id"])
    assert row.status == "ended" and row.end_reason == "caller_hung_up"
    assert row.channel == "web" and row.is_test and row.worker_id == "media-host:1"


@sqlite_only
def test_a_webrtc_call_that_never_connected_moves_onto_the_socket_once(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        server = await started_server(voice)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(AudioStreamTrack())
        pc.createDataChannel("events")
        await pc.setLocalDescription(await pc.createOffer())
        async with aiohttp.ClientSession() as http:
            response = await http.post(f"{server.url}/calls", headers={SIGNALLING_HEADER: signalling_key()},
                                       json={"campaign_id": campaign_id, "sdp": pc.localDescription.sdp,
                                             "type": "offer"})
            answer = await response.json()
            await pc.close()  # the page gave up on WebRTC without ever connecting
            browser, started = await open_socket(http, server, {"type": "take_over", "call_id": answer["call_id"]})
            try:
                _, greeting = await browser.wait_for(is_agent(0))
                again = await refused(http, server, json.dumps({"type": "take_over", "call_id": answer["call_id"]}))
                await browser.send({"type": "hangup", "reason": "caller_left_page"})
                _, ended = await browser.wait_for(lambda m: m["type"] == "ended")
                return answer, started, greeting, again, ended
            finally:
                await browser.close()
                await server.stop()

    answer, started, greeting, (again, again_code), ended = asyncio.run(scenario())
    assert started == {"type": "started", "call_id": answer["call_id"], "conversation_id": answer["conversation_id"]}
    assert "Harbor View" in greeting["text"], "the greeting nobody heard over WebRTC plays on the socket"
    assert again["status"] == 409 and again["code"] == "already_connected" and again_code == 1008
    assert ended == {"type": "ended", "reason": "caller_left_page"}
    with session_scope() as session:
        [only] = session.exec(select(Conversation)).all()
    assert only.id == answer["conversation_id"] and only.end_reason == "caller_left_page"


@sqlite_only
def test_the_call_socket_needs_the_apps_key_and_explains_what_it_refuses(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        server = await started_server(voice)
        full = await started_server(voice, capacity=0, worker_id="media-host:2")
        try:
            async with aiohttp.ClientSession() as http:
                statuses = []
                for key in ("", "not-the-key"):
                    with pytest.raises(aiohttp.WSServerHandshakeError) as handshake:
                        await http.ws_connect(f"{server.url}/calls/socket", headers={SIGNALLING_HEADER: key})
                    statuses.append(handshake.value.status)
                not_a_socket = await http.get(f"{server.url}/calls/socket",
                                              headers={SIGNALLING_HEADER: signalling_key()})
                start = {"type": "start", "campaign_id": campaign_id}
                return (statuses, not_a_socket.status, await not_a_socket.json(),
                        await refused(http, server, "hello"),
                        await refused(http, server, json.dumps({**start, "campaign_id": 999_999})),
                        await refused(http, server, json.dumps({**start, "setup": {"qr_code_id": "seven"}})),
                        await refused(http, server, json.dumps({"type": "take_over", "call_id": "gone"})),
                        await refused(http, full, json.dumps(start)))
        finally:
            await server.stop()
            await full.stop()

    statuses, plain_status, plain, not_json, unknown, bad_setup, gone, at_capacity = asyncio.run(scenario())
    assert statuses == [401, 401]
    assert plain_status == 400 and "WebSocket" in plain["error"]["message"]
    assert not_json[0]["code"] == "bad_request" and '"type": "start"' in not_json[0]["message"] and not_json[1] == 1008
    assert unknown[0]["status"] == 404 and "999999" in unknown[0]["message"] and unknown[1] == 1008
    assert bad_setup[0]["status"] == 422 and "qr_code_id" in bad_setup[0]["message"]
    assert gone[0]["status"] == 404 and "Start a new call" in gone[0]["message"]
    assert at_capacity[0]["status"] == 503 and "VOICE_MAX_CALLS" in at_capacity[0]["message"]
    assert at_capacity[1] == 1011
    with session_scope() as session:
        assert session.exec(select(Conversation)).all() == [], "a refused call opens no conversation"


def receive_until(ws, matches=lambda m: False, *, audio: int = 0, timeout: float = WAIT):
    """Messages from the app's socket until a text one ``matches`` or, given ``audio``, that many binary ones
    have come: (texts, audio chunks)."""
    deadline, texts, chunks = time.monotonic() + timeout, [], []
    while time.monotonic() < deadline:
        message = ws.receive()
        if message.get("bytes") is not None:
            chunks.append(message["bytes"])
            if audio and len(chunks) >= audio:
                return texts, chunks
        elif message.get("text") is not None:
            texts.append(json.loads(message["text"]))
            if matches(texts[-1]):
                return texts, chunks
        else:
            raise AssertionError(f"the socket closed: {message}; got {texts}")
    raise AssertionError(f"no such message within {timeout:.0f} s; got {texts}")


@sqlite_only
def test_the_app_relays_a_socket_call_from_the_gate_ticket_to_a_sidecar_once(engine, voice):
    campaign_id = brochure_campaign()
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        campaign.status, slug = "live", campaign.slug
    with session_scope() as session:
        ticket = email_gate.open_gate(session, slug, email="ana@example.com", consent=True, ip="203.0.113.7",
                                      user_agent="test", page_opened_at=utcnow().timestamp() - 5)
    sidecar = SidecarThread(voice)
    report_heartbeat("media-host:1", active_calls=0, capacity=4, media_url=sidecar.server.url)
    client = TestClient(create_api())
    try:
        # an offer the sidecar cannot use leaves the ticket unused, for the socket
        listen_only = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\n"
        webrtc = client.post("/api/public/calls", json={"ticket": ticket.token, "sdp": listen_only})
        with client.websocket_connect(f"/api/public/calls/socket?ticket={ticket.token}") as ws:
            started = ws.receive_json()
            greeted, _ = receive_until(ws, is_agent(0))
            _, audio = receive_until(ws, audio=10)
            ws.send_bytes(bytes(CHUNK * 2))  # the microphone's silence goes through too
            ws.send_text(json.dumps({"type": "hangup"}))
            ended, _ = receive_until(ws, lambda m: m["type"] == "ended")
        with client.websocket_connect(f"/api/public/calls/socket?ticket={ticket.token}") as ws:
            reused = ws.receive_json()
            reused_close = ws.receive()
        with client.websocket_connect(f"/api/public/calls/socket?call_token={started['call_token']}") as ws:
            over = ws.receive_json()
    finally:
        sidecar.stop()

    assert webrtc.status_code == 400 and webrtc.json()["error"]["code"] == "webrtc_unavailable"
    assert started["type"] == "started" and started["call_token"] and started["conversation_id"]
    assert "Harbor View" in greeted[-1]["text"]
    assert {len(chunk) for chunk in audio} == {640} and any(chunk.strip(b"\0") for chunk in audio)
    assert ended[-1] == {"type": "ended", "reason": "caller_hung_up"}
    assert reused["type"] == "error" and "already placed" in reused["message"] and reused_close["code"] == 1008
    assert over["type"] == "error" and "ended" in over["message"]
    with session_scope() as session:
        row = session.get(Conversation, started["conversation_id"])
        assert row.status == "ended" and row.end_reason == "caller_hung_up" and row.channel == "web"
        record = session.exec(select(ConsentRecord).where(ConsentRecord.public_id == ticket.consent_id)).one()
        lead = session.exec(select(Lead).where(Lead.conversation_id == row.id)).one()
        assert record.conversation_id == row.id and lead.email == "ana@example.com"
    with session_scope() as session:
        assert placement.report_metrics(session, started["call_token"], {"connect_ms": 120}) == 1
