"""Local text-to-speech: Piper (ONNX, CPU) with the Joe voice, as a LiveKit Agents TTS plugin.

Non-streaming: ``AgentSession`` feeds it one sentence at a time through ``tts.StreamAdapter``. Piper itself yields
one chunk per sentence, and each chunk is pushed as soon as it is ready.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

from livekit.agents import APIConnectionError, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from piper import PiperVoice, SynthesisConfig

from agent.providers.models import ModelNotAvailable, PiperVoiceFiles, piper_voice_path
from agent.providers.usage import SynthesisTotals

_voice: PiperVoice | None = None
_voice_lock = threading.Lock()


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


def iter_piper_pcm(text: str, *, length_scale: float | None = None) -> Iterator[bytes]:
    """16-bit mono PCM, one chunk per sentence, produced lazily (blocking)."""
    config = SynthesisConfig(length_scale=length_scale)
    for chunk in load_piper_voice().synthesize(text, syn_config=config):
        yield chunk.audio_int16_bytes


def synthesize_pcm(text: str, *, length_scale: float | None = None) -> tuple[bytes, int]:
    """The whole utterance as 16-bit mono PCM and its sample rate (22050 Hz for Joe)."""
    return b"".join(iter_piper_pcm(text, length_scale=length_scale)), piper_sample_rate()


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
        chunks = iter_piper_pcm(self.input_text, length_scale=self._piper._length_scale)
        pushed_bytes = 0
        try:
            # One sentence per step in a worker thread; a cancelled stream (barge-in) stops between sentences.
            while (pcm := await asyncio.to_thread(next, chunks, None)) is not None:
                output_emitter.push(pcm)
                pushed_bytes += len(pcm)
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
