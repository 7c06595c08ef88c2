"""Circuit breakers, time limits and the named fallback chains of the voice loop.

The chains, first choice first (an open breaker skips its provider; the last one is always tried):

* STT: [Deepgram or OpenAI →] Whisper → pocketsphinx (``VOICE_STT_PROVIDER``), each attempt within
  ``VOICE_STT_TIMEOUT_SECONDS`` (3 s; an utterance longer than that gets its own length);
* TTS: [Deepgram or OpenAI →] Piper → espeak-ng (``VOICE_TTS_PROVIDER``, ``VOICE_TTS``), each attempt's audio within
  ``VOICE_TTS_TIMEOUT_SECONDS``;
* knowledge: the full search within ``KNOWLEDGE_ANSWER_TIMEOUT_SECONDS`` (2 s), else the Q&A pairs alone
  (``services/flows/knowledge_adapter.py``);
* brain: a flow step that fails is a short apology (``agent/brain.py``; ``VOICE_BRAIN_TIMEOUT_SECONDS`` is the limit
  it is meant to apply).

Each provider sits behind a ``GuardedSTT`` / ``GuardedTTS``: its time limit and its ``ProviderBreaker`` (open
after 5 failures in a row within 60 s, one trial call after 30 s, closed again by a success). The chains are
livekit's own ``FallbackAdapter``s over the guarded providers. ``ChainSTT`` is non-streaming on purpose: the
session's VAD cuts the caller's speech into utterances and each utterance goes down the chain whole, so a provider
that fails mid-call costs no turn (the same audio goes to the next provider). Were every provider to fail, the turn
is lost, never the call: ``ChainSTT`` answers an empty transcript and emits ``"turn_lost"``.

Breakers are process-wide, one per provider, shared by all of a sidecar's calls: once one call has found a provider
down, the next calls skip it without waiting. ``publish_breakers`` writes their states where ``/api/health`` reads
them (``services/health.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from livekit.agents import APIConnectionError, APIError, APITimeoutError, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.vad import VAD

from agent.providers.usage import RecognitionTotals, SynthesisTotals
from quantum_voice.core.config import get_settings
from quantum_voice.core.resilience import CircuitBreaker

log = logging.getLogger(__name__)

FAILURE_THRESHOLD = 5  # failures in a row ...
FAILURE_WINDOW_SECONDS = 60.0  # ... within this long open the breaker
RESET_SECONDS = 30.0  # an open breaker lets one trial call through after this long


class ProviderBreaker(CircuitBreaker):
    """The breaker of one speech provider, with what an admin wants to see: failures in a row and the last error."""

    def __init__(self, name: str, *, kind: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name, failure_threshold=FAILURE_THRESHOLD, window_seconds=FAILURE_WINDOW_SECONDS,
                         reset_seconds=RESET_SECONDS, clock=clock)
        self.kind = kind  # stt | tts
        self.failures = 0  # in a row; a success resets it
        self.last_error: str | None = None

    def record_failure(self, error: str | None = None) -> None:
        self.failures += 1
        self.last_error = error
        super().record_failure()

    def record_success(self) -> None:
        self.failures = 0
        super().record_success()

    def release(self) -> None:
        """A call cancelled from outside (the caller hung up or talked over the agent) says nothing about the
        provider: give back the half-open trial it may hold, without counting it either way."""
        with self._lock:
            self._trial_running = False

    def snapshot(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "state": self.state, "failures": self.failures,
                "last_error": self.last_error}


class BreakerRegistry:
    """The process-wide breakers, one per provider name (``stt:deepgram``, ``tts:piper``, ...)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._breakers: dict[str, ProviderBreaker] = {}
        self._lock = threading.Lock()

    def breaker(self, name: str, *, kind: str) -> ProviderBreaker:
        with self._lock:
            if name not in self._breakers:
                self._breakers[name] = ProviderBreaker(name, kind=kind, clock=self.clock)
            return self._breakers[name]

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            breakers = sorted(self._breakers.values(), key=lambda b: b.name)
        return [b.snapshot() for b in breakers]

    def reset(self) -> None:
        with self._lock:
            self._breakers.clear()


breakers = BreakerRegistry()


