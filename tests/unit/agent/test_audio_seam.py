"""The audio seam between a transport and the session: caller frames in, agent frames out with playout timing."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc

from agent.call import _heard_part
from agent.io import AgentAudio, CallerAudio, FrameRecorder


def frame(ms: int = 20, rate: int = 16000) -> rtc.AudioFrame:
    samples = rate * ms // 1000
    return rtc.AudioFrame(np.ones(samples, dtype=np.int16).tobytes(), rate, 1, samples)


def test_caller_frames_come_out_in_order_until_the_caller_hangs_up():
    async def run():
        audio = CallerAudio()
        first, second = frame(), frame(40)
        audio.push(first)
        audio.push(second)
        audio.close()
        audio.push(frame())  # after hang-up: dropped
        return [f async for f in audio]
    got = asyncio.run(run())
    assert [f.samples_per_channel for f in got] == [320, 640]


def test_a_segment_plays_for_its_duration_and_reports_it_finished():
    async def run():
        recorder = FrameRecorder()
        out = AgentAudio(recorder, realtime=True)
        events = []
        out.on("playback_finished", events.append)
        for _ in range(10):
            await out.capture_frame(frame())  # 0.2 s of audio
        assert out.playing_since is not None
        out.flush()
        ev = await out.wait_for_playout()
        return recorder, ev, out
    recorder, ev, out = asyncio.run(run())
    assert len(recorder.frames) == 10 and not ev.interrupted and abs(ev.playback_position - 0.2) < 1e-6
    assert out.playing_since is None and out.last_segment == (ev.playback_position, ev.playback_position)


def test_clearing_the_buffer_stops_the_segment_where_the_listener_got_to():
    async def run():
        recorder = FrameRecorder()
        out = AgentAudio(recorder, realtime=True)
        for _ in range(100):
            await out.capture_frame(frame())  # 2 s of audio
        out.flush()
        await asyncio.sleep(0.3)
        out.clear_buffer()  # the caller talks over the agent
        return recorder, await out.wait_for_playout()
    recorder, ev = asyncio.run(run())
    assert ev.interrupted and 0.25 < ev.playback_position < 0.8 and recorder.cleared == 1


def test_unpaced_output_counts_a_segment_as_played_at_once():
    async def run():
        out = AgentAudio(FrameRecorder(), realtime=False)
        for _ in range(50):
            await out.capture_frame(frame())
        out.flush()
        return await asyncio.wait_for(out.wait_for_playout(), 0.5)
    assert abs(asyncio.run(run()).playback_position - 1.0) < 1e-6


def test_the_heard_part_of_an_interrupted_reply_follows_the_share_of_audio_played():
    text = "one two three four five six seven eight nine ten"
    assert _heard_part(text, 1.0, 4.0) == "one two"
    assert _heard_part(text, 5.0, 4.0) == text
    assert _heard_part(text, 0.0, 0.0) == ""


def test_a_paused_segment_holds_its_place_and_finishes_after_resume():
    class Sink(FrameRecorder):
        def __init__(self):
            super().__init__()
            self.calls = []

        def pause(self):
            self.calls.append("pause")

        def resume(self):
            self.calls.append("resume")

    async def run():
        sink = Sink()
        out = AgentAudio(sink, realtime=True)
        for _ in range(15):
            await out.capture_frame(frame())  # 0.3 s
        out.flush()
        await asyncio.sleep(0.1)
        out.pause()  # the caller coughed
        await asyncio.sleep(0.4)
        assert out.paused and out.playing_since is not None, "held, not finished"
        out.resume()  # no words: the agent carries on
        started = asyncio.get_running_loop().time()
        ev = await out.wait_for_playout()
        return sink, ev, asyncio.get_running_loop().time() - started
    sink, ev, after_resume = asyncio.run(run())
    assert not ev.interrupted and abs(ev.playback_position - 0.3) < 1e-6
    assert 0.12 < after_resume < 0.35, "the rest of the segment played after the pause"
    assert sink.calls == ["pause", "resume"]
