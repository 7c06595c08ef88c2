"""EspeakTTS: the fallback voice, and the message when espeak-ng is not installed."""

import asyncio

import pytest
from livekit.agents import APIConnectionError

from agent.providers.espeak_tts import EspeakNotInstalled, EspeakTTS, espeak_available, synthesize_espeak_pcm
from tests.unit.agent.speech_checks import require_espeak


async def collect(voice: EspeakTTS, text: str) -> list:
    return [event.frame async for event in voice.synthesize(text)]


def test_espeak_speaks_22050_hz_mono_frames():
    require_espeak()
    voice = EspeakTTS()
    frames = asyncio.run(collect(voice, "Your viewing is booked for Saturday."))
    assert all(f.sample_rate == 22_050 and f.num_channels == 1 for f in frames)
    assert 1.0 < sum(f.duration for f in frames) < 6.0
    assert voice.usage.characters == len("Your viewing is booked for Saturday.")


def test_text_that_looks_like_an_option_is_spoken_not_parsed():
    require_espeak()
    pcm, rate = synthesize_espeak_pcm("--help me please")
    assert rate == 22_050 and len(pcm) / 2 / rate > 0.5


def test_missing_espeak_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without espeak-ng
    assert not espeak_available()
    with pytest.raises(EspeakNotInstalled, match="apt-get install -y espeak-ng"):
        synthesize_espeak_pcm("hello")
    voice = EspeakTTS()  # building the fallback chain still works
    with pytest.raises(APIConnectionError, match="apt-get install -y espeak-ng"):
        asyncio.run(collect(voice, "hello"))


def test_empty_text_gives_silence_without_running_espeak():
    assert synthesize_espeak_pcm("  ") == (b"", 22_050)
    frames = asyncio.run(collect(EspeakTTS(), ""))
    assert sum(f.duration for f in frames) < 0.1
