"""Speech fixtures shared by the provider tests. The models themselves are cached per process by the providers."""

from __future__ import annotations

import numpy as np
import pytest

from agent.providers.audio import resample_to_16k_mono
from agent.providers.piper_tts import synthesize_pcm
from tests.unit.agent.speech_checks import BOOKING_SENTENCE


@pytest.fixture(scope="session")
def booking_speech() -> tuple[bytes, int]:
    """Piper saying BOOKING_SENTENCE: 16-bit mono PCM at the voice's rate (22050 Hz)."""
    return synthesize_pcm(BOOKING_SENTENCE, steady=True)  # the same audio every run


@pytest.fixture(scope="session")
def booking_speech_16k(booking_speech: tuple[bytes, int]) -> np.ndarray:
    pcm, rate = booking_speech
    return resample_to_16k_mono(pcm, rate)
