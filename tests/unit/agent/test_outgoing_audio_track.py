"""The track a browser hears: the agent's speech buffered, paced out in 20 ms frames, dropped at barge-in, held
while paused; and the caller's microphone converted for the session."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError
from livekit import rtc

from agent.transports.audio_track import CallerAudioConverter, OutgoingAudioTrack


class FakeClock:
    """Time that moves only when the track sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def speech(ms: int, rate: int = 48000, value: int = 1000) -> rtc.AudioFrame:
    samples = rate * ms // 1000
    return rtc.AudioFrame(np.full(samples, value, dtype=np.int16).tobytes(), rate, 1, samples)


def samples_of(frame: av.AudioFrame) -> np.ndarray:
    return frame.to_ndarray().reshape(-1)


def pull(track: OutgoingAudioTrack, count: int) -> list[av.AudioFrame]:
    async def run():
        return [await track.recv() for _ in range(count)]
    return asyncio.run(run())


def test_an_empty_track_sends_silence_in_20_ms_frames_with_running_timestamps():
    clock = FakeClock()
    track = OutgoingAudioTrack(clock=clock, sleep=clock.sleep)
    frames = pull(track, 3)
    assert [f.samples for f in frames] == [960, 960, 960]
    assert [f.pts for f in frames] == [0, 960, 1920]
    assert all(f.sample_rate == 48000 and f.time_base == fractions.Fraction(1, 48000) for f in frames)
    assert all(f.format.name == "s16" and f.layout.name == "mono" for f in frames)
    assert all(not samples_of(f).any() for f in frames)


def test_written_speech_comes_out_in_order_then_silence_fills_the_last_frame():
    clock = FakeClock()
    track = OutgoingAudioTrack(clock=clock, sleep=clock.sleep)
    track.write(speech(30, value=1000))  # a frame and a half
    track.write(speech(10, value=2000))
    assert track.buffered_seconds == pytest.approx(0.04)
    first, second, third = (samples_of(f) for f in pull(track, 3))
    assert (first == 1000).all()
    assert (second[:480] == 1000).all() and (second[480:] == 2000).all()
    assert not third.any() and track.buffered_seconds == 0


def test_frames_are_paced_in_real_time_whatever_is_buffered():
    clock = FakeClock()
    track = OutgoingAudioTrack(clock=clock, sleep=clock.sleep)
    track.write(speech(1000))  # a whole second written at once, as TTS does
    pull(track, 10)
    assert clock.sleeps == pytest.approx([0.02] * 9), "the first frame goes at once, then one every 20 ms"
    assert clock.now == pytest.approx(100.18)


def test_a_late_sender_is_not_made_to_burst_to_catch_up():
    clock = FakeClock()
    track = OutgoingAudioTrack(clock=clock, sleep=clock.sleep)
    pull(track, 2)
    clock.now += 1.0  # the event loop stalled for a second
    clock.sleeps.clear()
    pull(track, 3)
    assert clock.sleeps == pytest.approx([0.02, 0.02]), "a fresh schedule from now, not 50 frames at once"


def test_clear_drops_the_unsent_speech_at_once():
    clock = FakeClock()
    track = OutgoingAudioTrack(clock=clock, sleep=clock.sleep)
    track.write(speech(200))
    pull(track, 2)
    track.clear()  # the caller talks over the agent
    assert track.buffered_seconds == 0
    assert not samples_of(pull(track, 1)[0]).any()
    track.write(speech(20, value=3000))  # the next reply plays normally
    assert (samples_of(pull(track, 1)[0]) == 3000).all()


def test_pause_holds_the_speech_and_resume_carries_on_where_it_stopped():
    clock = FakeClock()
    track = OutgoingAudioTrack(clock=clock, sleep=clock.sleep)
    track.write(speech(20, value=1000))
    track.write(speech(20, value=2000))
    assert (samples_of(pull(track, 1)[0]) == 1000).all()
    track.pause()
    held = pull(track, 3)
    assert all(not samples_of(f).any() for f in held) and track.buffered_seconds == pytest.approx(0.02)
    track.resume()
    assert (samples_of(pull(track, 1)[0]) == 2000).all()


def test_speech_at_another_rate_or_in_stereo_is_converted_to_the_tracks_rate():
    clock = FakeClock()
    track = OutgoingAudioTrack(clock=clock, sleep=clock.sleep)
    track.write(speech(500, rate=22050))  # Piper's rate
    assert track.buffered_seconds == pytest.approx(0.5, abs=0.05), "less the resampler's few ms of delay"
    track.clear()
    stereo = rtc.AudioFrame(np.full(960 * 2, 500, dtype=np.int16).tobytes(), 48000, 2, 960)
    track.write(stereo)
    assert track.buffered_seconds == pytest.approx(0.02)
    assert (samples_of(pull(track, 1)[0]) == 500).all()


def test_wait_until_played_returns_when_the_buffer_has_been_sent():
    async def run():
        track = OutgoingAudioTrack()
        track.write(speech(100))

        async def sender():
            while track.readyState == "live":
                await track.recv()
        sending = asyncio.ensure_future(sender())
        played = await track.wait_until_played(timeout=2.0)
        track.stop()
        await asyncio.gather(sending, return_exceptions=True)
        return played, track.buffered_seconds

    played, left = asyncio.run(run())
    assert played and left == 0


def test_wait_until_played_gives_up_after_its_timeout():
    async def run():
        track = OutgoingAudioTrack()
        track.write(speech(1000))  # nobody sends it
        return await track.wait_until_played(timeout=0.1)
    assert asyncio.run(run()) is False


def test_a_stopped_track_ends_the_senders_loop():
    track = OutgoingAudioTrack()
    track.stop()
    with pytest.raises(MediaStreamError):
        pull(track, 1)


def test_the_browsers_48k_stereo_microphone_becomes_16k_mono_frames():
    converter = CallerAudioConverter()
    out: list[rtc.AudioFrame] = []
    for i in range(50):  # one second of Opus-decoded audio
        pcm = np.full((1, 960 * 2), 800, dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = 48000, i * 960, fractions.Fraction(1, 48000)
        out += converter.convert(frame)
    assert all(f.sample_rate == 16000 and f.num_channels == 1 for f in out)
    total = sum(f.samples_per_channel for f in out)
    assert 15500 <= total <= 16000, "one second at 16 kHz (less the resampler's short delay)"
    tail = np.frombuffer(out[-1].data, dtype=np.int16)
    assert abs(int(tail.mean()) - 800) < 5
