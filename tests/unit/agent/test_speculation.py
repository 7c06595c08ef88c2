"""Speculative transcription (agent/speculation.py) with the real VAD and Whisper: a guess made at the first short
silence is the turn's transcript when the caller says nothing more, and is dropped when they go on."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit.agents import inference, stt

from agent.providers.audio import as_int16, pcm_to_frames, resample
from agent.providers.piper_tts import synthesize_pcm
from agent.providers.whisper_stt import WhisperSTT
from agent.resilience import BreakerRegistry, ChainSTT, guard_stt
from agent.speculation import SpeculativeSTT
from tests.unit.agent.speech_checks import words

pytestmark = pytest.mark.voice  # loads Whisper or Piper

RATE = 48_000


@pytest.fixture(scope="module")
def vad():
    from livekit.local_inference import init_vad

    init_vad()
    return inference.VAD(min_silence_duration=0.25)


@pytest.fixture(scope="module")
def chain(vad) -> ChainSTT:
    whisper = WhisperSTT(model="tiny.en")
    whisper.prewarm()
    return ChainSTT([guard_stt("whisper", whisper, BreakerRegistry())], vad=vad)


def said(*parts: str, pause: float = 0.0) -> np.ndarray:
    """Piper saying the parts with ``pause`` seconds between them, at the microphone's rate, with silence around."""
    pieces = []
    for i, text in enumerate(parts):
        pcm, rate = synthesize_pcm(text)
        if i:
            pieces.append(np.zeros(int(RATE * pause), np.int16))
        pieces.append(resample(as_int16(pcm), rate, RATE))
    quiet = np.zeros(RATE // 2, np.int16)
    return np.concatenate([quiet, *pieces, quiet, quiet])


async def finals(recogniser: SpeculativeSTT, pcm: np.ndarray) -> list[stt.SpeechEvent]:
    stream = recogniser.stream()
    for frame in pcm_to_frames(pcm, RATE, 20):
        stream.push_frame(frame)
        await asyncio.sleep(0)  # let the VAD keep up, as with a live microphone
    stream.end_input()
    events = [event async for event in stream]
    return [e for e in events if e.type == stt.SpeechEventType.FINAL_TRANSCRIPT]


def test_the_guess_made_at_the_first_short_silence_is_the_turns_transcript(chain, vad):
    recogniser = SpeculativeSTT(chain, vad=vad, speculate_after=0.15)
    [heard] = asyncio.run(finals(recogniser, said("Is parking included?")))
    assert {"parking", "included"} <= set(words(heard.alternatives[0].text)), heard.alternatives[0].text
    assert recogniser.guesses == 1 and recogniser.guesses_used == 1


def test_a_caller_who_goes_on_after_a_short_pause_is_transcribed_whole(chain, vad):
    # with Piper's own trailing silence, a 0.1 s pause is long enough for a guess (0.1 s) and too short for the
    # VAD to end the speech (0.25 s)
    recogniser = SpeculativeSTT(chain, vad=vad, speculate_after=0.1)
    [heard] = asyncio.run(finals(recogniser, said("I would like to book a viewing", "on Saturday morning.",
                                                  pause=0.1)))
    assert {"viewing", "saturday"} <= set(words(heard.alternatives[0].text)), heard.alternatives[0].text
    assert recogniser.guesses >= 2 and recogniser.guesses_used == 1  # the first guess was dropped


def test_without_speculation_it_transcribes_at_the_end_only(chain, vad):
    recogniser = SpeculativeSTT(chain, vad=vad, speculate_after=0)
    [heard] = asyncio.run(finals(recogniser, said("Can I keep a dog?")))
    assert "dog" in words(heard.alternatives[0].text) and recogniser.guesses == 0


def test_a_lost_turn_of_the_chain_is_reported_by_the_wrapper(chain, vad):
    recogniser, lost = SpeculativeSTT(chain, vad=vad), []
    recogniser.on("turn_lost", lost.append)
    chain.emit("turn_lost", RuntimeError("every provider failed"))
    assert len(lost) == 1


def test_the_voice_stack_guesses_only_with_local_speech_recognition():
    from agent.voice import LocalVoice
    from quantum_voice.core.config import Settings

    local = LocalVoice(Settings()).session_parts()["stt"]
    assert isinstance(local, SpeculativeSTT) and local.speculate_after == 0.15
    assert isinstance(LocalVoice(Settings(voice_stt_speculate_seconds=0)).session_parts()["stt"], ChainSTT)
