"""Local speech-to-text: faster-whisper (CTranslate2, int8 on CPU) as a LiveKit Agents STT plugin.

The plugin is non-streaming: ``AgentSession`` wraps it in its VAD ``StreamAdapter``, which hands over one
utterance at a time. ``transcribe_pcm`` is the same engine for code outside LiveKit (simulation, tests, bench).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel
from livekit.agents import APIConnectionError, APITimeoutError, stt, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from agent.providers.audio import WHISPER_RATE, as_int16, resample_to_16k_mono
from agent.providers.models import ModelNotAvailable, whisper_model_dir
from agent.providers.usage import RecognitionTotals

DEFAULT_MODEL = "tiny.en"
# Whisper keeps only the last ~223 prompt tokens; a short glossary leaves room for the words that matter.
_PROMPT_MAX_CHARS = 400

_models: dict[tuple[str, str, int], WhisperModel] = {}
_models_lock = threading.Lock()


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float  # [0, 1], from the segments' average log-probability
    audio_seconds: float  # the audio transcribed: the usage figure
    elapsed_ms: float
    language: str = "en"


def default_cpu_threads() -> int:
    # More than four threads buys little for tiny/base and starves the rest of the call (TTS, VAD).
    return max(1, min(4, os.cpu_count() or 1))


def load_whisper(model: str = DEFAULT_MODEL, *, cpu_threads: int | None = None,
                 cache_dir: str | Path | None = None) -> WhisperModel:
    """The process-wide WhisperModel for (model, threads), loaded on first use."""
    threads = cpu_threads or default_cpu_threads()
    key = (model, str(cache_dir or ""), threads)
    loaded = _models.get(key)
    if loaded is not None:
        return loaded
    with _models_lock:
        if key not in _models:
            folder = whisper_model_dir(model, cache_dir=cache_dir)
            _models[key] = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads,
                                        local_files_only=True)
        return _models[key]


def build_prompt(vocabulary: Iterable[str]) -> str | None:
    """An initial prompt that spells the given names, so Whisper writes "Harborview", not "Harbor View"."""
    terms, seen = [], set()
    for word in vocabulary:
        term = " ".join(str(word).split())
        if term and term.lower() not in seen:
            seen.add(term.lower())
            terms.append(term)
    if not terms:
        return None
    prompt = "Glossary: " + ", ".join(terms)
    if len(prompt) > _PROMPT_MAX_CHARS:
        prompt = prompt[:_PROMPT_MAX_CHARS].rsplit(",", 1)[0]
    return prompt + "."


def transcribe_pcm(pcm_int16_16k: np.ndarray | bytes, *, model: str = DEFAULT_MODEL, prompt: str | None = None,
                   language: str = "en", cpu_threads: int | None = None,
                   cache_dir: str | Path | None = None) -> Transcript:
    """Transcribe one utterance of 16 kHz mono PCM (blocking; run it in a thread from async code)."""
    samples = as_int16(pcm_int16_16k)
    audio_seconds = len(samples) / WHISPER_RATE
    if len(samples) == 0:
        return Transcript("", 0.0, 0.0, 0.0, language)
    whisper = load_whisper(model, cpu_threads=cpu_threads, cache_dir=cache_dir)
    started = time.perf_counter()
    segments, info = whisper.transcribe(
        samples.astype(np.float32) / 32768.0, language=language, beam_size=1, vad_filter=False,
        condition_on_previous_text=False, initial_prompt=prompt)
    segments = list(segments)  # decoding happens while iterating
    text = " ".join(segment.text.strip() for segment in segments).strip()
    elapsed_ms = (time.perf_counter() - started) * 1000
    # An English-only model (tiny.en) answers in English whatever was asked; info says what was used.
    return Transcript(text, _confidence(segments), audio_seconds, elapsed_ms, info.language or language)


def _confidence(segments: list) -> float:
    if not segments:
        return 0.0
    weights = [max(segment.end - segment.start, 0.01) for segment in segments]
    mean_logprob = sum(w * s.avg_logprob for w, s in zip(weights, segments, strict=True)) / sum(weights)
    return float(min(1.0, max(0.0, math.exp(mean_logprob))))


class WhisperSTT(stt.STT):
    """faster-whisper behind LiveKit's STT interface; ``set_vocabulary`` biases it towards the campaign's names."""

    def __init__(self, *, model: str = DEFAULT_MODEL, cpu_threads: int | None = None, language: str = "en",
                 vocabulary: Iterable[str] = (), cache_dir: str | Path | None = None) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False, keyterms=True))
        self._model_name = model
        self._cpu_threads = cpu_threads or default_cpu_threads()
        self._language = language
        self._cache_dir = cache_dir
        self._vocabulary: list[str] = list(vocabulary)
        self._session_keyterms: list[str] = []
        self.usage = RecognitionTotals()

    @property
    def model(self) -> str:
        return f"whisper-{self._model_name}"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    @property
    def vocabulary(self) -> list[str]:
        return list(self._vocabulary)

    @property
    def prompt(self) -> str | None:
        return build_prompt([*self._vocabulary, *self._session_keyterms])

    def set_vocabulary(self, words: Iterable[str]) -> None:
        """Names to spell right (business, products, places); replaces the previous list."""
        self._vocabulary = list(words)

    def _update_session_keyterms(self, keyterms: list[str]) -> None:
        # LiveKit's keyterm hook (session stt_context_options) feeds the same prompt.
        self._session_keyterms = list(keyterms)

    def prewarm(self) -> None:
        """Load the model now rather than on the first utterance."""
        load_whisper(self._model_name, cpu_threads=self._cpu_threads, cache_dir=self._cache_dir)

    async def _recognize_impl(self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> stt.SpeechEvent:
        language_code = _whisper_language(language if utils.is_given(language) and language else self._language)
        pcm = resample_to_16k_mono(utils.combine_frames(buffer)) if buffer else np.zeros(0, np.int16)
        try:
            result = await asyncio.wait_for(
                asyncio.to_thread(transcribe_pcm, pcm, model=self._model_name, prompt=self.prompt,
                                  language=language_code, cpu_threads=self._cpu_threads, cache_dir=self._cache_dir),
                timeout=conn_options.timeout)
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(f"whisper took over {conn_options.timeout}s", retryable=False) from exc
        except (ModelNotAvailable, RuntimeError, OSError, ValueError) as exc:
            raise APIConnectionError(f"whisper failed: {exc}", retryable=False) from exc
        self.usage.add(result.audio_seconds)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid(),
            alternatives=[stt.SpeechData(language=result.language, text=result.text, confidence=result.confidence,
                                         end_time=result.audio_seconds)],
            recognition_usage=stt.RecognitionUsage(audio_duration=result.audio_seconds))


def _whisper_language(code: str) -> str:
    # Whisper wants ISO 639-1 ("en"), LiveKit may pass a BCP-47 tag ("en-US").
    return str(code).replace("_", "-").split("-")[0].lower() or "en"
