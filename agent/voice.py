"""The local voice stack, loaded once per process and handed to every call.

Models are process-wide (Whisper, the Piper voice, the Silero VAD and the end-of-turn model each load once); each
call gets its own light provider objects, so per-call state (the Whisper vocabulary prompt, usage totals, VAD
stream state) never leaks between calls.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from livekit.agents import inference

from agent.call import TurnTaking
from quantum_voice.core.config import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class LocalVoice:
    settings: Settings

    @classmethod
    def load(cls, settings: Settings | None = None) -> LocalVoice:
        """The voice stack with its models loaded (slow the first time in a process, then instant)."""
        settings = settings or get_settings()
        key = (settings.voice_stt_model, settings.voice_tts)
        with _lock:
            voice = _loaded.get(key)
            if voice is None:
                voice = _loaded[key] = cls(settings)
                voice.warm_up()
        return voice

    def warm_up(self) -> None:
        from agent.providers.piper_tts import load_piper_voice
        from agent.providers.whisper_stt import load_whisper

        load_whisper(self.settings.voice_stt_model, cpu_threads=self.settings.voice_stt_threads or None)
        if self.settings.voice_tts == "piper":
            load_piper_voice()
        from livekit.local_inference import init_eot, init_vad

        init_vad()
        if self.settings.voice_turn_model:
            init_eot()
        from quantum_voice.services.flows import semantic

        semantic.warm_up()  # the intent examples' embeddings (and the MiniLM model the knowledge search shares)

    def turn_taking(self) -> TurnTaking:
        s = self.settings
        return TurnTaking(vad_min_silence=s.voice_vad_min_silence_seconds,
                          min_endpointing_delay=s.voice_min_endpointing_seconds,
                          max_endpointing_delay=s.voice_max_endpointing_seconds,
                          use_turn_model=s.voice_turn_model,
                          interruption_min_duration=s.voice_interruption_seconds)

    def session_parts(self, vocabulary: list[str] | None = None) -> dict[str, Any]:
        """Fresh per-call STT, TTS (Piper with espeak-ng as its fallback), VAD and turn detector over the shared
        models, and the usage meters the call reads when it ends."""
        from livekit.agents import tts as lk_tts

        from agent.providers.espeak_tts import EspeakTTS
        from agent.providers.piper_tts import PiperTTS
        from agent.providers.whisper_stt import WhisperSTT

        s = self.settings
        stt = WhisperSTT(model=s.voice_stt_model, cpu_threads=s.voice_stt_threads or None)
        if vocabulary:
            stt.set_vocabulary(vocabulary)
        espeak = EspeakTTS()
        meters = [Meter("local-whisper", "stt", s.voice_stt_model, stt.usage, "audio_seconds", "seconds"),
                  Meter("espeak-ng", "tts", "en-us", espeak.usage, "characters", "characters")]
        if s.voice_tts == "piper":
            piper = PiperTTS()
            meters.append(Meter("piper", "tts", "en_US-joe-medium", piper.usage, "characters", "characters"))
            # a failing Piper costs one sentence: the same words come from espeak-ng, and Piper is retried later
            tts = lk_tts.FallbackAdapter([piper, espeak], max_retry_per_tts=0)
        else:
            tts = espeak
        vad = inference.VAD(min_silence_duration=s.voice_vad_min_silence_seconds)
        detector = inference.TurnDetector(version="v1-mini") if s.voice_turn_model else None
        return {"stt": stt, "tts": tts, "vad": vad, "turn_detector": detector, "meters": meters}


@dataclass
class Meter:
    """Where a provider keeps its running usage, and how it is recorded (``usage_records``)."""

    provider: str
    service: str
    model: str
    totals: Any
    attribute: str
    unit: str

    @property
    def quantity(self) -> float:
        return float(getattr(self.totals, self.attribute))


_loaded: dict[tuple, LocalVoice] = {}
_lock = threading.Lock()
