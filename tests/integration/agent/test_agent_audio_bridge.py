"""The hand-off's audio bridge on the sidecar: a caller on the PCM socket talks with the real voice loop, a human
agent joins through ``/calls/agent-socket``; each hears the other (tones that cannot be mistaken for the AI's
speech), one agent at a time, an agent who leaves leaves the call going, and the agent is told when the call ends.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from agent.transports.signalling import MediaServer
from quantum_voice.models.calls import TranscriptTurn
from quantum_voice.services.media import SIGNALLING_HEADER, signalling_key
from tests.integration.agent.support import WAIT, CallEvents, brochure_campaign, conversation, sqlite_only, \
    started_server, words as words_of
from tests.integration.agent.test_socket_transport import SocketBrowser, speech
from tests.integration.agent.test_webrtc_transport import Browser, post_offer
from tests.integration.flows.test_conversations import rows

RATE = 16000
CHUNK = 320  # 20 ms
AGENT_HZ, CALLER_HZ = 2000, 1000  # whole DFT bins of a 20 ms frame (50 Hz apart)


def tone(hz: int, seconds: float, amplitude: int = 8000, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def has_tone(chunk: bytes, hz: int, amplitude: int = 8000) -> bool:
    """Does this 20 ms of PCM carry the tone at about its level (whatever else is mixed in)?"""
    samples = np.frombuffer(chunk, dtype=np.int16).astype(np.float64)
    if len(samples) != CHUNK:
        return False
    magnitude = abs(np.fft.rfft(samples)[hz * CHUNK // RATE])
    return magnitude > 0.5 * amplitude * CHUNK / 2


class ListeningBrowser(SocketBrowser):
    """The caller's browser, also keeping every chunk of audio it hears."""

    def __init__(self, ws) -> None:
        self.heard: list[bytes] = []
        super().__init__(ws)

    def play(self, samples: np.ndarray) -> None:
        self._pending = np.concatenate([self._pending, samples])

    async def _listen(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(message.data))
            elif message.type == aiohttp.WSMsgType.BINARY:
                self.heard.append(message.data)
        self.closed.set()


