"""Last-resort speech-to-text: CMU pocketsphinx with the US English model that ships inside its wheel.

Much rougher than Whisper, but small, fast and independent of faster-whisper/CTranslate2, so the call still
understands the caller when Whisper is down. Non-streaming, like ``WhisperSTT``: one utterance of 16 kHz mono at a
time. Nothing is downloaded: ``pocketsphinx.get_model_path()`` points into the installed package.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
from livekit.agents import APIConnectionError, APITimeoutError, stt, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from agent.providers.audio import WHISPER_RATE, as_int16, resample_to_16k_mono
from agent.providers.usage import RecognitionTotals

# pocketsphinx's posteriors are 1.0 whatever it heard, so they say nothing; this marks a transcript as usable but
# unsure (the flow counts below 0.5 as "low confidence").
SPHINX_CONFIDENCE = 0.5

_decoder = None
_initial_cmn = ""
_decoder_lock = threading.Lock()  # a Decoder holds one utterance at a time


def load_sphinx():
    """The process-wide decoder (US English acoustic model, language model and dictionary from the wheel)."""
    global _decoder, _initial_cmn
    if _decoder is None:
        with _decoder_lock:
            if _decoder is None:
                from pocketsphinx import Decoder

                decoder = Decoder(samprate=WHISPER_RATE, loglevel="ERROR")  # the default model is the wheel's
                _initial_cmn = decoder.get_cmn()
                _decoder = decoder
    return _decoder


def transcribe_sphinx(pcm_int16_16k: np.ndarray | bytes) -> str:
    """Transcribe one utterance of 16 kHz mono PCM (blocking): lower-case words, no punctuation."""
    samples = as_int16(pcm_int16_16k)
    if len(samples) == 0:
        return ""
    decoder = load_sphinx()
    with _decoder_lock:
        # the decoder adapts its channel normalisation to what it hears: start every utterance afresh, so one
        # caller's line (or the previous call's) does not colour the next transcript
        decoder.set_cmn(_initial_cmn)
        decoder.start_utt()
        decoder.process_raw(samples.tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
    return hypothesis.hypstr.strip() if hypothesis is not None else ""


class SphinxSTT(stt.STT):
    def __init__(self, *, language: str = "en") -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._language = language
        self.usage = RecognitionTotals()

    @property
    def model(self) -> str:
        return "pocketsphinx-en-us"

    @property
    def provider(self) -> str:
        return "pocketsphinx"

    def prewarm(self) -> None:
        load_sphinx()

    async def _recognize_impl(self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> stt.SpeechEvent:
        pcm = resample_to_16k_mono(utils.combine_frames(buffer)) if buffer else np.zeros(0, np.int16)
        seconds = len(pcm) / WHISPER_RATE
        try:
            text = await asyncio.wait_for(asyncio.to_thread(transcribe_sphinx, pcm), timeout=conn_options.timeout)
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(f"pocketsphinx took over {conn_options.timeout}s", retryable=False) from exc
        except (RuntimeError, OSError, ValueError) as exc:
            raise APIConnectionError(f"pocketsphinx failed: {exc}", retryable=False) from exc
        self.usage.add(seconds)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=utils.shortuuid(),
            alternatives=[stt.SpeechData(language=self._language, text=text,
                                         confidence=SPHINX_CONFIDENCE if text else 0.0, end_time=seconds)],
            recognition_usage=stt.RecognitionUsage(audio_duration=seconds))
