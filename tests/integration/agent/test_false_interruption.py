"""Sounds over the agent that are not speech, and speech that is, through the real loop: livekit-agents' session with
the offline VAD and the transcript's end-of-turn rules, Whisper, the campaign's flow and Piper; the caller hears the agent through the
transports' paced sink (``PacedAudio``) and speaks into a microphone paced in real time.

What livekit does with ``interruption.mode="vad"``, ``min_duration=0.15`` and ``resume_false_interruption=True``
(timed out after ``VOICE_FALSE_INTERRUPTION_SECONDS``, 1 s): speech of 0.15 s over the agent *pauses* its audio (the sink's
``pause``) and sets it listening. A non-empty final transcript of that speech interrupts the paused reply (the sink's
``clear``) and the caller's turn is answered. A sound Whisper finds no words in (its final transcript is empty, which
livekit ignores) ends with the VAD's end of speech; 1 s later the reply resumes where it stopped
(``agent_false_interruption`` with ``resumed=True``) and plays to its end, not interrupted. A noise the VAD does not
count as speech at all (a burst of broadband noise, like a cough) changes nothing. In the first 3 s of the agent's
first speech livekit ignores the caller (its echo-cancellation warm-up), so the sounds here come later than that.

Audio is measured by the 20 ms frames the caller heard; wall-clock bounds are loose (the machine may be loaded).
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
from sqlmodel import select

from agent.brain import CallBrain
from agent.call import VoiceCall, campaign_vocabulary
from agent.providers.audio import as_int16
from agent.providers.piper_tts import synthesize_pcm
from quantum_voice.core.db import session_scope
from quantum_voice.models.calls import TranscriptTurn
from quantum_voice.services.conversations import CallSetup
from tests.integration.agent.support import (FRAME_SECONDS, HeardAudio, PacedMicrophone, brochure_campaign,
                                             sqlite_only, words)

RATE = 16000
AEC_WARMUP = 3.0  # livekit's default: the caller is not heard over the first 3 s of the agent's first speech
BARGE_IN_TARGET = 0.2  # issue 5: the agent's audio stops within 200 ms of the caller speaking over it
LOAD_MARGIN = 0.4  # for a loaded CI machine


def hum(seconds: float = 0.5, pitch: float = 150.0, amplitude: int = 2000) -> np.ndarray:
    """A short closed-mouth "mm": voiced enough for the VAD (~0.8 s of speech to it, over the 0.15 s that pauses
    the agent), with no words in it for Whisper (its no-speech rule gives an empty transcript)."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.sin(2 * np.pi * pitch * t) + np.sin(4 * np.pi * pitch * t) / 2 ** 1.2
    envelope = np.minimum(1, t / 0.04) * np.minimum(1, (seconds - t) / 0.08)
    return (tone / np.abs(tone).max() * amplitude * envelope).astype(np.int16)


def cough(seconds: float = 0.4, amplitude: int = 12000) -> np.ndarray:
    """A burst of broadband noise with a sharp attack: loud, but no voice in it."""
    noise = np.convolve(np.random.default_rng(5).standard_normal(int(seconds * RATE)), np.ones(4) / 4, "same")
    t = np.arange(len(noise)) / RATE
    envelope = np.minimum(1, t / 0.02) * np.exp(-np.maximum(0, t - 0.02) / 0.12)
    return (noise / np.abs(noise).max() * amplitude * envelope).astype(np.int16)


def sentence(text: str, trailing_silence: float = 0.0) -> tuple[np.ndarray, int]:
    pcm, rate = synthesize_pcm(text)
    return np.concatenate([as_int16(pcm), np.zeros(int(rate * trailing_silence), np.int16)]), rate


def agent_turns(conversation_id: int) -> dict[int, TranscriptTurn]:
    with session_scope() as session:
        turns = session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == conversation_id,
                                                          TranscriptTurn.speaker == "agent")).all()
        return {t.seq: t for t in turns}


async def until(condition, timeout: float = 30.0, what: str = "the call") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(0.02)


class Caller:
    """One call as a caller has it: a microphone, an ear, and what the session said happened."""

    def __init__(self, call: VoiceCall, ear: HeardAudio) -> None:
        self.call, self.ear = call, ear
        self.microphone = PacedMicrophone(call)
        self.false_interruptions: list[bool] = []  # `resumed` of each agent_false_interruption
        self._tasks: list[asyncio.Future] = []

    async def __aenter__(self) -> Caller:
        await self.call.start()
        self.call.session.on("agent_false_interruption", lambda ev: self.false_interruptions.append(ev.resumed))
        self._tasks = [asyncio.ensure_future(self.microphone.run()), asyncio.ensure_future(self.ear.listen())]
        return self

    async def __aexit__(self, *_exc) -> None:
        self.microphone.stop()
        self.ear.stop()
        await self.call.hang_up("caller_hung_up")
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def heard_for(self, seconds: float) -> None:
        await until(lambda: self.ear.heard_seconds() >= seconds, what=f"{seconds} s of the agent's speech")

    async def replies(self, count: int) -> None:
        await until(lambda: len(self.call.reports) >= count, what=f"{count} agent turn(s)")

    async def answer_to(self, *said: str):
        """The agent's turn that answers the caller's words (a pause may split a sentence into two turns)."""
        def answer():
            return next((r for r in self.call.reports if set(said) <= words(r.caller)), None)
        await until(lambda: answer() is not None, what=f"the answer to {' '.join(said)!r}")
        return answer()

    async def all_heard(self) -> None:
        await until(lambda: self.ear.paced.buffered_seconds == 0, what="the agent's audio to play out")


