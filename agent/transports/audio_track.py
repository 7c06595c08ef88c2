"""Audio at the browser edge: what a browser hears, and the caller's microphone as the session wants it.

``PacedAudio`` is the agent's audio for one browser: the call writes its speech into it (``AudioSink.write``:
faster than real time, Piper renders a sentence at once) and the transport reads 20 ms frames from it at the
real-time pace. ``clear`` (barge-in) drops what has not been sent yet at once; ``pause``/``resume`` hold it (the
session pauses the agent while it decides whether a sound from the caller was speech). The clock is injectable so
pacing can be tested without waiting. ``OutgoingAudioTrack`` is that buffer as an aiortc track (WebRTC: silence
when there is nothing to say); the WebSocket transport sends its frames as PCM (``agent/transports/pcm_socket.py``).

``CallerAudioConverter`` turns the browser's decoded Opus (48 kHz stereo) into the 16 kHz mono frames the VAD, the
end-of-turn model and Whisper work at.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Awaitable, Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit import rtc

from agent.providers.audio import WHISPER_RATE, to_mono

OPUS_RATE = 48_000  # what the Opus encoder works at: no resampling on the way out
FRAME_SECONDS = 0.020
MAX_LAG_SECONDS = 0.2  # further behind than this (the event loop stalled): start the schedule afresh, no burst


class PacedAudio:
    """The audio one browser hears: an ``AudioSink`` for the call, read back in 20 ms frames in real time."""

    def __init__(self, *, sample_rate: int = OPUS_RATE, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.sample_rate = sample_rate
        self.samples_per_frame = int(sample_rate * FRAME_SECONDS)
        self._clock, self._sleep = clock, sleep
        self._buffer = bytearray()  # mono int16 at sample_rate, not yet sent
        self._paused = False
        self.stopped = False  # the browser is gone: nothing more is sent
        self._schedule_start: float | None = None
        self._frames_due = 0  # frames sent since _schedule_start
        self._resampler: rtc.AudioResampler | None = None  # for speech at another rate than ours
        self._resampling_from = 0

    # ------------------------------------------------------------ AudioSink

    def write(self, frame: rtc.AudioFrame) -> None:
        samples = to_mono(np.frombuffer(frame.data, dtype=np.int16), frame.num_channels)
        if frame.sample_rate != self.sample_rate:
            # the call asks the session for speech at our rate; this is for a sink used otherwise (the resampler
            # keeps a few ms back, the trailing silence of a reply)
            samples = self._resample(samples, frame.sample_rate)
        self._buffer += samples.tobytes()

    def clear(self) -> None:
        self._buffer.clear()
        self._resampler = None  # its tail belongs to the speech just dropped

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def buffered_seconds(self) -> float:
        return len(self._buffer) / 2 / self.sample_rate

    def stop(self) -> None:
        self.stopped = True

    async def wait_until_played(self, timeout: float) -> bool:
        """Until everything written has been sent (the goodbye before hanging up); False if it took too long."""
        deadline = time.monotonic() + timeout
        while self._buffer and not self.stopped:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(FRAME_SECONDS)
        return True

    # ------------------------------------------------------------ the transport's side

    async def next_frame(self) -> np.ndarray | None:
        """The next 20 ms of speech once it is due; ``None`` when there is none to send (paused, or nothing
        written): the transport sends silence, or nothing."""
        await self._wait_for_next_frame()
        size = self.samples_per_frame * 2
        if self._paused or not self._buffer:
            return None
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        if len(chunk) < size:  # the end of a reply: the rest of the frame is silence
            chunk += bytes(size - len(chunk))
        return np.frombuffer(chunk, dtype=np.int16)

    async def _wait_for_next_frame(self) -> None:
        now = self._clock()
        if self._schedule_start is None or now - self._due() > MAX_LAG_SECONDS:
            self._schedule_start, self._frames_due = now, 0
        delay = self._due() - now
        self._frames_due += 1
        if delay > 0:
            await self._sleep(delay)

    def _due(self) -> float:
        return self._schedule_start + self._frames_due * FRAME_SECONDS

    def _resample(self, samples: np.ndarray, rate: int) -> np.ndarray:
        if self._resampler is None or self._resampling_from != rate:
            self._resampler = rtc.AudioResampler(rate, self.sample_rate, num_channels=1,
                                                 quality=rtc.AudioResamplerQuality.HIGH)
            self._resampling_from = rate
        frames = self._resampler.push(rtc.AudioFrame(samples.tobytes(), rate, 1, len(samples)))
        if not frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])


class OutgoingAudioTrack(MediaStreamTrack):
    """The audio one browser hears over WebRTC: ``PacedAudio`` as an aiortc track, silence between replies. The
    call writes into the track itself (it is the call's ``AudioSink``)."""

    kind = "audio"

    def __init__(self, *, sample_rate: int = OPUS_RATE, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        super().__init__()
        self.audio = PacedAudio(sample_rate=sample_rate, clock=clock, sleep=sleep)
        self.sample_rate = sample_rate
        self._time_base = fractions.Fraction(1, sample_rate)
        self._pts = 0

    def write(self, frame: rtc.AudioFrame) -> None:
        self.audio.write(frame)

    def clear(self) -> None:
        self.audio.clear()

    def pause(self) -> None:
        self.audio.pause()

    def resume(self) -> None:
        self.audio.resume()

    @property
    def paused(self) -> bool:
        return self.audio.paused

    @property
    def buffered_seconds(self) -> float:
        return self.audio.buffered_seconds

    async def wait_until_played(self, timeout: float) -> bool:
        return await self.audio.wait_until_played(timeout)

    def stop(self) -> None:
        super().stop()
        self.audio.stop()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        samples = await self.audio.next_frame()
        if samples is None:
            samples = np.zeros(self.audio.samples_per_frame, dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.time_base, frame.pts = self.sample_rate, self._time_base, self._pts
        self._pts += self.audio.samples_per_frame
        return frame


class CallerAudioConverter:
    """The browser's decoded microphone frames (any rate and layout) as 16 kHz mono ``rtc.AudioFrame``s."""

    def __init__(self, sample_rate: int = WHISPER_RATE) -> None:
        self.sample_rate = sample_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)

    def convert(self, frame: av.AudioFrame) -> list[rtc.AudioFrame]:
        out = []
        for resampled in self._resampler.resample(frame):
            pcm = resampled.to_ndarray().reshape(-1)
            if len(pcm):
                out.append(rtc.AudioFrame(pcm.tobytes(), self.sample_rate, 1, len(pcm)))
        return out