class AgentBrowser(CallEvents):
    """A human agent's page on the sidecar's agent socket: what it hears, its events, and a paced microphone."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__()
        self.ws = ws
        self.heard: list[bytes] = []
        self.closed = asyncio.Event()
        self._listening = asyncio.ensure_future(self._listen())

    async def speak(self, samples: np.ndarray) -> None:
        began = time.monotonic()
        for sent, start in enumerate(range(0, len(samples), CHUNK), start=1):
            await self.ws.send_bytes(samples[start:start + CHUNK].tobytes())
            await asyncio.sleep(max(0.0, began + sent * 0.02 - time.monotonic()))

    async def wait_until_heard(self, matches, count: int, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for chunk in self.heard if matches(chunk)) >= count:
                return count
            await asyncio.sleep(0.05)
        return sum(1 for chunk in self.heard if matches(chunk))

    async def close(self) -> None:
        await self.ws.close()
        self._listening.cancel()
        await asyncio.gather(self._listening, return_exceptions=True)

    async def _listen(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(message.data))
            elif message.type == aiohttp.WSMsgType.BINARY:
                self.heard.append(message.data)
        self.closed.set()


async def join(http: aiohttp.ClientSession, server: MediaServer, conversation_id: int,
               handoff_id: int = 7) -> tuple[AgentBrowser, dict]:
    ws = await http.ws_connect(f"{server.url}/calls/agent-socket", headers={SIGNALLING_HEADER: signalling_key()})
    await ws.send_str(json.dumps({"type": "join", "conversation_id": conversation_id, "handoff_id": handoff_id,
                                  "agent_name": "Ana Lopez"}))
    agent = AgentBrowser(ws)
    _, first = await agent.wait_for(lambda m: True, timeout=30)
    return agent, first


async def refused_join(http: aiohttp.ClientSession, server: MediaServer, first: str) -> tuple[dict, int | None]:
    async with http.ws_connect(f"{server.url}/calls/agent-socket",
                               headers={SIGNALLING_HEADER: signalling_key()}) as ws:
        await ws.send_str(first)
        answer = json.loads((await ws.receive(timeout=30)).data)
        await ws.receive(timeout=5)  # the close
        return answer, ws.close_code


async def wait_for_count(chunks: list[bytes], matches, count: int, after: int = 0, timeout: float = WAIT) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for chunk in chunks[after:] if matches(chunk)) >= count:
            break
        await asyncio.sleep(0.05)
    return sum(1 for chunk in chunks[after:] if matches(chunk))


@sqlite_only
def test_an_agent_joins_a_socket_call_each_hears_the_other_and_is_told_when_the_call_ends(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        server = await started_server(voice)
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as no_key:
                await http.ws_connect(f"{server.url}/calls/agent-socket", headers={SIGNALLING_HEADER: "guess"})
            not_a_join = await refused_join(http, server, json.dumps({"type": "start", "campaign_id": campaign_id}))
            no_name = await refused_join(http, server, json.dumps({"type": "join", "conversation_id": 1,
                                                                   "handoff_id": 1}))
            caller_ws = await http.ws_connect(f"{server.url}/calls/socket",
                                              headers={SIGNALLING_HEADER: signalling_key()})
            await caller_ws.send_str(json.dumps({"type": "start", "campaign_id": campaign_id,
                                                 "setup": {"is_test": True}}))
            caller = ListeningBrowser(caller_ws)
            _, started = await caller.wait_for(lambda m: True, timeout=30)
            conversation_id = started["conversation_id"]
            try:
                await caller.wait_until_agent_listens()  # the AI's greeting has played
                agent, joined = await join(http, server, conversation_id)

                mark = len(caller.heard)
                await agent.speak(tone(AGENT_HZ, 1.0))
                caller_heard_agent = await wait_for_count(caller.heard, lambda c: has_tone(c, AGENT_HZ), 40, mark)
                caller.play(tone(CALLER_HZ, 1.0))
                agent_heard_caller = await agent.wait_until_heard(lambda c: has_tone(c, CALLER_HZ), 40)

                second, second_joined = await join(http, server, conversation_id, handoff_id=8)
                await asyncio.wait_for(second.closed.wait(), 10)
                _, stranger_joined = await join(http, server, 999_999)

                await agent.ws.send_str(json.dumps({"type": "leave"}))
                await asyncio.wait_for(agent.closed.wait(), 10)
                call_goes_on = server.calls.running(conversation_id) is not None

                again, again_joined = await join(http, server, conversation_id, handoff_id=9)
                await caller.send({"type": "hangup"})
                _, agent_ended = await again.wait_for(lambda m: m["type"] == "ended")
                await asyncio.wait_for(again.closed.wait(), 10)
                _, caller_ended = await caller.wait_for(lambda m: m["type"] == "ended")
                return (started, joined, caller_heard_agent, agent_heard_caller, second_joined, second.ws.close_code,
                        stranger_joined, call_goes_on, again_joined, agent_ended, caller_ended,
                        agent.messages, {len(c) for c in agent.heard}, no_key.value.status, not_a_join, no_name)
            finally:
                await caller.close()
                await server.stop()

    (started, joined, caller_heard_agent, agent_heard_caller, second, second_code, stranger, call_goes_on, again,
     agent_ended, caller_ended, first_agent_messages, agent_chunk_sizes, no_key, not_a_join, no_name) = \
        asyncio.run(scenario())
    conversation_id = started["conversation_id"]
    assert joined == {"type": "joined", "conversation_id": conversation_id}
    assert caller_heard_agent >= 40, "the caller heard (nearly) all of the agent's second of tone"
    assert agent_heard_caller >= 40, "the agent heard the caller"
    assert agent_chunk_sizes == {640}, "the agent hears 20 ms of 16 kHz s16le at a time"
    assert second["type"] == "error" and second["status"] == 409 and second["code"] == "agent_already_joined"
    assert second_code == 1008
    assert stranger["status"] == 404 and stranger["code"] == "call_not_here"
    assert call_goes_on, "the agent left; the call did not end"
    assert first_agent_messages == [joined], "an agent who left is not told the call ended"
    assert again == {"type": "joined", "conversation_id": conversation_id}, "the next agent may join"
    assert agent_ended == {"type": "ended", "reason": "caller_hung_up"} == caller_ended
    assert conversation(conversation_id).end_reason == "caller_hung_up"
    assert no_key == 401, "only the app, with the shared key, joins agents"
    assert not_a_join[0]["code"] == "bad_request" and '"type": "join"' in not_a_join[0]["message"]
    assert not_a_join[1] == 1008
    assert no_name[0]["status"] == 422 and no_name[0]["code"] == "validation_error"


class ListeningWebRTCBrowser(Browser):
    """A caller's browser over WebRTC, keeping what it hears as 48 kHz mono 20 ms chunks."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: list[np.ndarray] = []

    def _on_track(self, track) -> None:
        async def listen():
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                samples = frame.to_ndarray().reshape(-1)
                if len(frame.layout.channels) == 2:
                    samples = samples[::2]
                self.heard.append(samples.astype(np.int16))
        self._listening = asyncio.ensure_future(listen())


