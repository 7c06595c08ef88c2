"""The WebSocket transport's audio: the browser's PCM chunks of any length become 20 ms frames, and the agent's
speech comes out of the paced buffer only while there is some to send (silence is not sent over the socket)."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc

from agent.transports.audio_track import PacedAudio
from agent.transports.pcm_socket import PcmFrames


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pcm_chunks_of_any_length_become_20_ms_frames_in_order():
    framer = PcmFrames()
    pcm = np.arange(800, dtype=np.int16).tobytes()  # 50 ms
    frames = framer.push(pcm[:3]) + framer.push(pcm[3:701]) + framer.push(pcm[701:])  # odd splits
    assert [f.samples_per_channel for f in frames] == [320, 320]
    assert all(f.sample_rate == 16000 and f.num_channels == 1 for f in frames)
    joined = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])
    assert (joined == np.arange(640)).all(), "the last 10 ms wait for the next chunk"


def test_the_paced_buffer_gives_nothing_while_empty_or_paused_and_speech_otherwise():
    clock = FakeClock()
    audio = PacedAudio(sample_rate=16000, clock=clock, sleep=clock.sleep)

    async def frames(count: int):
        return [await audio.next_frame() for _ in range(count)]

    assert asyncio.run(frames(2)) == [None, None]
    audio.write(rtc.AudioFrame(np.full(480, 700, dtype=np.int16).tobytes(), 16000, 1, 480))  # 30 ms
    first, = asyncio.run(frames(1))
    audio.pause()
    held, = asyncio.run(frames(1))
    audio.resume()
    last, after = asyncio.run(frames(2))
    assert len(first) == 320 and (first == 700).all() and held is None
    assert (last[:160] == 700).all() and not last[160:].any() and after is None
    audio.write(rtc.AudioFrame(np.full(320, 5, dtype=np.int16).tobytes(), 16000, 1, 320))
    audio.clear()  # barge-in
    assert asyncio.run(frames(1)) == [None]
