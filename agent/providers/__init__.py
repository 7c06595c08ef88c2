"""Speech providers of the voice sidecar, as LiveKit Agents plugins: Whisper and pocketsphinx STT, Piper and
espeak-ng TTS, and the optional Deepgram/OpenAI adapters (``cloud``).

Exports resolve lazily, so ``from agent.providers.audio import read_wav`` does not pay for importing LiveKit
Agents, faster-whisper and Piper (over a second).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "audio": ("pcm_to_frames", "frames_to_pcm", "read_wav", "write_wav", "parse_wav", "resample",
              "resample_to_16k_mono"),
    "models": ("ModelNotAvailable", "PiperVoiceFiles", "model_cache_dir", "piper_voice_path", "whisper_model_dir"),
    "usage": ("RecognitionTotals", "SynthesisTotals"),
    "whisper_stt": ("Transcript", "WhisperSTT", "build_prompt", "load_whisper", "transcribe_pcm"),
    "piper_tts": ("PiperTTS", "iter_piper_pcm", "load_piper_voice", "synthesize_pcm"),
    "espeak_tts": ("EspeakNotInstalled", "EspeakTTS", "espeak_available", "synthesize_espeak_pcm"),
    "sphinx_stt": ("SphinxSTT", "load_sphinx", "transcribe_sphinx"),
    "cloud": ("CloudProvider", "CloudProviderNotConfigured", "check_cloud_settings", "cloud_stt", "cloud_tts"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)

if TYPE_CHECKING:
    from agent.providers.audio import (frames_to_pcm, parse_wav, pcm_to_frames, read_wav, resample,
                                       resample_to_16k_mono, write_wav)
    from agent.providers.cloud import (CloudProvider, CloudProviderNotConfigured, check_cloud_settings, cloud_stt,
                                       cloud_tts)
    from agent.providers.espeak_tts import EspeakNotInstalled, EspeakTTS, espeak_available, synthesize_espeak_pcm
    from agent.providers.models import (ModelNotAvailable, PiperVoiceFiles, model_cache_dir, piper_voice_path,
                                        whisper_model_dir)
    from agent.providers.piper_tts import PiperTTS, iter_piper_pcm, load_piper_voice, synthesize_pcm
    from agent.providers.sphinx_stt import SphinxSTT, load_sphinx, transcribe_sphinx
    from agent.providers.usage import RecognitionTotals, SynthesisTotals
    from agent.providers.whisper_stt import Transcript, WhisperSTT, build_prompt, load_whisper, transcribe_pcm


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
