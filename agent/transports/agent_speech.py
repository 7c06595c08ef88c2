"""The words of the team member who took a call: their microphone, cut into utterances by the call's VAD and
transcribed by the call's speech recogniser (the same chain as the caller's: Whisper, then the fallbacks). Each
utterance is saved as a ``human_agent`` transcript turn (``conversations.add_person_turn``, so the workspace's live
transcript shows both sides) and sent to the caller's page as ``{"type": "transcript", "speaker": "human_agent",
"text"}``. The VAD cuts speech at short pauses; pieces less than ``PHRASE_PAUSE_SECONDS`` apart are transcribed
as one utterance. Bounded: at most ``MAX_QUEUED_FRAMES`` of microphone wait for the VAD; beyond that the oldest is dropped
(the transcript may miss words; the caller's audio never waits for it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from livekit import rtc
from livekit.agents import utils
from livekit.agents.vad import VADEventType

from quantum_voice.services import conversations

log = logging.getLogger(__name__)

MAX_QUEUED_FRAMES = 500  # 10 s of 20 ms frames
PHRASE_PAUSE_SECONDS = 0.8  # pieces of speech closer than this are one utterance (the VAD cuts at short pauses)


def person_turn(text: str, name: str) -> dict[str, Any]:
    return {"type": "transcript", "speaker": "human_agent", "text": text, "name": name}


class AgentSpeech:
    """One agent's speech on one call, from ``push`` (16 kHz mono frames) until ``close``."""

    def __init__(self, *, stt: Any, vad: Any, brain: Any, caller_events: Any, name: str) -> None:
        self._stt, self._vad, self._brain, self._events, self.name = stt, vad, brain, caller_events, name
        self._frames: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue(maxsize=MAX_QUEUED_FRAMES)
        self.turns: list[str] = []  # what was transcribed, in order
        self._transcribing: set[asyncio.Future] = set()
        self._in_order = asyncio.Lock()
        self._task = asyncio.ensure_future(self._run())

    def push(self, frame: rtc.AudioFrame) -> None:
        if self._frames.full():
            self._frames.get_nowait()
        self._frames.put_nowait(frame)

    async def close(self) -> None:
        """Stop listening; what is being transcribed still finishes (bounded by the recogniser's own timeout)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        if self._transcribing:
            await asyncio.gather(*self._transcribing, return_exceptions=True)

    async def _run(self) -> None:
        stream = self._vad.stream()

        async def feed() -> None:
            while True:
                stream.push_frame(await self._frames.get())

        feeding = asyncio.ensure_future(feed())
        phrase: list[rtc.AudioFrame] = []  # the utterance so far: pieces the VAD cut at short pauses
        flushing: asyncio.Task | None = None

        async def flush_after_pause() -> None:
            await asyncio.sleep(PHRASE_PAUSE_SECONDS)  # more speech cancels this wait, never a transcription
            frames = phrase[:]
            phrase.clear()
            transcribing = asyncio.ensure_future(self._transcribe(frames))
            self._transcribing.add(transcribing)
            transcribing.add_done_callback(self._transcribing.discard)

        try:
            async for event in stream:
                if event.type == VADEventType.START_OF_SPEECH and flushing is not None and not flushing.done():
                    flushing.cancel()  # the agent goes on speaking: one utterance
                elif event.type == VADEventType.END_OF_SPEECH and event.frames:
                    phrase.extend(event.frames)
                    if flushing is not None:
                        flushing.cancel()
                    flushing = asyncio.ensure_future(flush_after_pause())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("the agent's speech is no longer transcribed on conversation %s",
                        self._brain.conversation_id, exc_info=True)
        finally:
            feeding.cancel()
            if flushing is not None:
                flushing.cancel()
            await stream.aclose()

    async def _transcribe(self, frames: list[rtc.AudioFrame]) -> None:
        async with self._in_order:  # utterances are saved in the order they were said
            await self._transcribe_one(frames)

    async def _transcribe_one(self, frames: list[rtc.AudioFrame]) -> None:
        try:
            heard = await self._stt.recognize(utils.merge_frames(frames))
        except Exception:
            log.warning("could not transcribe the agent's words on conversation %s", self._brain.conversation_id,
                        exc_info=True)
            return
        text = heard.alternatives[0].text.strip() if heard.alternatives else ""
        if not text:
            return
        try:
            saved = await self._brain.run(conversations.add_person_turn, text, self.name)
        except Exception:
            log.warning("could not save the agent's words on conversation %s", self._brain.conversation_id,
                        exc_info=True)
            saved = False
        if saved:
            self.turns.append(text)
            self._events.send(person_turn(text, self.name))
