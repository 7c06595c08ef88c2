"""Local text-to-speech: Piper (ONNX, CPU) with the Joe voice, as a LiveKit Agents TTS plugin.

Non-streaming: ``AgentSession`` feeds it one sentence at a time through ``tts.StreamAdapter``. Piper itself yields
one chunk per sentence, and each chunk is pushed as soon as it is ready.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator

from livekit.agents import APIConnectionError, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from piper import PiperVoice, SynthesisConfig

from agent.providers.models import ModelNotAvailable, PiperVoiceFiles, piper_voice_path
from agent.providers.usage import SynthesisTotals

_voice: PiperVoice | None = None
_voice_lock = threading.Lock()


class SpokenCache:
    """Recently spoken sentences as PCM. A flow says the same prompts on every call ("What's the best email address
    to reach you?"), so a hit costs no synthesis at all. Bounded by bytes, least recently used out first."""

    def __init__(self, max_bytes: int = 48 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, float | None], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, text: str, length_scale: float | None) -> bytes | None:
        with self._lock:
            pcm = self._items.get((text, length_scale))
            if pcm is None:
                self.misses += 1
                return None
            self._items.move_to_end((text, length_scale))
            self.hits += 1
            return pcm

    def put(self, text: str, length_scale: float | None, pcm: bytes) -> None:
        if not pcm or len(pcm) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop((text, length_scale), None)
            self._bytes += len(pcm) - (len(old) if old else 0)
            self._items[(text, length_scale)] = pcm
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


spoken_cache = SpokenCache()


def load_piper_voice() -> PiperVoice:
    """The process-wide Joe voice, loaded on first use."""
    global _voice
    if _voice is None:
        with _voice_lock:
            if _voice is None:
                files = piper_voice_path()
                _voice = PiperVoice.load(files.model, config_path=files.config)
    return _voice


def piper_sample_rate() -> int:
    return load_piper_voice().config.sample_rate


def iter_piper_pcm(text: str, *, length_scale: float | None = None, steady: bool = False) -> Iterator[bytes]:
    """16-bit mono PCM, one chunk per sentence, produced lazily (blocking). ``steady``: no sampling noise, so the
    same text gives the same audio every time (tests and benchmarks that must not depend on a lucky draw)."""
    config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0 if steady else None,
                             noise_w_scale=0.0 if steady else None)
    for chunk in load_piper_voice().synthesize(text, syn_config=config):
        yield chunk.audio_int16_bytes


def synthesize_pcm(text: str, *, length_scale: float | None = None, steady: bool = False) -> tuple[bytes, int]:
    """The whole utterance as 16-bit mono PCM and its sample rate (22050 Hz for Joe)."""
    return b"".join(iter_piper_pcm(text, length_scale=length_scale, steady=steady)), piper_sample_rate()


class PiperTTS(tts.TTS):
    """Piper behind LiveKit's TTS interface. ``length_scale`` > 1 speaks slower, < 1 faster."""

    def __init__(self, *, length_scale: float | None = None) -> None:
        files = piper_voice_path()  # fail at construction, with the pip hint, if the voice is missing
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=_config_sample_rate(files),
                         num_channels=1)
        self._length_scale = length_scale
        self.usage = SynthesisTotals()

    @property
    def model(self) -> str:
        return "en_US-joe-medium"

    @property
    def provider(self) -> str:
        return "piper"

    def prewarm(self) -> None:
        load_piper_voice()

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class PiperChunkedStream(tts.ChunkedStream):
    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._piper = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(request_id=utils.shortuuid(), sample_rate=self._piper.sample_rate,
                                  num_channels=1, mime_type="audio/pcm")
        scale = self._piper._length_scale
        cached = spoken_cache.get(self.input_text, scale)
        chunks = iter([cached]) if cached is not None else iter_piper_pcm(self.input_text, length_scale=scale)
        pushed_bytes, spoken = 0, []
        try:
            # One sentence per step in a worker thread; a cancelled stream (barge-in) stops between sentences.
            while (pcm := (next(chunks, None) if cached is not None
                           else await asyncio.to_thread(next, chunks, None))) is not None:
                output_emitter.push(pcm)
                pushed_bytes += len(pcm)
                spoken.append(pcm)
            if cached is None:
                spoken_cache.put(self.input_text, scale, b"".join(spoken))
        except (ModelNotAvailable, RuntimeError, OSError, ValueError) as exc:
            raise APIConnectionError(f"piper failed: {exc}", retryable=False) from exc
        finally:
            self._piper.usage.add(len(self.input_text), pushed_bytes / 2 / self._piper.sample_rate)
        if pushed_bytes == 0:
            # Text with nothing to say ("...", "-"): a breath of silence, not a "no audio" error and retries.
            output_emitter.push(bytes(2 * self._piper.sample_rate // 50))
        output_emitter.flush()


def _config_sample_rate(files: PiperVoiceFiles) -> int:
    # Read from the JSON so constructing the plugin does not load the 60 MB model.
    with open(files.config, encoding="utf-8") as config:
        return int(json.load(config)["audio"]["sample_rate"])
