"""Each turn's timings, derived from the session's events as they happen; it only watches, like Pipecat's latency
observers: ``VoiceCall`` tells it what happened and asks it for a turn's ``TurnMetrics`` when the agent turn ends.

A turn is the caller's speech and the agent speech that answers it. Timings, all from the caller's point of view:

* ``voice_to_voice_ms`` — end of the caller's speech → the first byte of the agent's audio (endpointing included).
  The end of speech is the VAD's end-of-speech event less its silence window, or the exact time the transport
  says the caller stopped (``caller_speech_ended``, used by the simulator).
* ``stt_ms`` — end of speech → final transcript; ``brain_ms`` — the flow step; ``tts_first_byte_ms`` — reply text
  ready → first audio byte; ``endpointing_ms`` — final transcript → the flow step starting (the turn detector's
  wait for the caller to go on); ``caller_audio_ms`` — how long the caller spoke.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.brain import BrainReply
from quantum_voice.services import voice_calls


@dataclass
class TurnMarks:
    """The moments of one turn (wall-clock seconds): the caller's speech, then the agent speech that answers it."""

    claimed: bool = False  # an agent speech answers it: the caller's next speech is a new turn
    speech_started: float | None = None
    resumed_at: float | None = None  # the caller went on after a pause: when the latest stretch of speech began
    speech_ended: float | None = None
    transcribed: float | None = None
    reply: BrainReply | None = None
    first_audio: float | None = None


class TurnTimer:
    """The caller's turn in progress (``caller``) and, by agent speech id, the turn each speech answers."""

    def __init__(self, vad_min_silence: float, clock: Callable[[], float] = time.time) -> None:
        self.vad_min_silence = vad_min_silence  # the VAD's end-of-speech event comes this long after the speech
        self.caller = TurnMarks()
        self._answers: dict[str, TurnMarks] = {}
        self._clock = clock

    # ------------------------------------------------------------ the caller's side

    def caller_started(self, at: float) -> None:
        if self.caller.claimed or self.caller.speech_started is None:
            self.caller = TurnMarks(speech_started=at)
        else:  # the caller goes on after a short pause, before any reply: the same turn, which ends later
            self.caller.resumed_at = at

    def caller_stopped(self, at: float) -> None:
        """The VAD's end-of-speech event."""
        marks = self.caller
        latest_start = marks.resumed_at or marks.speech_started or 0
        # a transport's exact mark (caller_speech_ended) after the latest stretch began is kept
        if marks.speech_ended is None or marks.speech_ended < latest_start:
            marks.speech_ended = at - self.vad_min_silence

    def caller_speech_ended(self, at: float | None = None) -> None:
        """The transport knows exactly when the caller stopped speaking."""
        self.caller.speech_ended = at or self._clock()

    def no_words(self) -> None:
        """The sound the caller made over the agent had no words (a cough, a hum): it was no turn. Forget it, or the
        caller's next speech would be taken for its continuation and timed from it."""
        if not self.caller.claimed:
            self.caller = TurnMarks()

    def transcript_final(self, at: float) -> None:
        self.caller.transcribed = at

    # ------------------------------------------------------------ the agent's side

    def reply_created(self, speech_id: str) -> None:
        """The session created the answer to the caller's turn that just ended."""
        self.caller.claimed = True
        self._answers[speech_id] = self.caller

    def line_created(self, speech_id: str, reply: BrainReply) -> None:
        """A flow reply no caller turn asked for (the greeting, a time-based rule) is to be spoken."""
        self._answers[speech_id] = TurnMarks(claimed=True, reply=reply)

    def first_audio(self, speech_id: str | None, reply: BrainReply | None) -> None:
        """The first byte of a speech's audio went out; ``reply`` is the flow's reply it speaks, if known."""
        marks = self.answered_by(speech_id)
        if marks.first_audio is None:
            marks.first_audio = self._clock()
        marks.reply = reply or marks.reply

    def speech_done(self, speech_id: str) -> None:
        self._answers.pop(speech_id, None)

    def answered_by(self, speech_id: str | None) -> TurnMarks:
        """The turn a speech answers (a line nobody asked for, such as an apology, answers a turn of its own)."""
        if speech_id is None:
            return TurnMarks()
        return self._answers.setdefault(speech_id, TurnMarks(claimed=True))

    # ------------------------------------------------------------ the metrics

    def metrics(self, marks: TurnMarks, reply: BrainReply | None, *, interrupted: bool) -> voice_calls.TurnMetrics:
        """The timings of a turn whose agent speech has ended; ``reply`` is the flow's reply it spoke, None for a
        line the flow did not give (the apology for a lost turn)."""
        timings = voice_calls.TurnMetrics(brain_ms=reply.brain_ms if reply is not None else None,
                                           interrupted=interrupted)
        if marks.speech_ended is not None:
            if marks.transcribed is not None:
                timings.stt_ms = _ms_between(marks.speech_ended, marks.transcribed)
            if marks.first_audio is not None:
                timings.voice_to_voice_ms = _ms_between(marks.speech_ended, marks.first_audio)
            if marks.speech_started is not None:
                timings.caller_audio_ms = _ms_between(marks.speech_started, marks.speech_ended)
        if marks.first_audio is not None and reply is not None:
            timings.tts_first_byte_ms = _ms_between(reply.ready_at, marks.first_audio)
        if marks.transcribed is not None and marks.speech_ended is not None:
            # a line the flow did not give took no flow step: it was ready when it was spoken, now
            step_began = reply.ready_at - reply.brain_ms / 1000 if reply is not None else self._clock()
            timings.endpointing_ms = _ms_between(marks.transcribed, step_began)
        return timings


def _ms_between(earlier: float, later: float) -> float:
    return max(0.0, (later - earlier) * 1000)
