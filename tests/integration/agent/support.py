"""What the voice-loop tests share: a campaign with the brochure in its knowledge base (processed and ready), a
sidecar media server, and small readers of what a call left behind."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import numpy as np
import pytest

from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services import campaigns
from quantum_voice.services.knowledge import documents
from quantum_voice.worker import build_worker
from tests.factories import repo_for, verified_owner
from tests.unit.knowledge.files import BROCHURE_MD

# the whole voice loop is heavy: these tests run on SQLite only (the database code under them runs on both)
sqlite_only = pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)


def words(text: str | None) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", (text or "").lower()))


def conversation(conversation_id: int) -> Conversation:
    with session_scope() as session:
        return session.get(Conversation, conversation_id)


def is_agent(seq: int | None = None):
    """Matches the sidecar's transcript event of an agent turn (of turn ``seq``, if given)."""
    return lambda m: m["type"] == "transcript" and m["speaker"] == "agent" and (seq is None or m["seq"] == seq)


async def started_server(voice, *, capacity: int = 4, worker_id: str = "media-host:1"):
    """The sidecar's media server (signalling, WebRTC and the call socket) on an ephemeral port."""
    from agent.transports.signalling import MediaServer
    from agent.transports.webrtc import BrowserCalls

    server = MediaServer(BrowserCalls(voice, worker_id=worker_id, capacity=capacity))
    await server.start()
    return server


WAIT = 45.0  # seconds for anything the voice loop does (2 shared cores)


class CallEvents:
    """The call's event messages a test browser received (the WebRTC "events" channel, the socket's text
    messages), in order, and waits on them."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def wait_for(self, matches, timeout: float = WAIT, after: int = 0) -> tuple[int, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, message in enumerate(self.messages[after:], start=after):
                if matches(message):
                    return i, message
            await asyncio.sleep(0.02)
        raise AssertionError(f"no such message within {timeout:.0f} s; got {self.messages}")

    async def wait_until_agent_listens(self, after: int = 0) -> int:
        """Until the agent has finished speaking what it was saying (a speaking state, then listening)."""
        spoke, _ = await self.wait_for(lambda m: m == {"type": "agent_state", "state": "speaking"}, after=after)
        listens, _ = await self.wait_for(lambda m: m == {"type": "agent_state", "state": "listening"}, after=spoke)
        return listens


class SidecarThread:
    """The sidecar's media server in its own thread and event loop, as beside the app. ``freeze`` stops that loop
    dead, as a killed process stops: no hang-up, no goodbye, nothing more written; its sockets simply stop
    answering."""

    def __init__(self, voice, *, worker_id: str = "media-host:1") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = self._run_loop()
        self.server = self.run(started_server(voice, worker_id=worker_id))

    def run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def freeze(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def stop(self) -> None:
        if not self.thread.is_alive():  # frozen: let it run again to close what it holds
            self.thread = self._run_loop()
        self.run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run_loop(self) -> threading.Thread:
        thread = threading.Thread(target=self.loop.run_forever, name="sidecar", daemon=True)
        thread.start()
        return thread


def brochure_campaign(org: str = "Harbor View Residences") -> int:
    with session_scope() as session:
        user, _ = verified_owner(session, org=org)
        repo = repo_for(session, session.get(User, user.id))
        campaign = campaigns.create_campaign(repo, name="Spring Open House", template="lead_capture_qa")
        documents.upload_document(repo, campaign.knowledge_base_id, "brochure.md", BROCHURE_MD.encode())
        campaign_id = campaign.id
    build_worker().run_pending()
    with session_scope() as session:
        assert session.get(Campaign, campaign_id).knowledge_base_id is not None
    return campaign_id


FRAME_SECONDS = 0.020  # the transports' frame: the caller hears the agent, and speaks, 20 ms at a time


class HeardAudio:
    """What a caller hears: the transports' own paced sink (``PacedAudio``) read out in 20 ms frames in real time,
    as a browser's track is, with the times the call paused, resumed and cleared it."""

    def __init__(self, sample_rate: int = 16000) -> None:
        from agent.transports.audio_track import PacedAudio

        self.paced = PacedAudio(sample_rate=sample_rate)
        self.sample_rate = sample_rate
        self.written_seconds = 0.0  # all the speech the call sent
        self.played: list[float] = []  # monotonic time of each 20 ms frame of speech the caller heard
        self.events: list[tuple[str, float]] = []  # ("pause" | "resume" | "clear", monotonic time)

    # the call's AudioSink
    def write(self, frame) -> None:
        self.written_seconds += frame.samples_per_channel / frame.sample_rate
        self.paced.write(frame)

    def clear(self) -> None:
        self.events.append(("clear", time.monotonic()))
        self.paced.clear()

    def pause(self) -> None:
        self.events.append(("pause", time.monotonic()))
        self.paced.pause()

    def resume(self) -> None:
        self.events.append(("resume", time.monotonic()))
        self.paced.resume()

    # the caller's side
    async def listen(self) -> None:
        while not self.paced.stopped:
            if await self.paced.next_frame() is not None:
                self.played.append(time.monotonic())

    def stop(self) -> None:
        self.paced.stop()

    def first(self, kind: str, after: float = 0.0) -> float | None:
        return next((t for k, t in self.events if k == kind and t >= after), None)

    def heard_seconds(self, start: float = 0.0, end: float = float("inf")) -> float:
        return FRAME_SECONDS * sum(1 for t in self.played if start <= t < end)


class PacedMicrophone:
    """The caller's microphone, paced in real time: silence, and now and then a sound (``say``), whose onset (its
    first frame louder than ``ONSET_RMS``) is noted when that frame is pushed."""

    RATE = 16000
    ONSET_RMS = 200

    def __init__(self, call) -> None:
        self.call = call
        self._queue: asyncio.Queue = asyncio.Queue()
        self._stopped = False

    async def say(self, pcm: np.ndarray, rate: int) -> float:
        """Push the sound; return once it is all pushed, with the monotonic time of its onset."""
        from agent.providers.audio import pcm_to_frames, resample

        frames = pcm_to_frames(resample(pcm, rate, self.RATE), self.RATE, 20)
        onset_index = next((i for i, f in enumerate(frames) if _rms(f) > self.ONSET_RMS), 0)
        done = asyncio.get_running_loop().create_future()
        await self._queue.put((frames, onset_index, done))
        return await done

    async def run(self) -> None:
        from agent.providers.audio import pcm_to_frames

        silence = pcm_to_frames(np.zeros(self.RATE // 50, dtype=np.int16), self.RATE, 20)
        next_at = time.monotonic()
        while not self._stopped:
            try:
                frames, onset_index, done = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                frames, onset_index, done = silence, -1, None
            onset = None
            for i, frame in enumerate(frames):
                next_at += FRAME_SECONDS
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:  # the loop stalled: carry on from now, no burst
                    next_at = time.monotonic()
                if i == onset_index:
                    onset = time.monotonic()
                self.call.caller_audio.push(frame)
            if done is not None and not done.done():
                done.set_result(onset)

    def stop(self) -> None:
        self._stopped = True


def _rms(frame) -> float:
    samples = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0
