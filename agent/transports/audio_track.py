"""Audio at the browser edge: what a browser hears, and the caller's microphone as the session wants it.

``PacedAudio`` is the agent's audio for one browser: the call writes its speech into it (``AudioSink.write``:
faster than real time, Piper renders a sentence at once) and the transport reads 20 ms frames from it at the
real-time pace. ``clear`` (barge-in) drops what has not been sent yet at once; ``pause``/``resume`` hold it (the
session pauses the agent while it decides whether a sound from the caller was speech). The clock is injectable so
pacing can be tested without waiting. ``OutgoingAudioTrack`` is that buffer as an aiortc track (WebRTC: silence
when there is nothing to say); the WebSocket transport sends its frames as PCM (``agent/transports/pcm_socket.py``).

``LiveAudio`` is a live voice mixed into what a browser hears, beside the call's speech: the human agent's
microphone for the caller in a hand-off, the caller's voice for that agent. It is not the call's to clear or pause
(a barge-in stops the AI's speech, never the person's), starts once a little is buffered (network jitter), and keeps
at most ``MAX_LIVE_SECONDS``: beyond that the oldest audio is dropped, so the delay cannot grow.

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
MAX_LIVE_SECONDS = 1.0  # a live voice further behind than this loses its oldest audio: the delay cannot grow
LIVE_START_SECONDS = 0.06  # a live voice starts (again) once this much is buffered: a late packet is no gap


class MonoResampler:
    """Mono int16 samples at any rate, as ``to_rate``; one stream (the resampler keeps a few ms back)."""

    def __init__(self, to_rate: int) -> None:
        self.to_rate = to_rate
        self._resampler: rtc.AudioResampler | None = None
        self._from_rate = 0

    def convert(self, samples: np.ndarray, rate: int) -> np.ndarray:
        if rate == self.to_rate:
            return samples
        if self._resampler is None or self._from_rate != rate:
            self._resampler = rtc.AudioResampler(rate, self.to_rate, num_channels=1,
                                                 quality=rtc.AudioResamplerQuality.HIGH)
            self._from_rate = rate
        frames = self._resampler.push(rtc.AudioFrame(samples.tobytes(), rate, 1, len(samples)))
        if not frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])

    def reset(self) -> None:
        self._resampler = None  # its tail belongs to audio that was dropped


class LiveAudio:
    """A live voice for one browser, mixed into its ``PacedAudio``: pushed as it arrives (any rate, any length),
    taken 20 ms at a time. Bounded: at most ``max_seconds`` wait, the oldest dropped first."""

    def __init__(self, sample_rate: int, *, max_seconds: float = MAX_LIVE_SECONDS,
                 start_seconds: float = LIVE_START_SECONDS) -> None:
        self.sample_rate = sample_rate
        self._max_bytes = int(sample_rate * max_seconds) * 2
        self._start_bytes = int(sample_rate * start_seconds) * 2
        self._buffer = bytearray()  # mono int16 at sample_rate
        self._playing = False  # False: waiting until _start_bytes are buffered
        self._resampler = MonoResampler(sample_rate)
        self.dropped_seconds = 0.0

    def push(self, frame: rtc.AudioFrame) -> None:
        samples = to_mono(np.frombuffer(frame.data, dtype=np.int16), frame.num_channels)
        self._buffer += self._resampler.convert(samples, frame.sample_rate).tobytes()
        excess = len(self._buffer) - self._max_bytes
        if excess > 0:
            del self._buffer[:excess]
            self.dropped_seconds += excess / 2 / self.sample_rate

    def take(self, samples: int) -> np.ndarray | None:
        """The next ``samples`` of the voice (silence-padded when it runs out mid-frame); ``None`` while there is
        none to play."""
        if not self._buffer or (not self._playing and len(self._buffer) < self._start_bytes):
            self._playing = False
            return None
        self._playing = True
        size = samples * 2
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        if len(chunk) < size:  # it ran dry: wait for a little again before playing on
            self._playing = False
            chunk += bytes(size - len(chunk))
        return np.frombuffer(chunk, dtype=np.int16)

    def clear(self) -> None:
        """The voice is gone (the agent left): drop what it left behind."""
        self._buffer.clear()
        self._playing = False
        self._resampler.reset()

    @property
    def buffered_seconds(self) -> float:
        return len(self._buffer) / 2 / self.sample_rate


def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two int16 frames of one length as one: their sum, clipped."""
    return np.clip(a.astype(np.int32) + b.astype(np.int32), -32768, 32767).astype(np.int16)


class PacedAudio:
    """The audio one browser hears: an ``AudioSink`` for the call, read back in 20 ms frames in real time, with
    ``live`` (a person's voice, untouched by ``clear`` and ``pause``) mixed in."""

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
        self._resampler = MonoResampler(sample_rate)  # for speech at another rate than ours
        self.live = LiveAudio(sample_rate)

    # ------------------------------------------------------------ AudioSink

    def write(self, frame: rtc.AudioFrame) -> None:
        samples = to_mono(np.frombuffer(frame.data, dtype=np.int16), frame.num_channels)
        # the call asks the session for speech at our rate; resampling is for a sink used otherwise (the
        # resampler keeps a few ms back, the trailing silence of a reply)
        self._buffer += self._resampler.convert(samples, frame.sample_rate).tobytes()

    def clear(self) -> None:
        self._buffer.clear()
        self._resampler.reset()

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
        """The next 20 ms of speech and live voice, mixed, once it is due; ``None`` when there is none to send
        (the speech paused or none written, and no live voice): the transport sends silence, or nothing."""
        await self._wait_for_next_frame()
        speech, live = self._next_speech(), self.live.take(self.samples_per_frame)
        if speech is None or live is None:
            return live if speech is None else speech
        return mix(speech, live)

    def _next_speech(self) -> np.ndarray | None:
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
    def live(self) -> LiveAudio:
        return self.audio.live

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