def has_tone_48k(chunk: np.ndarray, hz: int, amplitude: int = 8000) -> bool:
    if len(chunk) != 960:
        return False
    magnitude = abs(np.fft.rfft(chunk.astype(np.float64))[hz * 960 // 48000])
    return magnitude > 0.4 * amplitude * 960 / 2


@sqlite_only
def test_a_webrtc_caller_hears_the_agent_at_48_khz_once_connected(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        server = await started_server(voice)
        browser = ListeningWebRTCBrowser()
        try:
            async with aiohttp.ClientSession() as http:
                response = await post_offer(server, {"campaign_id": campaign_id, "sdp": await browser.offer(),
                                                     "type": "offer"})
                answer = response.json()
                _, too_soon = await join(http, server, answer["conversation_id"])  # not connected yet
                await browser.accept(answer["sdp"])
                await browser.wait_until_agent_listens()
                agent, joined = await join(http, server, answer["conversation_id"])
                mark = len(browser.heard)
                await agent.speak(tone(AGENT_HZ, 1.0))
                heard_agent = await wait_for_count(browser.heard, lambda c: has_tone_48k(c, AGENT_HZ), 35, mark)
                browser.microphone._pending = tone(CALLER_HZ, 1.0, rate=48000)  # what the microphone sends next
                agent_heard = await agent.wait_until_heard(lambda c: has_tone(c, CALLER_HZ), 35)
                browser.hang_up()
                _, ended = await agent.wait_for(lambda m: m["type"] == "ended")
                return too_soon, joined, heard_agent, agent_heard, ended
        finally:
            await browser.close()
            await server.stop()

    too_soon, joined, heard_agent, agent_heard, ended = asyncio.run(scenario())
    assert too_soon["status"] == 409 and too_soon["code"] == "call_not_connected"
    assert joined["type"] == "joined"
    assert heard_agent >= 35, "the agent's 16 kHz voice reached the WebRTC caller (resampled, through Opus)"
    assert agent_heard >= 35, "the caller's 48 kHz microphone reached the agent at 16 kHz"
    assert ended == {"type": "ended", "reason": "caller_hung_up"}


@sqlite_only
def test_the_agents_words_are_transcribed_saved_and_shown_to_the_caller(engine, voice):
    campaign_id = brochure_campaign()

    async def scenario():
        server = await started_server(voice)
        async with aiohttp.ClientSession() as http:
            caller_ws = await http.ws_connect(f"{server.url}/calls/socket",
                                              headers={SIGNALLING_HEADER: signalling_key()})
            await caller_ws.send_str(json.dumps({"type": "start", "campaign_id": campaign_id,
                                                 "setup": {"is_test": True}}))
            caller = ListeningBrowser(caller_ws)
            _, started = await caller.wait_for(lambda m: True, timeout=30)
            try:
                await caller.wait_until_agent_listens()
                agent, _ = await join(http, server, started["conversation_id"])
                words = speech("Hello, this is Ana from the sales team. How can I help you today?")
                await agent.speak(np.concatenate([words, np.zeros(2 * RATE, dtype=np.int16)]))
                _, shown = await caller.wait_for(lambda m: m["type"] == "transcript"
                                                 and m["speaker"] == "human_agent")
                await agent.close()
                return started["conversation_id"], shown
            finally:
                await caller.close()
                await server.stop()

    conversation_id, shown = asyncio.run(scenario())
    assert {"sales", "team", "help"} <= words_of(shown["text"]) and shown["name"] == "Ana Lopez"
    (turn,) = rows(TranscriptTurn, TranscriptTurn.conversation_id == conversation_id,
                   TranscriptTurn.speaker == "human_agent")
    assert turn.text == shown["text"] and turn.meta == {"name": "Ana Lopez"}
    seqs = [t.seq for t in rows(TranscriptTurn, TranscriptTurn.conversation_id == conversation_id)]
    assert sorted(seqs) == list(range(len(seqs))), "the agent's turn is numbered among the call's turns"