def publish_breakers(worker_id: str, registry: BreakerRegistry | None = None) -> list[dict[str, Any]]:
    """Store this sidecar's breaker states for ``/api/health`` (blocking: run it in a thread, with the heartbeat)."""
    from quantum_voice.services.health import save_breaker_snapshot

    snapshot = (registry or breakers).snapshot()
    save_breaker_snapshot(worker_id, snapshot)
    return snapshot


# ---------------------------------------------------------------- STT


class _Wrapper:
    """A guard speaks for the livekit plugin it wraps: the same model and provider names."""

    _provider: Any

    @property
    def wrapped(self) -> Any:
        return self._provider

    @property
    def model(self) -> str:
        return self._provider.model

    @property
    def provider(self) -> str:
        return self._provider.provider


class GuardedSTT(_Wrapper, stt.STT):
    """One STT provider behind its breaker and time limit; non-streaming (one utterance per request)."""

    def __init__(self, provider: stt.STT, breaker: ProviderBreaker) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False,
                                                          keyterms=provider.capabilities.keyterms))
        self._provider = provider
        self.breaker = breaker
        self.always_tried = False  # the last provider of a chain: skipping it would only lose the turn
        self.usage = RecognitionTotals()  # what this provider recognized (cloud usage is metered from it)

    def _update_session_keyterms(self, keyterms: list[str]) -> None:
        if self._provider.capabilities.keyterms:  # the others would only warn
            self._provider._update_session_keyterms(keyterms)

    def prewarm(self) -> None:
        self._provider.prewarm()

    async def _recognize_impl(self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> stt.SpeechEvent:
        if not (self.always_tried or self.breaker.allow()):
            raise APIConnectionError(f"{self.breaker.name}: circuit open", retryable=False)
        seconds = utils.audio.calculate_audio_duration(buffer) if buffer else 0.0
        budget = max(conn_options.timeout, seconds)  # slower than real time is as good as down
        options = dataclasses.replace(conn_options, max_retry=0, timeout=budget)
        try:
            event = await asyncio.wait_for(self._provider.recognize(buffer, language=language, conn_options=options),
                                           budget)
        except asyncio.CancelledError:
            self.breaker.release()
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a provider is the next provider's turn
            self.breaker.record_failure(describe(exc, budget))
            log.warning("%s failed (%s); the next provider takes the utterance", self.breaker.name,
                        type(exc).__name__)
            if isinstance(exc, asyncio.TimeoutError):
                raise APITimeoutError(f"{self.breaker.name} took over {budget:.1f}s", retryable=False) from exc
            if isinstance(exc, APIError):
                raise
            raise APIConnectionError(f"{self.breaker.name} failed: {type(exc).__name__}", retryable=False) from exc
        self.breaker.record_success()
        self.usage.add(seconds)
        return event


class ChainSTT(stt.STT):
    """STT providers in order of preference, as one non-streaming STT for ``AgentSession`` (which wraps it in its
    VAD), over livekit's ``stt.FallbackAdapter``: a provider that fails or is skipped hands the same utterance on."""

    def __init__(self, providers: list[GuardedSTT], *, vad: VAD, timeout: float = 3.0) -> None:
        if not providers:
            raise ValueError("a chain needs at least one STT provider")
        super().__init__(capabilities=stt.STTCapabilities(
            streaming=False, interim_results=False, keyterms=any(p.capabilities.keyterms for p in providers)))
        for provider in providers:
            provider.always_tried = False
        providers[-1].always_tried = True
        self.providers = list(providers)
        self.lost_turns = 0
        # The adapter's own stream path is never used (it needs the VAD only to be built); recognize() is.
        self._fallback = stt.FallbackAdapter(self.providers, vad=vad, attempt_timeout=timeout, max_retry_per_stt=0,
                                             retry_interval=0)

    @property
    def model(self) -> str:
        return self._fallback._active_instance.model

    @property
    def provider(self) -> str:
        return "+".join(p.provider for p in self.providers)

    def _update_session_keyterms(self, keyterms: list[str]) -> None:
        for provider in self.providers:
            provider._update_session_keyterms(keyterms)

    def prewarm(self) -> None:
        for provider in self.providers:
            provider.prewarm()

    async def _recognize_impl(self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> stt.SpeechEvent:
        try:
            return await self._fallback.recognize(buffer, language=language)
        except APIError as exc:
            # Raising would end the session's STT stream for the rest of the call: lose this turn only.
            self.lost_turns += 1
            log.error("every STT provider failed on an utterance (%s); the turn is lost", exc)
            self.emit("turn_lost", exc)
            return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=utils.shortuuid(),
                                   alternatives=[stt.SpeechData(language="en", text="")])

    async def aclose(self) -> None:
        await self._fallback.aclose()


# ---------------------------------------------------------------- TTS


class GuardedTTS(_Wrapper, tts.TTS):
    """One TTS provider behind its breaker and time limit; non-streaming (one sentence per request)."""

    def __init__(self, provider: tts.TTS, breaker: ProviderBreaker, *, timeout: float = 5.0) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=provider.sample_rate,
                         num_channels=provider.num_channels)
        self._provider = provider
        self.breaker = breaker
        self.timeout = timeout  # to each piece of audio, the first one included
        self.always_tried = False
        self.usage = SynthesisTotals()

    def prewarm(self) -> None:
        self._provider.prewarm()

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> _GuardedChunkedStream:
        return _GuardedChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    async def aclose(self) -> None:
        await self._provider.aclose()