async def open_call(campaign_id: int, voice) -> Caller:
    ear = HeardAudio(sample_rate=RATE)
    brain = CallBrain(campaign_id, setup=CallSetup(channel="simulator", is_test=True))
    call = VoiceCall(brain=brain, sink=ear, output_sample_rate=ear.sample_rate, turn_taking=voice.turn_taking(),
                     **voice.session_parts(await campaign_vocabulary(campaign_id)))
    return Caller(call, ear)


@sqlite_only
def test_a_cough_or_a_hum_over_the_agent_pauses_it_at_most_and_the_reply_plays_to_the_end(engine, voice):
    campaign_id = brochure_campaign()

    async def run():
        async with await open_call(campaign_id, voice) as caller:
            ear = caller.ear
            await caller.heard_for(AEC_WARMUP + 0.5)
            coughed = await caller.microphone.say(np.concatenate([cough(), np.zeros(RATE // 2, np.int16)]), RATE)
            hummed = await caller.microphone.say(hum(), RATE)
            await caller.replies(1)
            await caller.all_heard()
            greeting = dict(written=ear.written_seconds, heard=ear.heard_seconds(),
                            before_hum=ear.heard_seconds(0, hummed), after_hum=ear.heard_seconds(hummed),
                            events=list(ear.events),
                            segment=caller.call.agent_audio.last_segment, resumed=list(caller.false_interruptions))

            # the caller then gives the name, and hums again as the agent starts to answer
            await caller.microphone.say(*sentence("My name is John Smith.", trailing_silence=0.6))
            await caller.microphone.say(hum(), RATE)
            answer = await caller.answer_to("john", "smith")
            await caller.all_heard()
            return coughed, hummed, greeting, answer, caller.call, ear

    coughed, hummed, greeting, answer, call, ear = asyncio.run(run())

    # the cough changed nothing; the hum paused the greeting once, and it resumed: livekit's false interruption
    assert [kind for kind, _ in greeting["events"]] == ["pause", "resume"], greeting["events"]
    paused_at = greeting["events"][0][1]
    assert paused_at > hummed > coughed, "the hum paused the agent, the cough did not"
    assert greeting["resumed"] == [True]
    # ... and the whole greeting was heard, the rest of it after the hum, and it is not marked interrupted
    report = call.reports[0]
    assert not report.interrupted and report.heard is None
    assert abs(greeting["heard"] - greeting["written"]) <= FRAME_SECONDS, "every frame of the greeting was heard"
    assert greeting["after_hum"] >= 1.0
    assert abs(greeting["before_hum"] + greeting["after_hum"] - greeting["written"]) <= FRAME_SECONDS
    played, sent = greeting["segment"]
    assert played == sent and abs(sent - greeting["written"]) < 0.05
    turns = agent_turns(call.brain.conversation_id)
    assert not turns[report.agent_seq].interrupted and turns[report.agent_seq].text == report.reply
    assert "heard" not in (turns[report.agent_seq].meta or {})

    # the caller's name is answered, and the hum after it does not lose the answer
    assert answer.reply and not answer.interrupted and not answer.unspoken
    assert not turns[answer.agent_seq].interrupted
    assert abs(ear.heard_seconds() - ear.written_seconds) <= 2 * FRAME_SECONDS, "every frame of both replies was heard"
    # the hum over the greeting was no turn: the name's turn is timed from the name, not from the hum
    metrics = turns[answer.agent_seq].meta["metrics"]
    assert metrics["caller_audio_ms"] > 800, metrics
    assert 0 < metrics["voice_to_voice_ms"] < 5000, metrics


@sqlite_only
def test_talking_over_the_agent_stops_it_promptly_marks_what_was_heard_and_gets_an_answer(engine, voice):
    campaign_id = brochure_campaign()

    async def run():
        async with await open_call(campaign_id, voice) as caller:
            await caller.heard_for(AEC_WARMUP + 0.5)
            onset = await caller.microphone.say(*sentence("My name is John Smith."))
            await caller.replies(1)
            segment = caller.call.agent_audio.last_segment  # the greeting's (seconds played, seconds sent)
            answer = await caller.answer_to("john", "smith")
            await caller.all_heard()
            return onset, segment, answer, caller.call, caller.ear

    onset, (played, sent), answer, call, ear = asyncio.run(run())
    greeting = call.reports[0]

    # the agent's audio stopped (paused) soon after the caller spoke over it, and was dropped once it had words
    paused, cleared = ear.first("pause", after=onset), ear.first("clear", after=onset)
    assert paused is not None and cleared is not None and paused <= cleared
    # issue 5's target is 200 ms from the caller's first sound (VOICE_INTERRUPTION_SECONDS is 0.15 s of it);
    # measured here 0.14-0.16 s, with a margin for a loaded CI machine
    limit = BARGE_IN_TARGET + LOAD_MARGIN
    over_the_caller = ear.heard_seconds(onset, cleared)  # the greeting the caller heard while talking
    assert over_the_caller <= limit and paused - onset <= limit, (over_the_caller, paused - onset)
    assert ear.heard_seconds(paused + FRAME_SECONDS, cleared) == 0, "nothing played while paused"

    # the greeting is marked interrupted with the part heard, which is the part the caller's ear got
    assert greeting.interrupted and greeting.heard
    assert greeting.reply.startswith(greeting.heard) and len(greeting.heard) < len(greeting.reply)
    assert played < sent and abs(played - ear.heard_seconds(0, cleared)) < 0.75, (played, ear.heard_seconds(0, cleared))
    turns = agent_turns(call.brain.conversation_id)
    assert turns[greeting.agent_seq].interrupted and turns[greeting.agent_seq].meta["heard"] == greeting.heard

    # and the agent answers what the caller said: never silent after a barge-in
    assert answer.reply and not answer.interrupted
    assert ear.heard_seconds(cleared) >= 1.0, "the answer was heard"
    assert not turns[answer.agent_seq].interrupted
