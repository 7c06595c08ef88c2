"""Run whole voice calls from WAV files: ``python -m agent.simulate --campaign <id> turn1.wav turn2.wav …``.

Each WAV is one caller turn. The whole loop runs — VAD, end of turn, Whisper, the campaign's published flow and
knowledge base from the app's database (``DATABASE_URL``), Piper — and one JSON line is printed per caller turn:
``{"turn", "transcript", "reply", "node_id", "node_type", "handoff", "interrupted", "timings"}``. The agent's audio
goes to ``--out`` (``turn-00.wav`` is the greeting). The conversation is stored as a test call.

Turns are paced in real time, as a microphone would deliver them, with the microphone left open (silence) while the
agent answers; ``--fast`` pushes audio as fast as the loop takes it (timings are then not voice-to-voice). The same
harness (``simulate_call``) drives the tests and the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agent.call import TurnTaking, VoiceCall, campaign_vocabulary
from agent.turn_report import TurnReport
from agent.io import FrameRecorder
from agent.brain import CallBrain
from agent.providers.audio import frames_to_pcm, pcm_to_frames, read_wav, resample, write_wav
from agent.voice import LocalVoice
from quantum_voice.services.conversations import CallSetup

FRAME_MS = 20
MIC_RATE = 16000  # one rate for the whole call, as a real microphone track has
SPEECH_RMS = 300  # int16 RMS above which a frame counts as speech when finding where the caller stopped


@dataclass
class CallerTurn:
    pcm: np.ndarray  # mono int16
    rate: int
    barge_in_after: float | None = None  # start this turn this many seconds into the agent's previous reply
    while_thinking: bool = False  # start this turn as soon as the agent is working on its reply to the last one
    trailing_silence: float = 0.8  # fast mode: silence pushed after the speech so the VAD can end the turn

    @classmethod
    def from_wav(cls, path: str | Path, **options) -> CallerTurn:
        pcm, rate = read_wav(path)
        return cls(pcm, rate, **options)


@dataclass
class SimulationResult:
    conversation_id: int | None
    reports: list[TurnReport]
    agent_audio: list[tuple[np.ndarray, int]] = field(default_factory=list)  # per report, in order
    ended_by_flow: bool = False


async def simulate_call(campaign_id: int, turns: list[CallerTurn], *, voice: LocalVoice | None = None,
                        fast: bool = False, turn_timeout: float = 30.0, setup: CallSetup | None = None,
                        on_report: Callable[[TurnReport], None] | None = None,
                        turn_taking: TurnTaking | None = None) -> SimulationResult:
    voice = voice or LocalVoice.load()
    recorder = FrameRecorder()
    brain = CallBrain(campaign_id, setup=setup or CallSetup(channel="simulator", is_test=True))
    call = VoiceCall(brain=brain, sink=recorder, realtime=not fast, turn_taking=turn_taking or voice.turn_taking(),
                     **voice.session_parts(await campaign_vocabulary(campaign_id)))
    result = SimulationResult(None, call.reports)
    arrived = asyncio.Condition()

    def collect(report: TurnReport) -> None:
        if report.unspoken or not recorder.frames:  # a reply nobody heard has no audio
            pcm, rate = np.zeros(0, np.int16), 16000
        else:
            pcm, rate = frames_to_pcm(recorder.take())
        result.agent_audio.append((pcm, rate))
        if on_report:
            on_report(report)

        async def notify():
            async with arrived:
                arrived.notify_all()
        asyncio.ensure_future(notify())

    call.listeners.append(collect)
    microphone = _Microphone(call, paced=not fast)
    await call.start()
    result.conversation_id = brain.conversation_id
    mic_task = asyncio.create_task(microphone.run())
    try:
        if not turns or turns[0].barge_in_after is None:
            await _wait_reports(arrived, call, 1, turn_timeout)  # the greeting, heard to the end
        for i, turn in enumerate(turns):
            if call.ended.is_set():
                break
            want = len(call.reports) + 1
            if turn.barge_in_after is not None or turn.while_thinking:
                want = len(call.reports) + 2  # the interrupted (or unheard) reply, then the answer to this turn
            await microphone.say(turn, fast)
            if i + 1 < len(turns) and turns[i + 1].while_thinking:
                continue  # the caller goes on before the agent answers
            await _wait_reports(arrived, call, want, turn_timeout)
            await _settle(call, turn_timeout)
        result.ended_by_flow = bool(call.reports and call.reports[-1].ended)
    finally:
        microphone.stop()
        await asyncio.gather(mic_task, return_exceptions=True)
        await call.hang_up("caller_hung_up")
    return result


async def _wait_reports(arrived: asyncio.Condition, call: VoiceCall, count: int, timeout: float) -> None:
    async with arrived:
        try:
            await asyncio.wait_for(arrived.wait_for(lambda: len(call.reports) >= count or call.ended.is_set()),
                                   timeout)
        except TimeoutError:
            raise TimeoutError(f"the agent gave no reply within {timeout:.0f} s (had {len(call.reports)} "
                               f"turn(s), waited for {count})") from None


async def _settle(call: VoiceCall, timeout: float, quiet: float = 0.5) -> None:
    """Wait until the agent has answered everything the caller said: a pause inside a turn can make the VAD cut it
    in two, each part answered, so counting replies alone would move on before the last answer."""
    deadline = time.monotonic() + timeout
    seen, since = len(call.reports), time.monotonic()
    while time.monotonic() < deadline and not call.ended.is_set():
        session = call.session
        busy = session is not None and (session.agent_state in ("thinking", "speaking")
                                        or session.user_state == "speaking")
        if len(call.reports) != seen or busy:
            seen, since = len(call.reports), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.02)


class _Microphone:
    """Feeds the call like a caller's microphone: speech when a turn is said, silence otherwise (paced)."""

    def __init__(self, call: VoiceCall, *, paced: bool) -> None:
        self.call, self.paced = call, paced
        self._queue: asyncio.Queue = asyncio.Queue()
        self._stopped = False

    async def say(self, turn: CallerTurn, fast: bool) -> None:
        if turn.barge_in_after is not None:
            await self._wait_agent_speaking(turn.barge_in_after)
        if turn.while_thinking:
            await self._wait_agent_thinking()
        frames = pcm_to_frames(resample(turn.pcm, turn.rate, MIC_RATE), MIC_RATE, FRAME_MS)
        last_speech = max((i for i, f in enumerate(frames) if _rms(f) > SPEECH_RMS), default=len(frames) - 1)
        done = asyncio.get_running_loop().create_future()
        await self._queue.put((frames, last_speech, done))
        if fast:
            silence = int(turn.trailing_silence * 1000 / FRAME_MS)
            await self._queue.put((_silence(silence), -1, None))
        await done

    async def _wait_agent_speaking(self, after: float) -> None:
        deadline = time.monotonic() + 30
        audio = self.call.agent_audio
        while time.monotonic() < deadline:
            started = audio.playing_since
            if started is not None and time.monotonic() - started >= after:
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("the agent never started speaking, so the caller could not talk over it")

    async def _wait_agent_thinking(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            session = self.call.session
            if session is not None and session.agent_state == "thinking":
                return
            await asyncio.sleep(0.005)
        raise TimeoutError("the agent never started working on a reply, so the caller could not speak during it")

    async def run(self) -> None:
        next_at = time.monotonic()
        while not self._stopped:
            try:
                frames, last_speech, done = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                if not self.paced:
                    await asyncio.sleep(0.005)
                    continue
                frames, last_speech, done = _silence(1), -1, None
            for i, frame in enumerate(frames):
                if self.paced:
                    next_at += frame.duration
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    else:
                        next_at = time.monotonic()
                self.call.caller_audio.push(frame)
                if i == last_speech:
                    self.call.mark_caller_speech_end(time.time())
            if done is not None and not done.done():
                done.set_result(None)

    def stop(self) -> None:
        self._stopped = True


def _silence(count: int):
    return pcm_to_frames(np.zeros(MIC_RATE * FRAME_MS // 1000 * count, dtype=np.int16), MIC_RATE, FRAME_MS)


def _rms(frame) -> float:
    samples = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.simulate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaign", type=int, required=True, help="campaign id (its published flow runs)")
    parser.add_argument("--fast", action="store_true", help="do not pace audio in real time")
    parser.add_argument("--out", default="data/simulations", help="folder for the agent's audio")
    parser.add_argument("wavs", nargs="+", help="one WAV file per caller turn")
    args = parser.parse_args(argv)
    from quantum_voice.core.logging_setup import configure_logging

    configure_logging()
    missing = [w for w in args.wavs if not Path(w).is_file()]
    if missing:
        print(f"No such WAV file: {', '.join(missing)}", file=sys.stderr)
        return 2
    turns = [CallerTurn.from_wav(w) for w in args.wavs]

    def emit(report: TurnReport) -> None:
        if report.seq > 0:
            print(json.dumps(report.as_json()), flush=True)

    result = asyncio.run(simulate_call(args.campaign, turns, fast=args.fast, on_report=emit))
    out = Path(args.out) / f"conversation-{result.conversation_id}"
    out.mkdir(parents=True, exist_ok=True)
    for i, (pcm, rate) in enumerate(result.agent_audio):
        write_wav(out / f"turn-{i:02d}.wav", pcm, rate)
    print(f"agent audio: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
