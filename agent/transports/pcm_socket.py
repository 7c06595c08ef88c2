"""Browser calls over a WebSocket of raw PCM: the call page's fallback when WebRTC cannot connect (no
RTCPeerConnection, UDP blocked, a NAT without TURN). The browser's socket goes to the app, on its own origin, and
the app relays it to ``GET /calls/socket`` here (``signalling.py``; the same ``X-Voice-Sidecar-Key`` check).

* First, one text message: ``{"type": "start", "campaign_id": int, "setup": {CallSetup fields}}`` opens a call as
  ``POST /calls`` does; ``{"type": "take_over", "call_id": str}`` moves a WebRTC call whose browser never
  connected onto this socket (the same conversation, its greeting not spoken yet);
  ``{"type": "resume", "conversation_id": int, "campaign_id": int}`` carries on an open call whose sidecar was lost,
  as ``POST /calls/resume`` does. The answer is
  ``{"type": "started", "call_id", "conversation_id"}``, or ``{"type": "error", "status", "code", "message"}``
  (``status`` as the HTTP routes would answer) and the socket closes: 1008 for a refused call, 1011 when this
  sidecar cannot take it now.
* Browser → sidecar: binary messages of 16 kHz mono s16le PCM, any length (the microphone, typically 20–40 ms
  each); text messages of the events (``{"type": "hangup"}``, ``agent/transports/events.py``).
* Sidecar → browser: binary messages of 16 kHz mono s16le PCM, 20 ms each, paced in real time and only while the
  agent speaks (a barge-in drops the unsent speech: the audio just stops); text messages with the same JSON events
  as WebRTC's data channel (transcript, agent_state, and ``ended`` last).

The call ends when the socket closes, as when a WebRTC connection closes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web
from livekit import rtc

from agent.providers.audio import WHISPER_RATE
from agent.transports.audio_track import FRAME_SECONDS, PacedAudio
from agent.transports.browser_calls import CallerPeer

log = logging.getLogger(__name__)

PCM_RATE = WHISPER_RATE  # both ways: what the session listens at, and few bytes for the agent's voice
MAX_MESSAGE_BYTES = 64 * 1024  # 2 s of PCM: far above a 40 ms microphone chunk
START_TIMEOUT_SECONDS = 10.0
FLUSH_TIMEOUT_SECONDS = 1.0


def started(call_id: str, conversation_id: int | None) -> dict[str, Any]:
    return {"type": "started", "call_id": call_id, "conversation_id": conversation_id}


def error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "status": status, "code": code, "message": message}


class SocketEvents:
    """JSON messages to one browser over its socket, in order, held until it has been told its call started."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: list[str] | None = []  # None once open
        self._writer: asyncio.Task | None = None

    def open(self, first: dict[str, Any]) -> None:
        waiting, self._waiting = self._waiting or [], None
        for text in [json.dumps(first), *waiting]:
            self._queue.put_nowait(text)
        self._writer = asyncio.ensure_future(self._write())

    def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        if self._waiting is not None:
            self._waiting.append(text)
        elif self._writer is not None and not self._writer.done():
            self._queue.put_nowait(text)
        # the socket is gone: nobody will read it

    async def flush(self, timeout: float = FLUSH_TIMEOUT_SECONDS) -> None:
        """Until what was sent has left (the "ended" message before the socket closes)."""
        if self._writer is None or self._writer.done():
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            pass

    def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()

    async def _write(self) -> None:
        while True:
            text = await self._queue.get()
            try:
                await self._ws.send_str(text)
            except (ConnectionError, RuntimeError):  # closing or closed
                return
            finally:
                self._queue.task_done()


class PcmFrames:
    """The browser's PCM, in chunks of any length (even odd bytes), as 20 ms mono ``rtc.AudioFrame``s."""

    def __init__(self, sample_rate: int = PCM_RATE) -> None:
        self.sample_rate = sample_rate
        self._frame_bytes = int(sample_rate * FRAME_SECONDS) * 2
        self._pending = bytearray()

    def push(self, data: bytes) -> list[rtc.AudioFrame]:
        self._pending += data
        frames = []
        while len(self._pending) >= self._frame_bytes:
            chunk = bytes(self._pending[:self._frame_bytes])
            del self._pending[:self._frame_bytes]
            frames.append(rtc.AudioFrame(chunk, self.sample_rate, 1, len(chunk) // 2))
        return frames


class SocketPeer(CallerPeer):
    """One browser in a call over a WebSocket of PCM: its microphone in, the agent's speech out in real time,
    the events as text. ``run`` reads the browser's messages until the socket closes."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        super().__init__(PacedAudio(sample_rate=PCM_RATE), SocketEvents(ws))
        self.ws = ws
        self._started: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._microphone = PcmFrames()
        self._push: Callable[[rtc.AudioFrame], None] | None = None
        self._speaking: asyncio.Task | None = None

    def start(self, call_id: str, conversation_id: int | None) -> None:
        """Tell the browser its call has started; then the events and the agent's speech go out, and the call
        counts as connected."""
        self._begin(started(call_id, conversation_id))

    def _begin(self, first: dict[str, Any]) -> None:
        self.events.open(first)
        self._speaking = asyncio.ensure_future(self._send_speech())
        if not self._started.done():
            self._started.set_result(True)

    async def wait_connected(self, timeout: float) -> bool:
        try:
            return await asyncio.wait_for(asyncio.shield(self._started), timeout)
        except TimeoutError:
            return False

    def forward_audio(self, push: Callable[[rtc.AudioFrame], None]) -> None:
        self._push = push  # until now, what the browser sent was dropped (nobody was listening yet)

    async def run(self) -> None:
        """The browser's messages until the socket closes; then the browser has left."""
        try:
            async for message in self.ws:
                if message.type == WSMsgType.BINARY:
                    frames = self._microphone.push(message.data)
                    if self._push is not None:
                        for frame in frames:
                            self._push(frame)
                elif message.type == WSMsgType.TEXT:
                    self.on_message(message.data)
                elif message.type == WSMsgType.ERROR:
                    log.info("a browser's call socket failed: %s", self.ws.exception())
                    self.leave("dropped")
        finally:
            self.leave("hung_up")  # a closed socket, as a closed WebRTC connection

    async def close(self) -> None:
        self.hears.stop()
        if self._speaking is not None:
            self._speaking.cancel()
        self.events.close()
        if self._started.done():  # before that, whoever opens the call answers the browser (and closes)
            await self.ws.close()

    async def _send_speech(self) -> None:
        while not self.hears.stopped:
            samples = await self.hears.next_frame()
            if samples is None:
                continue
            try:
                await self.ws.send_bytes(samples.tobytes())
            except (ConnectionError, RuntimeError):  # the socket is closing: the reader sees it go
                return
