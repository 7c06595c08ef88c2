"""A simulated caller for ``python -m bench.load``, on the path the call page takes when WebRTC cannot connect: the
campaign page (``GET /api/public/campaigns/{slug}``), the email gate (a consent ticket), then the call socket
``/api/public/calls/socket?ticket=`` on the app, which places the call on a live sidecar (``services/media.py``)
and relays it there (protocol: ``agent/transports/pcm_socket.py``). The microphone is 16 kHz PCM in 20 ms messages,
paced in real time and open for the whole call (silence between turns), as the page sends it.

Voice to voice is measured at the caller: from the moment the last frame of speech has been sent to the first
agent audio that arrives after it (the sidecar sends audio only while the agent speaks), so it includes the app's
relay in both directions. Caller speech is rendered once with Piper (``agent/providers/piper_tts.py``)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import numpy as np

FRAME_MS = 20
RATE = 16000
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2
SPEECH_RMS = 300  # int16 RMS above which a frame counts as speech (as agent/simulate.py)
QUIET_SECONDS = 0.8  # no agent audio this long, and not thinking: the agent has finished answering
GATE_WAIT_SECONDS = 2.1  # the gate wants the page open a moment (email_gate.GATE_MIN_SECONDS)


@dataclass
class SpokenTurn:
    frames: list[bytes]  # 20 ms of 16 kHz mono s16le each
    last_speech: int  # index of the frame where the speech ends


def render_turns(texts: list[str]) -> list[SpokenTurn]:
    from agent.providers.audio import as_int16, resample
    from agent.providers.piper_tts import synthesize_pcm

    turns = []
    for text in texts:
        pcm, rate = synthesize_pcm(text)
        pcm = resample(as_int16(pcm), rate, RATE)
        pad = np.zeros(RATE // 4, dtype=np.int16)
        data = np.concatenate([pad, pcm, pad]).astype(np.int16).tobytes()
        data += bytes(-len(data) % FRAME_BYTES)
        frames = [data[i:i + FRAME_BYTES] for i in range(0, len(data), FRAME_BYTES)]
        loud = [i for i, f in enumerate(frames) if _rms(f) > SPEECH_RMS]
        turns.append(SpokenTurn(frames, loud[-1] if loud else len(frames) - 1))
    return turns


def _rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0


@dataclass
class CallResult:
    conversation_id: int | None = None
    completed: bool = False
    error: str = ""  # why it failed: an HTTP status, a refused socket, a turn with no answer
    latencies_ms: list[float] = field(default_factory=list)  # caller-side voice to voice, per answered turn
    started_at: float = 0.0
    seconds: float = 0.0

    @property
    def refused(self) -> bool:
        """No sidecar had room (503 on the socket): the app found none in the heartbeats, or each one refused."""
        return self.error.startswith("socket 503")


class _Line:
    """Both directions of one call socket: the microphone out, the agent's audio and events in."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.queue: asyncio.Queue = asyncio.Queue()
        self.last_audio = 0.0  # monotonic time of the latest agent audio message
        self.audio_arrived = asyncio.Event()
        self.state = "listening"
        self.ended: str | None = None

    async def read(self) -> None:
        async for message in self.ws:
            if isinstance(message, bytes):
                self.last_audio = time.monotonic()
                self.audio_arrived.set()
                continue
            event = json.loads(message)
            if event.get("type") == "agent_state":
                self.state = event.get("state", self.state)
            elif event.get("type") == "ended":
                self.ended = event.get("reason") or "ended"
        self.ended = self.ended or "socket_closed"

    async def microphone(self) -> None:
        silence = bytes(FRAME_BYTES)
        next_at = time.monotonic()
        while True:
            try:
                turn, done = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                turn, done = None, None
            frames = turn.frames if turn else [silence]
            for i, frame in enumerate(frames):
                next_at += FRAME_MS / 1000
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    next_at = time.monotonic()
                await self.ws.send(frame)
                if turn and i == turn.last_speech:
                    done.set_result(time.monotonic())

    async def say(self, turn: SpokenTurn) -> float:
        """Queues the turn; returns when its speech has been sent: the monotonic time its speech ended."""
        done = asyncio.get_running_loop().create_future()
        await self.queue.put((turn, done))
        return await done

    async def answer(self, since: float, timeout: float) -> float:
        """Until the agent has answered what was said before ``since`` and gone quiet; returns when its first
        audio arrived."""
        deadline = time.monotonic() + timeout
        while self.last_audio <= since:
            if self.ended:
                raise CallEnded(self.ended)
            self.audio_arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no agent audio within {timeout:.0f} s")
            try:
                await asyncio.wait_for(self.audio_arrived.wait(), min(left, 0.5))
            except TimeoutError:
                pass
        first = self.last_audio
        while not self.ended:  # the rest of the reply (a turn cut in two gets two answers)
            if time.monotonic() - self.last_audio >= QUIET_SECONDS and self.state != "thinking":
                break
            if time.monotonic() > deadline + 60:
                raise TimeoutError("the agent's reply did not end")
            await asyncio.sleep(0.05)
        return first


class CallEnded(Exception):
    pass


async def place_call(http, ws_base: str, slug: str, email: str, turns: list[SpokenTurn],
                     turn_timeout: float = 30.0) -> CallResult:
    """One whole call as the page makes it; never raises (a failure is in the result)."""
    import websockets

    result = CallResult(started_at=time.monotonic())
    try:
        page = await http.get(f"/api/public/campaigns/{slug}")
        if page.status_code != 200:
            raise CallFailed(f"campaign page {page.status_code}")
        await asyncio.sleep(GATE_WAIT_SECONDS)
        gate = await http.post(f"/api/public/campaigns/{slug}/gate",
                               json={"email": email, "consent": True, "gate_token": page.json()["gate_token"]})
        if gate.status_code != 201:
            raise CallFailed(f"gate {gate.status_code}")
        url = f"{ws_base}/api/public/calls/socket?ticket={gate.json()['ticket']}"
        async with websockets.connect(url, max_size=2 ** 20, open_timeout=20) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if first.get("type") != "started":
                raise CallFailed(f"socket {first.get('status')} {first.get('code')}")
            result.conversation_id = first.get("conversation_id")
            await _converse(_Line(ws), turns, turn_timeout, result)
        result.completed = True
    except CallFailed as exc:
        result.error = str(exc)
    except CallEnded as exc:
        result.error = f"ended early: {exc}"
    except Exception as exc:  # a timeout, a dropped socket: what a caller would experience
        result.error = f"{type(exc).__name__}: {exc}"[:120]
    result.seconds = time.monotonic() - result.started_at
    return result


async def _converse(line: _Line, turns: list[SpokenTurn], turn_timeout: float, result: CallResult) -> None:
    reader, microphone = asyncio.create_task(line.read()), asyncio.create_task(line.microphone())
    try:
        await line.answer(time.monotonic() - 1, turn_timeout)  # the greeting, heard to the end
        for turn in turns:
            spoken_at = await line.say(turn)
            first = await line.answer(spoken_at, turn_timeout)
            result.latencies_ms.append((first - spoken_at) * 1000)
        await line.ws.send(json.dumps({"type": "hangup"}))
        try:
            await asyncio.wait_for(asyncio.shield(reader), 5)
        except TimeoutError:
            pass
    finally:
        microphone.cancel()
        reader.cancel()
        await asyncio.gather(microphone, reader, return_exceptions=True)


class CallFailed(Exception):
    pass