class _GuardedChunkedStream(tts.ChunkedStream):
    def __init__(self, *, tts: GuardedTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._guard = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        guard, breaker = self._guard, self._guard.breaker
        if not (guard.always_tried or breaker.allow()):
            raise APIConnectionError(f"{breaker.name}: circuit open", retryable=False)
        output_emitter.initialize(request_id=utils.shortuuid(), sample_rate=guard.sample_rate,
                                  num_channels=guard.num_channels, mime_type="audio/pcm")
        samples = 0
        options = dataclasses.replace(self._conn_options, max_retry=0)
        try:
            async with guard.wrapped.synthesize(self.input_text, conn_options=options) as stream:
                pieces = stream.__aiter__()
                while True:
                    try:
                        audio = await asyncio.wait_for(pieces.__anext__(), guard.timeout)
                    except StopAsyncIteration:
                        break
                    output_emitter.push(audio.frame.data.tobytes())
                    samples += audio.frame.samples_per_channel
        except asyncio.CancelledError:
            breaker.release()
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a provider is the next provider's turn
            breaker.record_failure(describe(exc, guard.timeout))
            log.warning("%s failed (%s); the next voice takes the sentence", breaker.name, type(exc).__name__)
            if isinstance(exc, asyncio.TimeoutError):
                raise APITimeoutError(f"{breaker.name} gave no audio within {guard.timeout:.1f}s",
                                      retryable=False) from exc
            if isinstance(exc, APIError):
                raise
            raise APIConnectionError(f"{breaker.name} failed: {type(exc).__name__}", retryable=False) from exc
        breaker.record_success()
        guard.usage.add(len(self.input_text), samples / guard.sample_rate)
        output_emitter.flush()


def tts_chain(providers: list[GuardedTTS]) -> tts.FallbackAdapter:
    """TTS providers in order of preference: a sentence one fails on (before any of its audio was played) comes
    from the next one, and the failed one is tried again in the background until it recovers."""
    if not providers:
        raise ValueError("a chain needs at least one TTS provider")
    for provider in providers:
        provider.always_tried = False
    providers[-1].always_tried = True
    return tts.FallbackAdapter(list(providers), max_retry_per_tts=0)


# ---------------------------------------------------------------- helpers


def guard_stt(name: str, provider: stt.STT, registry: BreakerRegistry | None = None) -> GuardedSTT:
    return GuardedSTT(provider, (registry or breakers).breaker(f"stt:{name}", kind="stt"))


def guard_tts(name: str, provider: tts.TTS, *, timeout: float = 5.0,
              registry: BreakerRegistry | None = None) -> GuardedTTS:
    return GuardedTTS(provider, (registry or breakers).breaker(f"tts:{name}", kind="tts"), timeout=timeout)


def describe(exc: BaseException, timeout: float | None = None) -> str:
    """A short, key-free description of a provider's failure, for the admin."""
    if isinstance(exc, asyncio.TimeoutError | APITimeoutError):
        text = f"timed out after {timeout:.1f} s" if timeout else "timed out"
    else:
        detail = str(exc).splitlines()[0][:160] if str(exc) else ""
        text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    settings = get_settings()
    for secret in (settings.deepgram_api_key, settings.openai_api_key):
        value = secret.get_secret_value()
        if value:
            text = text.replace(value, "***")
    return text
