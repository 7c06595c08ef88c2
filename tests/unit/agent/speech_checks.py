"""What the speech tests share: the sentence they say, how a transcript is compared, the espeak-ng check."""

from __future__ import annotations

import os
import shutil

import pytest

from agent.bench import word_errors, words  # the bench's word error rate is the tests' measure too

__all__ = ["BOOKING_SENTENCE", "require_espeak", "word_errors", "words"]

BOOKING_SENTENCE = "I'd like to book a viewing on Saturday."


def require_espeak() -> None:
    # CI installs espeak-ng (scripts/install-system-deps.sh): there a missing binary is a failure, not a skip.
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed; CI needs it")
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")
