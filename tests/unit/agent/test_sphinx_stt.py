"""SphinxSTT, the last-resort recognizer: the model inside the pocketsphinx wheel, real speech from Piper/espeak-ng."""

import asyncio
from pathlib import Path

import numpy as np
import pytest
from livekit.agents import stt

from agent.providers.audio import pcm_to_frames, resample
from agent.providers.espeak_tts import synthesize_espeak_pcm
from agent.providers.sphinx_stt import SPHINX_CONFIDENCE, SphinxSTT, transcribe_sphinx
from tests.unit.agent.speech_checks import BOOKING_SENTENCE, require_espeak, words

pytestmark = pytest.mark.voice  # loads Whisper or Piper


def recognize(recogniser: SphinxSTT, frames) -> stt.SpeechEvent:
    return asyncio.run(recogniser.recognize(frames))


def test_the_model_comes_from_the_installed_wheel_not_a_download():
    from pocketsphinx import get_model_path

    model = Path(get_model_path())
    assert "site-packages" in model.parts and (model / "en-us" / "cmudict-en-us.dict").is_file()


def test_piper_speech_is_transcribed_through_the_livekit_interface(booking_speech):
    pcm, rate = booking_speech  # 22050 Hz: resampled to 16 kHz by the plugin
    recogniser = SphinxSTT()
    event = recognize(recogniser, pcm_to_frames(pcm, rate))
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    [heard] = event.alternatives
    # Piper's voice varies a little from run to run, and pocketsphinx is rough: most words, not all
    assert "book" in words(heard.text) and len(set(words(BOOKING_SENTENCE)) & set(words(heard.text))) >= 4, heard.text
    assert heard.confidence == SPHINX_CONFIDENCE
    assert recogniser.usage.requests == 1 and recogniser.usage.audio_seconds == pytest.approx(len(pcm) / 2 / rate,
                                                                                               abs=0.02)


def test_espeak_speech_is_roughly_transcribed():
    require_espeak()
    said = "How much is the monthly fee?"
    pcm, rate = synthesize_espeak_pcm(said)
    heard = transcribe_sphinx(resample(np.frombuffer(pcm, np.int16), rate, 16_000))
    assert len(set(words(said)) & set(words(heard))) >= 3, heard  # rough, but some words come through


def test_silence_and_an_empty_buffer_give_an_empty_transcript():
    assert transcribe_sphinx(np.zeros(0, np.int16)) == ""
    event = recognize(SphinxSTT(), [])
    assert event.alternatives[0].text == "" and event.alternatives[0].confidence == 0.0


def test_the_plugin_is_batch_only():
    capabilities = SphinxSTT().capabilities
    assert not capabilities.streaming and not capabilities.interim_results
