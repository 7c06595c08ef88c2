"""Fallback text-to-speech: the ``espeak-ng`` program (robotic but tiny, and independent of Piper's model).

Constructing ``EspeakTTS`` never fails, so a fallback chain can be built on a machine without espeak-ng; synthesis
then raises with the install command. ``espeak_available()`` is the check for health reports.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess

from livekit.agents import APIConnectionError, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from agent.providers.audio import parse_wav, resample
from agent.providers.usage import SynthesisTotals

ESPEAK_RATE = 22_050
DEFAULT_VOICE = "en-us"
DEFAULT_WORDS_PER_MINUTE = 165


class EspeakNotInstalled(RuntimeError):
    pass


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _espeak_binary() -> str:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise EspeakNotInstalled("espeak-ng is not installed: apt-get install -y espeak-ng "
                                 "(scripts/install-system-deps.sh installs it)")
    return binary


def synthesize_espeak_pcm(text: str, *, voice: str = DEFAULT_VOICE, words_per_minute: int = DEFAULT_WORDS_PER_MINUTE,
                          timeout: float = 10.0) -> tuple[bytes, int]:
    """16-bit mono PCM at 22050 Hz and that rate (blocking). The text goes through stdin, never argv."""
    if not text.strip():
        return b"", ESPEAK_RATE  # espeak-ng writes nothing at all, not even a header, for empty input
    command = [_espeak_binary(), "-v", voice, "-s", str(words_per_minute), "-b", "1", "--stdout"]
    result = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=timeout, check=False)
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"espeak-ng exited with {result.returncode}: {detail}")
    pcm, rate = parse_wav(result.stdout)
    return resample(pcm, rate, ESPEAK_RATE).tobytes(), ESPEAK_RATE


class EspeakTTS(tts.TTS):
    def __init__(self, *, voice: str = DEFAULT_VOICE, words_per_minute: int = DEFAULT_WORDS_PER_MINUTE) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=ESPEAK_RATE, num_channels=1)
        self._voice = voice
        self._words_per_minute = words_per_minute
        self.usage = SynthesisTotals()

    @property
    def model(self) -> str:
        return f"espeak-ng-{self._voice}"

    @property
    def provider(self) -> str:
        return "espeak-ng"

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> EspeakChunkedStream:
        return EspeakChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class EspeakChunkedStream(tts.ChunkedStream):
    def __init__(self, *, tts: EspeakTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._espeak = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(request_id=utils.shortuuid(), sample_rate=ESPEAK_RATE, num_channels=1,
                                  mime_type="audio/pcm")
        try:
            # espeak renders a sentence in milliseconds, so the whole utterance is produced at once.
            pcm, _rate = await asyncio.to_thread(
                synthesize_espeak_pcm, self.input_text, voice=self._espeak._voice,
                words_per_minute=self._espeak._words_per_minute, timeout=self._conn_options.timeout)
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise APIConnectionError(f"espeak-ng failed: {exc}", retryable=False) from exc
        self._espeak.usage.add(len(self.input_text), len(pcm) / 2 / ESPEAK_RATE)
        output_emitter.push(pcm or bytes(2 * ESPEAK_RATE // 50))  # silence rather than a "no audio" error
        output_emitter.flush()
