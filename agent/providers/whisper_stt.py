"""Local speech-to-text: faster-whisper (CTranslate2, int8 on CPU) as a LiveKit Agents STT plugin.

The plugin is non-streaming: ``AgentSession`` wraps it in its VAD ``StreamAdapter``, which hands over one
utterance at a time. ``transcribe_pcm`` is the same engine for code outside LiveKit (simulation, tests, bench).

**The fitted window.** Whisper reads audio in 30-second windows, and faster-whisper pads every utterance to one:
a two-second "Is parking included?" costs the encoder as much as half a minute of speech (~0.4 s of the two cores
here). CTranslate2's encoder takes shorter inputs, so a caller's turn is decoded in a window of
``window_seconds`` (10 s; longer turns get their own length plus a second, up to 30 s). Whisper never saw short
windows in training and tends to say the last sentence again at the end of one; the decode is capped by the
audio's length and a repeated tail is cut (``_drop_repeated_tail``). Measured on the bench's 70 spoken questions
and lead-capture lines (``python -m agent.bench --stt``): ~4x faster at the same word error rate. Turns of 29 s
or more, and ``window_seconds=0``, take faster-whisper's own 30-second path.
"""

from __future__ import annotations

import asyncio
import difflib
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens
from livekit.agents import APIConnectionError, APITimeoutError, stt, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from agent.providers.audio import WHISPER_RATE, as_int16, resample_to_16k_mono
from agent.providers.models import ModelNotAvailable, whisper_model_dir
from agent.providers.usage import RecognitionTotals
from quantum_voice.services.flows.intents import HESITATIONS

DEFAULT_MODEL = "tiny.en"
DEFAULT_WINDOW_SECONDS = 10.0
_FULL_WINDOW_SECONDS = 30.0
_TAIL_SECONDS = 1.0  # silence after the speech inside the window: Whisper ends a sentence better with some
_SILENT_PEAK = 64  # -54 dBFS: no louder than this is a muted line, never words
_TOKENS_PER_SECOND = 8  # a generous cap on what the decoder may write for a second of speech (~3 words)
_MAX_WORDS_PER_SECOND = 4.0  # a fast speaker; text longer than this for its audio is the decoder repeating
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


def spell_vocabulary(text: str, vocabulary: Iterable[str]) -> str:
    """Write the campaign's names the way the campaign spells them when Whisper heard them nearly right
    ("Harboard View" → "Harborview"): the prompt nudges the decoder, this catches what it still splits or
    misspells. Only names of five letters or more, matched over as many words as the name has (or one more) at 85%
    letter similarity."""
    words = text.split()
    for term in sorted({" ".join(str(t).split()) for t in vocabulary}, key=len, reverse=True):
        target = _letters(term)
        if len(target) < 5 or not words:
            continue
        span = len(term.split())
        out, i = [], 0
        while i < len(words):
            match = None
            for size in range(min(len(words) - i, span + 1), 0, -1):
                chunk = words[i:i + size]
                heard = _letters(" ".join(chunk))
                if heard and abs(len(heard) - len(target)) <= 3 and \
                        difflib.SequenceMatcher(a=heard, b=target).ratio() >= 0.85:
                    match = size
                    break
            if match is None:
                out.append(words[i])
                i += 1
                continue
            tail = re.search(r"[^\w']+$", words[i + match - 1])
            out.append(term + (tail.group(0) if tail else ""))
            i += match
        words = out
    return " ".join(words)


# Sounds that carry no words (the flow engine's HESITATIONS): a hum or a hesitation over the agent must not count
# as talking (barge-in), and a turn of nothing else is no turn. "Mhm", "uh-huh" and "yeah" stay: they can be answers.
# What Whisper writes for a hum or breath it cannot place (its training subtitles): only dropped when unsure.
_PHANTOMS = frozenset({"you", "thank you", "thanks for watching", "the end", "the end of the video", "bye",
                       "subtitles by the amara org community"})
_PHANTOM_CONFIDENCE = 0.5


