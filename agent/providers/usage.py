"""Running totals a provider instance keeps, read by the session for per-call usage records."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RecognitionTotals:
    requests: int = 0
    audio_seconds: float = 0.0

    def add(self, audio_seconds: float) -> None:
        self.requests += 1
        self.audio_seconds += audio_seconds


@dataclass
class SynthesisTotals:
    requests: int = 0
    characters: int = 0
    audio_seconds: float = 0.0

    def add(self, characters: int, audio_seconds: float) -> None:
        self.requests += 1
        self.characters += characters
        self.audio_seconds += audio_seconds
