"""The voice stack, loaded once per test module (the models are process-wide; each call gets its own providers)."""

from __future__ import annotations

import pytest

from agent.voice import LocalVoice


@pytest.fixture(scope="module")
def voice() -> LocalVoice:
    return LocalVoice.load()