def words_or_nothing(text: str, confidence: float) -> str:
    """``text``, or "" when it is only hesitation sounds ("Mm.", "Hmm, uh.") or, heard with low confidence, one of
    the phrases Whisper makes up for a hum ("The end of the video.")."""
    said = re.findall(r"[a-z']+", text.lower())
    if said and all(word in HESITATIONS for word in said):
        return ""
    if confidence < _PHANTOM_CONFIDENCE and " ".join(said) in _PHANTOMS:
        return ""
    return text


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def said_once(text: str) -> str:
    """``text`` with a sentence said again straight after itself kept once ("Hello? Hello?", "Ball Park. Ball
    Park.", "Yes, thanks. Yes, thanks."): under noise the decoder repeats a short turn to fill its window, and the
    repeat made one word look like a sentence and a hello like several. A caller's real "No. No." loses nothing."""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if sentence and (not kept or _letters(sentence) != _letters(kept[-1]) or not _letters(sentence)):
            kept.append(sentence)
    return " ".join(kept)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def transcribe_pcm(pcm_int16_16k: np.ndarray | bytes, *, model: str = DEFAULT_MODEL, prompt: str | None = None,
                   language: str = "en", cpu_threads: int | None = None, cache_dir: str | Path | None = None,
                   window_seconds: float = DEFAULT_WINDOW_SECONDS) -> Transcript:
    """Transcribe one utterance of 16 kHz mono PCM (blocking; run it in a thread from async code).

    ``window_seconds`` is the fitted window (see the module's docstring); 0 decodes in Whisper's full 30 s."""
    samples = as_int16(pcm_int16_16k)
    audio_seconds = len(samples) / WHISPER_RATE
    if len(samples) == 0:
        return Transcript("", 0.0, 0.0, 0.0, language)
    if int(np.abs(samples.astype(np.int32)).max()) < _SILENT_PEAK:  # Whisper hears "you" in digital silence
        return Transcript("", 0.0, audio_seconds, 0.0, language)
    whisper = load_whisper(model, cpu_threads=cpu_threads, cache_dir=cache_dir)
    started = time.perf_counter()
    audio = samples.astype(np.float32) / 32768.0
    if window_seconds and audio_seconds + _TAIL_SECONDS < _FULL_WINDOW_SECONDS:
        text, confidence, used = _decode_fitted(whisper, audio, prompt, language, window_seconds)
        return Transcript(text, confidence, audio_seconds, (time.perf_counter() - started) * 1000, used)
    # greedy like the fitted path: Whisper's temperature fallback samples at random, so the same half minute of
    # audio came out with 7 or 24 of its 13 sentences from one run to the next
    segments, info = whisper.transcribe(
        audio, language=language, beam_size=1, vad_filter=False, condition_on_previous_text=False,
        initial_prompt=prompt, temperature=0.0)
    segments = list(segments)  # decoding happens while iterating
    text = " ".join(segment.text.strip() for segment in segments).strip()
    elapsed_ms = (time.perf_counter() - started) * 1000
    # An English-only model (tiny.en) answers in English whatever was asked; info says what was used.
    return Transcript(text, _confidence(segments), audio_seconds, elapsed_ms, info.language or language)


