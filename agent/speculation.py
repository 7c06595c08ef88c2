"""Speculative transcription: Whisper starts on the caller's words at the first short silence, not at the end.

The session only knows the caller has stopped once the VAD has heard ``VOICE_VAD_MIN_SILENCE_SECONDS`` (0.25 s) of
silence; livekit's ``StreamAdapter`` then hands the utterance to the recogniser, and the caller waits for both, one
after the other. ``SpeculativeSTT`` takes the adapter's place and overlaps them: once the silence has lasted
``speculate_after`` seconds (0.15 s), the words so far go to the recogniser in the background. If the caller says
nothing more before the VAD calls the speech over, that transcript is the turn's (the audio it lacks is silence);
if they go on, the guess is dropped and the whole utterance is transcribed at its end, as before.

A guess costs a transcription that may be thrown away, so it is only made when the first recogniser in the chain
is local (Whisper on this machine): a cloud recogniser bills by the audio second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from livekit.agents import stt, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.vad import VAD, VADEventType

log = logging.getLogger(__name__)

_STREAM_OPTIONS = APIConnectOptions(max_retry=0, timeout=DEFAULT_API_CONNECT_OPTIONS.timeout)


class SpeculativeSTT(stt.STT):
    """A non-streaming recogniser (the chain of ``agent/resilience.py``) made streaming with the VAD, guessing
    early. Events the wrapped recogniser emits (metrics, ``turn_lost``) come out of this one too."""

    def __init__(self, recogniser: stt.STT, *, vad: VAD, speculate_after: float = 0.15) -> None:
        super().__init__(capabilities=stt.STTCapabilities(
            streaming=True, interim_results=False, keyterms=recogniser.capabilities.keyterms))
        self.wrapped = recogniser
        self._vad = vad
        self.speculate_after = speculate_after
        self.guesses = self.guesses_used = 0
        for event in ("metrics_collected", "turn_lost"):
            recogniser.on(event, lambda *args, _event=event: self.emit(_event, *args))

    @property
    def model(self) -> str:
        return self.wrapped.model

    @property
    def provider(self) -> str:
        return self.wrapped.provider

    def _update_session_keyterms(self, keyterms: list[str]) -> None:
        self.wrapped._update_session_keyterms(keyterms)

    def prewarm(self) -> None:
        self.wrapped.prewarm()

    async def _recognize_impl(self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> stt.SpeechEvent:
        return await self.wrapped.recognize(buffer=buffer, language=language, conn_options=conn_options)

    def stream(self, *, language: NotGivenOr[str] = NOT_GIVEN,
               conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> stt.RecognizeStream:
        return _SpeculativeStream(self, language=language, conn_options=conn_options)

    async def aclose(self) -> None:
        await self.wrapped.aclose()


class _SpeculativeStream(stt.RecognizeStream):
    def __init__(self, owner: SpeculativeSTT, *, language: NotGivenOr[str], conn_options: APIConnectOptions) -> None:
        super().__init__(stt=owner, conn_options=_STREAM_OPTIONS)
        self._owner = owner
        self._language = language
        self._options = conn_options

    async def _metrics_monitor_task(self, event_aiter) -> None:
        async for _ in event_aiter:  # the wrapped recogniser reports its own metrics
            pass

    async def _run(self) -> None:
        vad_stream = self._owner._vad.stream()

        async def forward() -> None:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    vad_stream.flush()
                else:
                    vad_stream.push_frame(item)
            vad_stream.end_input()

        tasks = [asyncio.create_task(forward(), name="speculative-forward"),
                 asyncio.create_task(self._recognise(vad_stream), name="speculative-recognise")]
        try:
            await asyncio.gather(*tasks)
        finally:
            await utils.aio.cancel_and_wait(*tasks)
            await vad_stream.aclose()

    async def _recognise(self, vad_stream) -> None:
        speech: list | None = None  # the utterance's frames so far (the VAD's prefix padding included)
        guess: asyncio.Task | None = None
        after = self._owner.speculate_after
        async for event in vad_stream:
            if event.type == VADEventType.START_OF_SPEECH:
                speech, guess = list(event.frames), _drop(guess)
                self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.START_OF_SPEECH))
            elif event.type == VADEventType.INFERENCE_DONE and speech is not None and event.speaking:
                speech.extend(event.frames)
                if event.raw_accumulated_silence == 0:  # words again: what was guessed is not the whole turn
                    guess = _drop(guess)
                elif guess is None and after > 0 and event.raw_accumulated_silence >= after:
                    self._owner.guesses += 1
                    guess = asyncio.create_task(self._transcribe(utils.merge_frames(speech)))
            elif event.type == VADEventType.END_OF_SPEECH:
                ended_at = time.time() - event.silence_duration - event.inference_duration
                self._event_ch.send_nowait(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH,
                                                           speech_end_time=ended_at))
                heard = await self._settle(guess, event.frames)
                speech, guess = None, None
                if heard is not None and heard.alternatives and heard.alternatives[0].text:
                    self._event_ch.send_nowait(stt.SpeechEvent(
                        type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[heard.alternatives[0]],
                        speech_end_time=heard.speech_end_time if heard.speech_end_time is not None else ended_at))

    async def _settle(self, guess: asyncio.Task | None, frames: list) -> stt.SpeechEvent | None:
        """The guess when it stands (the caller said nothing after it), else the whole utterance, transcribed now."""
        if guess is not None:
            try:
                heard = await guess
                self._owner.guesses_used += 1
                return heard
            except Exception:  # noqa: BLE001 - a failed guess is no transcript: the utterance is tried as usual
                log.warning("a speculative transcription failed; transcribing the utterance again", exc_info=True)
        return await self._transcribe(utils.merge_frames(frames))

    async def _transcribe(self, frame) -> stt.SpeechEvent:
        return await self._owner.wrapped.recognize(buffer=frame, language=self._language, conn_options=self._options)


def _drop(guess: asyncio.Task | None) -> None:
    """Forget a guess. Its transcription runs in a worker thread that cannot be stopped, so it is left to finish
    (a failure then is nobody's business) rather than cancelled, which would count against the provider."""
    if guess is not None:
        guess.add_done_callback(_quiet)
    return None


def _quiet(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
