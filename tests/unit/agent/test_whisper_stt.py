"""WhisperSTT through LiveKit's STT API: real speech from Piper and espeak-ng, transcribed offline by tiny.en."""

import asyncio

import numpy as np
import pytest
from livekit.agents import stt

from agent.providers.audio import pcm_to_frames, resample
from agent.providers.espeak_tts import synthesize_espeak_pcm
from agent.providers.piper_tts import synthesize_pcm
from agent.providers.whisper_stt import WhisperSTT, build_prompt, transcribe_pcm
from tests.unit.agent.speech_checks import BOOKING_SENTENCE, require_espeak, word_errors, words


@pytest.fixture(scope="module")
def whisper() -> WhisperSTT:
    recogniser = WhisperSTT(model="tiny.en")
    recogniser.prewarm()
    return recogniser


def recognize(recogniser: WhisperSTT, frames) -> stt.SpeechEvent:
    return asyncio.run(recogniser.recognize(frames))


def test_piper_speech_in_22050_frames_is_transcribed(whisper, booking_speech):
    pcm, rate = booking_speech
    event = recognize(whisper, pcm_to_frames(pcm, rate))
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    [heard] = event.alternatives
    assert heard.language == "en"
    assert word_errors(BOOKING_SENTENCE, heard.text) <= 2, heard.text
    assert 0.3 < heard.confidence <= 1.0


def test_48k_microphone_frames_are_resampled_before_transcription(whisper, booking_speech):
    pcm, rate = booking_speech
    pcm_48k = resample(np.frombuffer(pcm, np.int16), rate, 48_000)
    event = recognize(whisper, pcm_to_frames(pcm_48k, 48_000, frame_ms=10))
    assert word_errors(BOOKING_SENTENCE, event.alternatives[0].text) <= 2, event.alternatives[0].text


def test_espeak_speech_is_roughly_transcribed():
    require_espeak()
    said = "Hello, I would like to book a table for two."
    pcm, rate = synthesize_espeak_pcm(said)
    result = transcribe_pcm(resample(np.frombuffer(pcm, np.int16), rate, 16_000))
    assert word_errors(said, result.text) <= 3, result.text


def test_vocabulary_prompt_spells_a_made_up_business_name():
    pcm, rate = synthesize_pcm("Welcome to Harborview Estates.")
    recogniser = WhisperSTT(model="tiny.en")
    recogniser.set_vocabulary(["Harborview", "Quantum Voice"])
    event = recognize(recogniser, pcm_to_frames(pcm, rate))
    assert "harborview" in words(event.alternatives[0].text), event.alternatives[0].text


def test_usage_records_the_audio_seconds_transcribed(booking_speech):
    pcm, rate = booking_speech
    recogniser = WhisperSTT()
    event = recognize(recogniser, pcm_to_frames(pcm, rate))
    seconds = len(pcm) / 2 / rate
    assert event.recognition_usage.audio_duration == pytest.approx(seconds, abs=0.02)
    assert recogniser.usage.requests == 1
    assert recogniser.usage.audio_seconds == pytest.approx(seconds, abs=0.02)


def test_metrics_are_emitted_for_each_recognition(booking_speech):
    pcm, rate = booking_speech
    recogniser, collected = WhisperSTT(), []
    recogniser.on("metrics_collected", collected.append)
    recognize(recogniser, pcm_to_frames(pcm, rate))
    [metrics] = collected
    assert metrics.audio_duration > 2 and metrics.metadata.model_name == "whisper-tiny.en"


def test_an_empty_buffer_gives_an_empty_final_transcript(whisper):
    event = recognize(whisper, [])
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT and event.alternatives[0].text == ""


def test_transcribe_pcm_reports_audio_seconds_and_time_taken(booking_speech_16k):
    result = transcribe_pcm(booking_speech_16k)
    assert result.audio_seconds == pytest.approx(len(booking_speech_16k) / 16_000)
    assert result.elapsed_ms > 0 and 0 < result.confidence <= 1
    assert word_errors(BOOKING_SENTENCE, result.text) <= 2


def test_the_plugin_is_batch_only_so_the_session_wraps_it_with_vad():
    capabilities = WhisperSTT().capabilities
    assert not capabilities.streaming and not capabilities.interim_results and capabilities.keyterms


def test_prompt_lists_vocabulary_and_session_keyterms_once():
    recogniser = WhisperSTT(vocabulary=["Harborview", " harborview ", "Quantum  Voice"])
    recogniser._update_session_keyterms(["Saturday viewing"])
    assert recogniser.prompt == "Glossary: Harborview, Quantum Voice, Saturday viewing."
    assert build_prompt([]) is None
    assert len(build_prompt([f"Name{i}" for i in range(200)])) <= 401
