"""What the speech tests share: the sentence they say, how a transcript is compared, the espeak-ng check."""

from __future__ import annotations

import difflib
import os
import re
import shutil

import pytest

BOOKING_SENTENCE = "I'd like to book a viewing on Saturday."


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def word_errors(said: str, heard: str) -> int:
    """Words inserted, dropped or changed between the two texts, ignoring case and punctuation."""
    expected, got = words(said), words(heard)
    matched = sum(block.size for block in difflib.SequenceMatcher(a=expected, b=got).get_matching_blocks())
    return max(len(expected), len(got)) - matched


def require_espeak() -> None:
    # CI installs espeak-ng (scripts/install-system-deps.sh): there a missing binary is a failure, not a skip.
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is not installed; CI needs it")
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")
