"""A person's live voice mixed into what a browser hears (the hand-off's audio bridge): it plays beside the call's
speech, a barge-in (clear, pause) stops only the speech, a backlog is cut to about a second, and a voice at another
rate is resampled (a WebRTC caller hears at 48 kHz)."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc

from agent.transports.audio_track import MAX_LIVE_SECONDS, LiveAudio, OutgoingAudioTrack, PacedAudio, mix


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def frame(value: int, samples: int = 320, rate: int = 16000) -> rtc.AudioFrame:
    return rtc.AudioFrame(np.full(samples, value, dtype=np.int16).tobytes(), rate, 1, samples)


def paced(rate: int = 16000) -> PacedAudio:
    clock = FakeClock()
    return PacedAudio(sample_rate=rate, clock=clock, sleep=clock.sleep)


def read(audio: PacedAudio, count: int) -> list[np.ndarray | None]:
    async def frames():
        return [await audio.next_frame() for _ in range(count)]
    return asyncio.run(frames())


def test_the_live_voice_is_mixed_into_the_calls_speech_with_clipping():
    audio = paced()
    audio.write(frame(1000, 320 * 4))
    for _ in range(4):
        audio.live.push(frame(30000))
    heard = read(audio, 4)
    assert all((f == 31000).all() for f in heard[:3]), "speech and voice summed"
    assert (mix(np.array([30000, -30000], dtype=np.int16), np.array([10000, -10000], dtype=np.int16))
            == [32767, -32768]).all(), "clipped, not wrapped"


def test_a_barge_in_clears_and_pauses_the_ai_speech_but_never_the_agents_voice():
    audio = paced()
    audio.write(frame(1000, 320 * 10))
    for _ in range(10):
        audio.live.push(frame(500))
    audio.clear()  # the caller spoke over the AI
    audio.pause()
    heard = read(audio, 10)
    assert all(f is not None and (f == 500).all() for f in heard), "the agent is heard, alone, every frame"
    audio.resume()
    assert read(audio, 1) == [None], "nothing left: the AI's speech was dropped, the voice played out"


def test_the_live_voice_waits_for_a_little_audio_then_plays_and_pads_when_it_runs_dry():
    live = LiveAudio(16000, start_seconds=0.04)
    live.push(frame(7, 160))  # 10 ms: not enough to start
    assert live.take(320) is None
    live.push(frame(7, 640))  # 50 ms in all
    first, second, third = live.take(320), live.take(320), live.take(320)
    assert (first == 7).all() and (second == 7).all()
    assert (third[:160] == 7).all() and not third[160:].any(), "the last 10 ms, then silence"
    live.push(frame(9, 320))  # 20 ms: it ran dry, so it waits for 40 ms again
    assert live.take(320) is None


def test_a_live_backlog_keeps_only_the_latest_second():
    live = LiveAudio(16000)
    for i in range(100):  # 2 s arrive at once (the relay stalled)
        live.push(frame(i))
    assert abs(live.buffered_seconds - MAX_LIVE_SECONDS) < 0.001
    assert abs(live.dropped_seconds - 1.0) < 0.001
    assert (live.take(320) == 50).all(), "the oldest second was dropped"
    live.clear()
    assert live.take(320) is None and live.buffered_seconds == 0


def test_a_webrtc_caller_hears_the_agents_16_khz_voice_at_48_khz():
    track = OutgoingAudioTrack()
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.int16)
    for start in range(0, 16000, 320):
        track.live.push(rtc.AudioFrame(tone[start:start + 320].tobytes(), 16000, 1, 320))
    assert 0.9 < track.live.buffered_seconds <= MAX_LIVE_SECONDS
    track.clear()  # a barge-in on the track leaves the voice alone
    heard = [f for f in read(track.audio, 10) if f is not None]
    assert len(heard) == 10 and all(len(f) == 960 for f in heard)
    rms = np.sqrt(np.mean(np.concatenate(heard).astype(np.float32) ** 2))
    assert 4000 < rms < 7000, "the tone, at its level (8000 peak)"
