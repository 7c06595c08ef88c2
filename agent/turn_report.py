"""What a call reports after every agent turn: the reply, how it ended, and its timings.

``VoiceCall`` makes one per agent turn and hands it to its listeners (the simulator, the benchmark, a transport
that shows a live transcript) and to ``CallRecorder``, which saves its timings with the agent turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quantum_voice.services import voice_calls


@dataclass
class TurnReport:
    seq: int  # 0 is the greeting
    caller: str | None
    reply: str
    node_id: str | None
    node_type: str | None
    handoff: dict[str, Any] | None
    ended: bool
    interrupted: bool
    heard: str | None
    timings: voice_calls.TurnMetrics
    unspoken: bool = False  # the caller spoke again before any of the reply played: saved, never heard
    agent_seq: int | None = None  # the agent turn's seq in the transcript

    def as_json(self) -> dict[str, Any]:
        t = self.timings
        return {"turn": self.seq, "transcript": self.caller, "reply": self.reply, "node_id": self.node_id,
                "node_type": self.node_type, "handoff": {"reason": self.handoff.get("reason")} if self.handoff
                else None, "interrupted": self.interrupted, "unspoken": self.unspoken,
                "timings": {"stt_ms": _ms(t.stt_ms), "brain_ms": _ms(t.brain_ms),
                            "tts_first_byte_ms": _ms(t.tts_first_byte_ms),
                            "voice_to_voice_ms": _ms(t.voice_to_voice_ms),
                            "endpointing_ms": _ms(t.endpointing_ms)}}


def _ms(value: float | None) -> int | None:
    return None if value is None else int(round(value))
