"""The audio-I/O seam between a transport and the livekit-agents session.

A transport (the browser's WebRTC track, a WebSocket, WAV files in the simulator) pushes the caller's PCM into a
``CallerAudio`` and receives the agent's PCM through an ``AgentAudio``; ``AgentSession`` reads and writes them as
its ``session.input.audio`` / ``session.output.audio``, so no LiveKit room is needed.

``AgentAudio`` plays out the way a listener hears it: a segment counts as played when its audio duration has
passed since it started (``realtime=True``), or at once when the transport consumes audio faster than real time
(the simulator's ``--fast``). ``clear_buffer`` (barge-in) stops the segment where the clock says it got to and
tells the sink to drop what it has not played yet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from livekit import rtc
from livekit.agents.voice import io

_END = object()


class CallerAudio(io.AudioInput):
    """Frames from the caller, pushed by the transport on the session's event loop (or thread-safely)."""

    def __init__(self, *, label: str = "caller") -> None:
        super().__init__(label=label)
        self._queue: asyncio.Queue[rtc.AudioFrame | object] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def push(self, frame: rtc.AudioFrame) -> None:
        if self._closed:
            return
        loop = self._loop
        if loop is None or _running_loop() is loop:
            self._queue.put_nowait(frame)
        else:
            loop.call_soon_threadsafe(self._queue.put_nowait, frame)

    def close(self) -> None:
        """The caller's audio has ended (hang-up): the session's reader stops."""
        if self._closed:
            return
        self._closed = True
        loop = self._loop
        if loop is None or _running_loop() is loop:
            self._queue.put_nowait(_END)
        else:
            loop.call_soon_threadsafe(self._queue.put_nowait, _END)

    async def __anext__(self) -> rtc.AudioFrame:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # stay ended for any later reader
            raise StopAsyncIteration
        return item  # type: ignore[return-value]


class AudioSink(Protocol):
    """Where the agent's audio goes (a WebRTC track's buffer, a WAV recorder)."""

    def write(self, frame: rtc.AudioFrame) -> None: ...

    def clear(self) -> None: ...


class AgentAudio(io.AudioOutput):
    """The agent's audio to the transport, with playout timing, pause/resume and barge-in.

    Pause/resume lets the session hold the agent's speech when the caller makes a sound and carry on if it was
    not speech (a cough, a "hm" with no words: a false interruption) instead of dropping the reply. A sink that
    plays audio (a WebRTC track) may implement ``pause()``/``resume()`` to hold its own buffer too.
    """

    def __init__(self, sink: AudioSink, *, sample_rate: int | None = None, realtime: bool = True,
                 label: str = "agent") -> None:
        super().__init__(label=label, next_in_chain=None, sample_rate=sample_rate,
                         capabilities=io.AudioOutputCapabilities(pause=True))
        self._sink = sink
        self._realtime = realtime
        self._pushed = 0.0
        self._started_at = 0.0
        self._interrupted = False
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._wake = asyncio.Event()
        self._playout: asyncio.Task[None] | None = None
        self.first_frame_listeners: list[Callable[[float], None]] = []
        self.playing_since: float | None = None  # monotonic start of the segment being heard, None when quiet
        self.last_segment: tuple[float, float] = (0.0, 0.0)  # (seconds heard, seconds sent) of the last segment

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if self._playout is not None and not self._playout.done():
            await self._playout  # the previous segment finishes (or is cleared) first
        await super().capture_frame(frame)
        if not self._pushed:
            self._started_at = self.playing_since = time.monotonic()
            self._interrupted, self._paused_total = False, 0.0
            if self._paused_at is not None:  # paused before it began: none of it has been heard yet
                self._paused_at = self._started_at
            self.on_playback_started(created_at=time.time())
            for listener in self.first_frame_listeners:
                listener(self._started_at)
        self._pushed += frame.duration
        self._sink.write(frame)

    def flush(self) -> None:
        super().flush()
        if not self._pushed:
            return
        self._playout = asyncio.ensure_future(self._play_out(self._pushed, self._started_at))
        self._pushed = 0.0

    def clear_buffer(self) -> None:
        self._sink.clear()
        self._interrupted = True
        self._wake.set()
        if self._pushed and (self._playout is None or self._playout.done()):
            # cleared before flush: the segment ends here
            self._playout = asyncio.ensure_future(self._play_out(self._pushed, self._started_at))
            self._pushed = 0.0

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.monotonic()
            _call(self._sink, "pause")
            self._wake.set()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += time.monotonic() - self._paused_at
            self._paused_at = None
            _call(self._sink, "resume")
            self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def _heard(self, started_at: float) -> float:
        now = self._paused_at if self._paused_at is not None else time.monotonic()
        return max(0.0, now - started_at - self._paused_total)

    async def _play_out(self, duration: float, started_at: float) -> None:
        while not self._interrupted and self._realtime:
            remaining = duration - self._heard(started_at)
            if remaining <= 0 and self._paused_at is None:
                break
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=None if self._paused_at is not None else remaining)
            except TimeoutError:
                pass
        interrupted = self._interrupted
        played = min(duration, self._heard(started_at)) if interrupted else duration
        self.last_segment = (played, duration)
        # a pause outlives the segment (livekit's own room output keeps it too): only resume() lifts it, and must
        # reach the sink, or a sink that holds its audio while paused would never play the next reply
        self._interrupted = False
        if not self._pushed:
            self.playing_since = None
        self.on_playback_finished(playback_position=played, interrupted=interrupted)


def _call(sink: object, method: str) -> None:
    fn = getattr(sink, method, None)
    if callable(fn):
        fn()


class FrameRecorder:
    """An ``AudioSink`` that keeps the agent's frames (the simulator writes them to WAV files)."""

    def __init__(self) -> None:
        self.frames: list[rtc.AudioFrame] = []
        self.cleared = 0

    def write(self, frame: rtc.AudioFrame) -> None:
        self.frames.append(frame)

    def clear(self) -> None:
        self.cleared += 1

    def take(self) -> list[rtc.AudioFrame]:
        frames, self.frames = self.frames, []
        return frames


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
