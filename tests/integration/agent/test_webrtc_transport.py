"""Browser calls through the sidecar's media server: a Python aiortc peer plays the browser (its microphone a WAV
Piper synthesized, its "events" data channel opened before the offer), the real voice loop answers over WebRTC,
and the app's side (``open_browser_call``) picks the sidecar from the heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from datetime import timedelta

import av
import httpx
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from sqlmodel import Session, select

from agent.heartbeat import report_heartbeat
from agent.providers.audio import as_int16, resample
from agent.providers.piper_tts import synthesize_pcm
from agent.transports.signalling import MediaServer
from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import get_engine, session_scope
from quantum_voice.core.errors import NotFound, ServiceUnavailable
from quantum_voice.models.calls import Conversation
from quantum_voice.models.system import VoiceWorker
from quantum_voice.services.conversations import CallSetup
from quantum_voice.services.media import (SIGNALLING_HEADER, hang_up_browser_call, live_sidecars, open_browser_call,
                                          signalling_key)
from tests.integration.agent.support import (CallEvents, brochure_campaign, conversation, is_agent, sqlite_only,
                                             started_server, words)

RATE = 48000


class Microphone(MediaStreamTrack):
    """The browser's microphone: silence until the caller says something, 20 ms frames at 48 kHz in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pending = np.zeros(0, dtype=np.int16)
        self._started: float | None = None
        self._sent = 0

    def say(self, text: str) -> None:
        pcm, rate = synthesize_pcm(text)
        speech = resample(as_int16(pcm), rate, RATE)
        silence = np.zeros(RATE, dtype=np.int16)  # ~1 s after it, so the caller's turn ends
        self._pending = np.concatenate([self._pending, speech, silence])

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._started is None:
            self._started = time.monotonic()
        delay = self._started + self._sent * 0.02 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        chunk, self._pending = self._pending[:960], self._pending[960:]
        chunk = np.concatenate([chunk, np.zeros(960 - len(chunk), dtype=np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.time_base, frame.pts = RATE, fractions.Fraction(1, RATE), self._sent * 960
        self._sent += 1
        return frame


class Browser(CallEvents):
    """A caller's browser: microphone track and "events" channel in the offer, the agent's audio counted."""

    def __init__(self) -> None:
        super().__init__()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.microphone = Microphone()
        self.pc.addTrack(self.microphone)
        self.events = self.pc.createDataChannel("events")
        self.arrived: list[float] = []  # monotonic time of each message
        self.events.on("message", self._on_message)
        self.loud_frames = 0
        self._listening: asyncio.Task | None = None
        self.pc.on("track", self._on_track)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    def hang_up(self, **extra) -> None:
        self.events.send(json.dumps({"type": "hangup", **extra}))

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
        await self.pc.close()

    def _on_message(self, text: str) -> None:
        self.messages.append(json.loads(text))
        self.arrived.append(time.monotonic())

    def _on_track(self, track: MediaStreamTrack) -> None:
        async def listen():
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                samples = frame.to_ndarray().astype(np.float32)
                if np.sqrt(np.mean(samples * samples)) > 200:
                    self.loud_frames += 1
        self._listening = asyncio.ensure_future(listen())


@contextlib.asynccontextmanager
async def connected_call(voice, campaign_id: int, **offer):
    """A media server and a browser whose offer it answered (``offer``: more of the offer's body)."""
    server = await started_server(voice)
    browser = Browser()
    try:
        response = await post_offer(server, {"campaign_id": campaign_id, "sdp": await browser.offer(), "type": "offer",
                                             **offer})
        assert response.status_code == 200, response.text
        await browser.accept(response.json()["sdp"])
        yield server, browser, response.json()
    finally:
        await browser.close()
        await server.stop()


async def post_offer(server: MediaServer, body: dict, *, key: str | None = None) -> httpx.Response:
    headers = {SIGNALLING_HEADER: key if key is not None else signalling_key()}
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(f"{server.url}/calls", json=body, headers=headers)


@sqlite_only
def test_a_browser_call_greets_hears_the_caller_answers_and_ends_when_the_browser_hangs_up(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        setup = {"channel": "web", "is_test": True, "future_field": "ignored"}
        async with connected_call(voice, campaign_id, setup=setup) as (server, browser, answer):
            _, greeting = await browser.wait_for(is_agent(0))
            heard_greeting = await browser.wait_until_agent_listens()
            browser.microphone.say("My name is John Smith.")
            _, caller = await browser.wait_for(lambda m: m["type"] == "transcript" and m["speaker"] == "caller",
                                               after=heard_greeting)
            _, reply = await browser.wait_for(is_agent(1))
            browser.hang_up()
            _, ended = await browser.wait_for(lambda m: m["type"] == "ended")
            await asyncio.sleep(0.2)
            return answer, greeting, caller, reply, ended, browser.loud_frames, len(server.calls.calls)

    answer, greeting, caller, reply, ended, loud_frames, calls_left = asyncio.run(scenario())
    assert answer["type"] == "answer" and answer["call_id"] and answer["sdp"].startswith("v=0")
    assert "Harbor View" in greeting["text"] and greeting["interrupted"] is False and greeting["heard"] is None
    assert {"john", "smith"} <= words(caller["text"])
    assert reply["text"] and not reply["interrupted"]
    assert loud_frames > 50, "the browser heard the agent's voice, not silence"
    assert ended == {"type": "ended", "reason": "caller_hung_up"} and calls_left == 0
    row = conversation(answer["conversation_id"])
    assert row.status == "ended" and row.end_reason == "caller_hung_up"
    assert row.channel == "web" and row.is_test and row.worker_id == "media-host:1"


@sqlite_only
def test_talking_over_the_agent_updates_its_turn_on_the_page_with_what_was_heard(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        async with connected_call(voice, campaign_id) as (_, browser, _answer):
            first, greeting = await browser.wait_for(is_agent(0))
            await asyncio.sleep(1.5)
            browser.microphone.say("Sorry to interrupt, is parking included?")
            _, update = await browser.wait_for(is_agent(0), after=first + 1)
            _, caller = await browser.wait_for(lambda m: m["type"] == "transcript" and m["speaker"] == "caller")
            _, answer = await browser.wait_for(is_agent(1))
            return greeting, update, caller, answer

    greeting, update, caller, answer = asyncio.run(scenario())
    assert update["interrupted"] and update["text"] == greeting["text"]
    assert update["heard"] is not None and len(update["heard"]) < len(greeting["text"])
    assert "parking" in words(caller["text"]) and answer["text"] and not answer["interrupted"]


@sqlite_only
def test_when_the_flow_says_goodbye_the_connection_closes_after_the_goodbye_has_played(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        async with connected_call(voice, campaign_id) as (_, browser, answer):
            await browser.wait_for(is_agent(0))
            listening = await browser.wait_until_agent_listens()
            browser.microphone.say("Goodbye.")
            started, goodbye = await browser.wait_for(is_agent(1), after=listening)
            finished, ended = await browser.wait_for(lambda m: m["type"] == "ended")
            for _ in range(250):
                if browser.pc.connectionState == "closed":
                    break
                await asyncio.sleep(0.02)
            return (answer, goodbye, ended, browser.arrived[finished] - browser.arrived[started],
                    browser.pc.connectionState)

    answer, goodbye, ended, heard_for, connection = asyncio.run(scenario())
    pcm, rate = synthesize_pcm(goodbye["text"])
    assert "Have a great day" in goodbye["text"] and not goodbye["interrupted"]
    assert heard_for >= 0.9 * len(as_int16(pcm)) / rate, "the line closed only after the goodbye had played"
    assert ended["reason"] == conversation(answer["conversation_id"]).end_reason and ended["reason"]
    assert connection == "closed", "the sidecar hung up on the browser"
    assert conversation(answer["conversation_id"]).status == "ended"


@sqlite_only
def test_at_the_campaigns_time_limit_the_page_gets_the_goodbye_and_the_call_ends(engine, voice):
    from agent.call import TIME_LIMIT_GOODBYE
    from quantum_voice.models.campaigns import Campaign

    campaign_id = brochure_campaign()
    with session_scope() as session:
        session.get(Campaign, campaign_id).max_call_seconds = 3  # the API allows 30 s and up; short for the test

    async def scenario():
        async with connected_call(voice, campaign_id) as (_, browser, answer):
            _, ended = await browser.wait_for(lambda m: m["type"] == "ended")
            return answer, [m for m in browser.messages if is_agent()(m)], ended

    answer, agent_turns, ended = asyncio.run(scenario())
    assert agent_turns[0]["seq"] == 0 and agent_turns[-1]["text"] == TIME_LIMIT_GOODBYE
    assert ended == {"type": "ended", "reason": "max_duration"}
    assert conversation(answer["conversation_id"]).end_reason == "max_duration"


@sqlite_only
def test_signalling_needs_the_apps_key_and_explains_what_it_refuses(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        server = await started_server(voice)
        full = await started_server(voice, capacity=0, worker_id="media-host:2")
        browser = Browser()
        try:
            offer = {"campaign_id": campaign_id, "sdp": await browser.offer(), "type": "offer", "setup": {}}
            no_key = await post_offer(server, offer, key="")
            wrong_key = await post_offer(server, offer, key="not-the-key")
            async with httpx.AsyncClient() as http:
                health_no_key = await http.get(f"{server.url}/health")
                health = await http.get(f"{server.url}/health", headers={SIGNALLING_HEADER: signalling_key()})
            unknown = await post_offer(server, {**offer, "campaign_id": 999_999})
            bad_sdp = await post_offer(server, {**offer, "sdp": "hello"})
            bad_setup = await post_offer(server, {**offer, "setup": {"qr_code_id": "seven"}})
            at_capacity = await post_offer(full, offer)
            return no_key, wrong_key, health_no_key, health, unknown, bad_sdp, bad_setup, at_capacity
        finally:
            await browser.close()
            await server.stop()
            await full.stop()

    no_key, wrong_key, health_no_key, health, unknown, bad_sdp, bad_setup, at_capacity = asyncio.run(scenario())
    assert no_key.status_code == wrong_key.status_code == health_no_key.status_code == 401
    assert no_key.json()["error"]["code"] == "not_authenticated" and "SECRET_KEY" in no_key.json()["error"]["message"]
    assert health.json() == {"status": "ok", "worker_id": "media-host:1", "active_calls": 0, "capacity": 4}
    assert unknown.status_code == 404 and "999999" in unknown.json()["error"]["message"]
    assert bad_sdp.status_code == 400 and bad_sdp.json()["error"]["code"] == "bad_offer"
    assert bad_setup.status_code == 422 and bad_setup.json()["error"]["field"] == "setup.qr_code_id"
    assert at_capacity.status_code == 503 and "VOICE_MAX_CALLS" in at_capacity.json()["error"]["message"]
    with session_scope() as session:
        assert session.exec(select(Conversation)).all() == [], "a refused call opens no conversation"


@sqlite_only
def test_stopping_the_sidecar_ends_its_calls_and_a_browser_leaving_ends_its_call(engine, voice):
    campaign_id = brochure_campaign()

    async def open_call(server: MediaServer) -> tuple[Browser, dict]:
        browser = Browser()
        response = await post_offer(server, {"campaign_id": campaign_id, "sdp": await browser.offer(),
                                             "type": "offer"})
        assert response.status_code == 200, response.text
        await browser.accept(response.json()["sdp"])
        await browser.wait_for(is_agent(0))
        return browser, response.json()

    async def scenario():
        server = await started_server(voice)
        leaving, saying_why, staying = await open_call(server), await open_call(server), await open_call(server)
        await leaving[0].pc.close()  # the caller's browser closes the connection
        saying_why[0].hang_up(reason="caller_left_page")  # the page says why it hangs up
        for _ in range(500):
            if len(server.calls.calls) == 1:
                break
            await asyncio.sleep(0.02)
        await server.stop()
        _, ended = await staying[0].wait_for(lambda m: m["type"] == "ended")
        for browser, _ in (saying_why, staying):
            await browser.close()
        return leaving[1], saying_why[1], staying[1], ended

    left, said_why, stopped, ended = asyncio.run(scenario())
    assert conversation(left["conversation_id"]).end_reason == "caller_hung_up"
    assert conversation(said_why["conversation_id"]).end_reason == "caller_left_page"
    assert ended == {"type": "ended", "reason": "voice_worker_stopped"}
    row = conversation(stopped["conversation_id"])
    assert row.status == "ended" and row.end_reason == "voice_worker_stopped"


@sqlite_only
def test_the_app_opens_a_call_on_the_least_loaded_reachable_sidecar_and_hangs_it_up(engine, voice):
    campaign_id = brochure_campaign()

    def with_session(fn, **kwargs):
        with Session(get_engine(), expire_on_commit=False) as session:
            return fn(session, **kwargs)

    async def scenario():
        server = await started_server(voice)
        # the idle one is tried first and is gone (nothing listens there): the busier live one takes the call
        report_heartbeat("gone-host:1", active_calls=0, capacity=4, media_url="http://127.0.0.1:9")
        report_heartbeat("media-host:1", active_calls=1, capacity=4, media_url=server.url)
        browser = Browser()
        try:
            answer = await asyncio.to_thread(with_session, open_browser_call, campaign_id=campaign_id,
                                             sdp=await browser.offer(), setup=CallSetup(channel="qr"))
            await browser.accept(answer.sdp)
            await browser.wait_for(is_agent(0))
            await asyncio.to_thread(with_session, hang_up_browser_call, worker_id=answer.worker_id,
                                    call_id=answer.call_id)
            _, ended = await browser.wait_for(lambda m: m["type"] == "ended")
            await asyncio.to_thread(with_session, hang_up_browser_call, worker_id=answer.worker_id,
                                    call_id=answer.call_id)  # ended already: nothing to do
            refused = Browser()
            with pytest.raises(NotFound, match="999999"):  # the sidecar's own error, as the app's
                await asyncio.to_thread(with_session, open_browser_call, campaign_id=999_999,
                                        sdp=await refused.offer(), setup=CallSetup())
            await refused.close()
            return answer, ended
        finally:
            await browser.close()
            await server.stop()

    answer, ended = asyncio.run(scenario())
    assert answer.worker_id == "media-host:1" and answer.type == "answer" and answer.call_id
    assert ended["reason"] == "caller_hung_up"
    row = conversation(answer.conversation_id)
    assert row.status == "ended" and row.channel == "qr" and row.worker_id == "media-host:1"


def test_live_sidecars_are_fresh_with_a_media_url_and_room_least_loaded_first(engine, session):
    report_heartbeat("busy:1", active_calls=3, capacity=4, media_url="http://busy:1")
    report_heartbeat("idle:1", active_calls=0, capacity=4, media_url="http://idle:1")
    report_heartbeat("full:1", active_calls=4, capacity=4, media_url="http://full:1")
    report_heartbeat("livekit-only:1", active_calls=0, capacity=4, media_url=None)
    report_heartbeat("stale:1", active_calls=0, capacity=4, media_url="http://stale:1")
    with session_scope() as s:
        s.get(VoiceWorker, "stale:1").last_heartbeat_at = utcnow() - timedelta(minutes=5)
    assert [w.id for w in live_sidecars(session)] == ["idle:1", "busy:1"]


def test_with_no_live_sidecar_a_browser_call_is_a_friendly_service_unavailable(engine, session, caplog):
    with pytest.raises(ServiceUnavailable, match="not available right now. Please try again in a minute"):
        open_browser_call(session, campaign_id=1, sdp="v=0", setup=CallSetup())
    assert "python -m agent" in caplog.text, "the operator's log says what to start"

    report_heartbeat("gone:1", media_url="http://127.0.0.1:9")  # a heartbeat, but nothing listens
    with pytest.raises(ServiceUnavailable):
        open_browser_call(session, campaign_id=1, sdp="v=0", setup=CallSetup())