def _decode_fitted(whisper: WhisperModel, audio: np.ndarray, prompt: str | None, language: str,
                   window_seconds: float) -> tuple[str, float, str]:
    """Greedy decode of one utterance in a window just long enough for it: (text, confidence, language)."""
    seconds = len(audio) / WHISPER_RATE
    window = min(_FULL_WINDOW_SECONDS, max(window_seconds, seconds + _TAIL_SECONDS))
    window_samples = int(window * WHISPER_RATE)
    # pad the audio, not the features: the log-mel of silence is what Whisper knows after speech
    features = whisper.feature_extractor(audio, padding=max(0, window_samples - len(audio)))
    frames = window_samples // whisper.feature_extractor.hop_length
    features = np.ascontiguousarray(features[None, :, :frames])
    multilingual = whisper.model.is_multilingual
    tokenizer = Tokenizer(whisper.hf_tokenizer, multilingual, task="transcribe",
                          language=language if multilingual else "en")
    head: list[int] = []
    if prompt:
        head = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())[-(whisper.max_length // 2 - 1):]]
    head += [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    encoded = whisper.model.encode(ctranslate2.StorageView.from_array(features))
    [result] = whisper.model.generate(
        encoded, [head], beam_size=1, return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=list(get_suppressed_tokens(tokenizer, (-1,))),
        max_length=min(whisper.max_length, len(head) + int(seconds * _TOKENS_PER_SECOND) + 16))
    tokens = _drop_repeated_tail(result.sequences_ids[0], max_words=seconds * _MAX_WORDS_PER_SECOND,
                                 count_words=lambda part: len(tokenizer.decode(part).split()))
    length = len(result.sequences_ids[0])
    avg_logprob = result.scores[0] * length / (length + 1)  # as faster-whisper reports it (length penalty 1)
    if result.no_speech_prob > 0.6 and avg_logprob < -1.0:  # faster-whisper's rule: noise, not words
        return "", 0.0, language
    text = tokenizer.decode([t for t in tokens if t < tokenizer.eot]).strip()
    return text, float(min(1.0, max(0.0, math.exp(avg_logprob)))), language


def _drop_repeated_tail(tokens: list[int], *, max_words: float | None = None,
                        count_words: Callable[[list[int]], int] = len) -> list[int]:
    """Cut the decoder's habit, in a short window, of starting the utterance over ("Is parking included? Is
    parking included? Is park", "Yes, I agree. Yes, I agree. Yes, yes"). The opening said again (three tokens or
    more, or all that is left) marks the repeat; a caller may really say a thing twice, so with ``max_words`` (what
    the audio's length can hold) the text is only cut when it is longer than that, and keeps as many whole
    repeats as fit (at least one)."""
    n = len(tokens)
    period = next((start for start in range(2, n - 1)
                   if (min(start, n - start) >= 3 or n - start <= start)
                   and tokens[start:start + min(start, n - start)] == tokens[:min(start, n - start)]), None)
    if period is None:
        return tokens
    if max_words is None:
        return tokens[:period]
    if count_words(tokens) <= max_words:
        return tokens
    whole = 1
    while tokens[whole * period:(whole + 1) * period] == tokens[:period]:
        whole += 1
    fit = int(max_words // max(1, count_words(tokens[:period])))
    return tokens[:period * max(1, min(whole, fit))]


def _confidence(segments: list) -> float:
    if not segments:
        return 0.0
    weights = [max(segment.end - segment.start, 0.01) for segment in segments]
    mean_logprob = sum(w * s.avg_logprob for w, s in zip(weights, segments, strict=True)) / sum(weights)
    return float(min(1.0, max(0.0, math.exp(mean_logprob))))


class WhisperSTT(stt.STT):
    """faster-whisper behind LiveKit's STT interface; ``set_vocabulary`` biases it towards the campaign's names."""

    def __init__(self, *, model: str = DEFAULT_MODEL, cpu_threads: int | None = None, language: str = "en",
                 vocabulary: Iterable[str] = (), cache_dir: str | Path | None = None,
                 window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False, keyterms=True))
        self._model_name = model
        self._cpu_threads = cpu_threads or default_cpu_threads()
        self._language = language
        self._cache_dir = cache_dir
        self._window_seconds = window_seconds
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
                                  language=language_code, cpu_threads=self._cpu_threads, cache_dir=self._cache_dir,
                                  window_seconds=self._window_seconds),
                timeout=conn_options.timeout)
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(f"whisper took over {conn_options.timeout}s", retryable=False) from exc
        except (ModelNotAvailable, RuntimeError, OSError, ValueError) as exc:
            raise APIConnectionError(f"whisper failed: {exc}", retryable=False) from exc
        self.usage.add(result.audio_seconds)
        text = spell_vocabulary(said_once(words_or_nothing(result.text, result.confidence)),
                                [*self._vocabulary, *self._session_keyterms])
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid(),
            alternatives=[stt.SpeechData(language=result.language, text=text, confidence=result.confidence,
                                         end_time=result.audio_seconds)],
            recognition_usage=stt.RecognitionUsage(audio_duration=result.audio_seconds))


def _whisper_language(code: str) -> str:
    # Whisper wants ISO 639-1 ("en"), LiveKit may pass a BCP-47 tag ("en-US").
    return str(code).replace("_", "-").split("-")[0].lower() or "en"
