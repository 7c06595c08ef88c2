"""The voice stack, loaded once per process and handed to every call.

Models are process-wide (Whisper, pocketsphinx, the Piper voice, the Silero VAD and the end-of-turn model each load
once); each call gets its own light provider objects, so per-call state (the Whisper vocabulary prompt, usage
totals, VAD stream state) never leaks between calls. The providers come as fallback chains (``agent/resilience.py``):
STT [cloud →] Whisper → pocketsphinx, TTS [cloud →] Piper → espeak-ng, each provider behind its process-wide
circuit breaker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from livekit.agents import inference

from agent import resilience
from agent.call import TurnTaking
from agent.speculation import SpeculativeSTT
from agent.turns import TranscriptTurnDetector
from agent.providers import cloud  # imports the cloud plugins now: livekit wants them registered on the main thread
from quantum_voice.core.config import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class LocalVoice:
    settings: Settings

    @classmethod
    def load(cls, settings: Settings | None = None) -> LocalVoice:
        """The voice stack with its models loaded (slow the first time in a process, then instant)."""
        settings = settings or get_settings()
        key = (settings.voice_stt_model, settings.voice_tts, settings.voice_stt_provider, settings.voice_tts_provider)
        with _lock:
            voice = _loaded.get(key)
            if voice is None:
                voice = _loaded[key] = cls(settings)
                voice.warm_up()
        return voice

    def warm_up(self) -> None:
        from agent.providers.piper_tts import load_piper_voice
        from agent.providers.sphinx_stt import load_sphinx
        from agent.providers.whisper_stt import load_whisper

        cloud.check_cloud_settings(self.settings)  # a chosen cloud provider without its key stops the start here
        load_whisper(self.settings.voice_stt_model, cpu_threads=self.settings.voice_stt_threads or None)
        load_sphinx()
        if self.settings.voice_tts == "piper":
            load_piper_voice()
        from livekit.local_inference import init_eot, init_vad

        init_vad()
        if self.settings.voice_turn_detector == "audio":
            init_eot()
        from quantum_voice.services.flows import semantic
        from quantum_voice.services.knowledge import grammar

        semantic.warm_up()  # the intent examples' embeddings (and the MiniLM model the knowledge search shares)
        grammar.warm_up()  # the parser that makes listed items sentences

    def turn_taking(self) -> TurnTaking:
        s = self.settings
        return TurnTaking(vad_min_silence=s.voice_vad_min_silence_seconds,
                          min_endpointing_delay=s.voice_min_endpointing_seconds,
                          max_endpointing_delay=s.voice_max_endpointing_seconds,
                          interruption_min_duration=s.voice_interruption_seconds,
                          false_interruption_timeout=s.voice_false_interruption_seconds)

    def session_parts(self, vocabulary: list[str] | None = None) -> dict[str, Any]:
        """Fresh per-call STT and TTS fallback chains, VAD and turn detector over the shared models, and the usage
        meters the call reads when it ends."""
        s = self.settings
        vad = inference.VAD(min_silence_duration=s.voice_vad_min_silence_seconds)
        stt, stt_meters = self._stt_chain(vad, vocabulary)
        tts, tts_meters = self._tts_chain()
        return {"stt": stt, "tts": tts, "vad": vad, "turn_detector": turn_detector(s.voice_turn_detector),
                "meters": stt_meters + tts_meters}

    def _stt_chain(self, vad, vocabulary: list[str] | None) -> tuple[Any, list[Meter]]:
        from agent.providers.sphinx_stt import SphinxSTT
        from agent.providers.whisper_stt import WhisperSTT

        s = self.settings
        whisper = WhisperSTT(model=s.voice_stt_model, cpu_threads=s.voice_stt_threads or None,
                             window_seconds=s.voice_stt_window_seconds)
        if vocabulary:
            whisper.set_vocabulary(vocabulary)
        sphinx = SphinxSTT()
        guards = [resilience.guard_stt("whisper", whisper), resilience.guard_stt("pocketsphinx", sphinx)]
        meters = [Meter("local-whisper", "stt", s.voice_stt_model, whisper.usage, "audio_seconds", "seconds"),
                  Meter("pocketsphinx", "stt", sphinx.model, sphinx.usage, "audio_seconds", "seconds")]
        primary = cloud.cloud_stt(s, vocabulary)
        if primary is not None:
            guard = resilience.guard_stt(primary.name, primary.plugin)
            guards.insert(0, guard)
            meters.insert(0, Meter(primary.name, "stt", primary.model, guard.usage, "audio_seconds", "seconds"))
        chain = resilience.ChainSTT(guards, vad=vad, timeout=s.voice_stt_timeout_seconds)
        if primary is not None or not s.voice_stt_speculate_seconds:
            return chain, meters  # livekit's StreamAdapter: the utterance is transcribed once the VAD ends it
        return SpeculativeSTT(chain, vad=vad, speculate_after=s.voice_stt_speculate_seconds), meters

    def _tts_chain(self) -> tuple[Any, list[Meter]]:
        from agent.providers.espeak_tts import EspeakTTS
        from agent.providers.piper_tts import PiperTTS

        s = self.settings
        timeout = s.voice_tts_timeout_seconds
        espeak = EspeakTTS()
        guards = [resilience.guard_tts("espeak-ng", espeak, timeout=timeout)]
        meters = [Meter("espeak-ng", "tts", "en-us", espeak.usage, "characters", "characters")]
        if s.voice_tts == "piper":
            # a failing Piper costs one sentence: the same words come from espeak-ng, and Piper is retried later
            piper = PiperTTS()
            guards.insert(0, resilience.guard_tts("piper", piper, timeout=timeout))
            meters.append(Meter("piper", "tts", "en_US-joe-medium", piper.usage, "characters", "characters"))
        primary = cloud.cloud_tts(s)
        if primary is not None:
            guard = resilience.guard_tts(primary.name, primary.plugin, timeout=timeout)
            guards.insert(0, guard)
            meters.insert(0, Meter(primary.name, "tts", primary.model, guard.usage, "characters", "characters"))
        return resilience.tts_chain(guards), meters


TURN_DETECTORS = ("transcript", "audio", "vad")


def turn_detector(kind: str) -> Any:
    """The end-of-turn judge for ``VOICE_TURN_DETECTOR``: the transcript rules (agent/turns.py, the default),
    livekit's offline audio model, or none (VAD silence alone)."""
    if kind == "transcript":
        return TranscriptTurnDetector()
    if kind == "audio":
        return inference.TurnDetector(version="v1-mini")
    if kind == "vad":
        return None
    raise ValueError(f"VOICE_TURN_DETECTOR={kind!r} is not known: use one of {', '.join(TURN_DETECTORS)}.")


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
