"""One voice call: a livekit-agents ``AgentSession`` wired to local models, the flow brain and a transport.

``VoiceCall`` builds the session without a LiveKit room: the transport pushes caller PCM into
``call.caller_audio`` and receives agent PCM through the ``AudioSink`` it passed in. The session does the
turn-taking (offline Silero VAD + the call's turn detector: by default the transcript rules of agent/turns.py,
``VOICE_TURN_DETECTOR`` picks livekit's offline end-of-turn model or VAD silence alone), calls Whisper on the
caller's turn, asks the flow brain (``FlowLLM``) for the reply, speaks it with Piper sentence by sentence, and
stops speaking when the caller talks over it (barge-in; the interrupted agent turn is marked in the transcript
with the part that was heard). In LiveKit mode (``start(room=...)``, used by ``agent/livekit_worker.py``) livekit's
room I/O takes the place of the transport's audio; everything else is the same.

The call wires the session's events and delegates: ``TurnTimer`` (agent/turn_timer.py) derives each turn's
timings from them, ``CallRecorder`` (agent/recorder.py) writes to the database, and ``CallTimeLimit`` holds the
campaign's limit on a call's length. After every agent turn a ``TurnReport`` (agent/turn_report.py) is built,
saved with the agent turn (its timings go to the turn's ``meta["metrics"]``) and handed to the listeners (the
simulator, the benchmark, a transport that shows a live transcript).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, room_io, stt as lk_stt, tts as lk_tts, vad as lk_vad
from livekit.agents.types import NOT_GIVEN

from agent.brain import APOLOGY, BrainReply, CallBrain, FlowLLM
from agent.io import AgentAudio, AudioSink, CallerAudio
from agent.recorder import CallRecorder
from agent.turn_report import TurnReport
from agent.turn_timer import TurnTimer
from quantum_voice.core.db import session_scope
from quantum_voice.services import voice_calls

log = logging.getLogger(__name__)

HOLD_POLL_SECONDS = 1.0  # how often a call with the agents' queue checks what the queue did
TIME_LIMIT_GOODBYE = ("We've reached the time limit for this call, so I have to let you go. Thanks for calling, "
                      "and we'll follow up by email.")


@dataclass
class TurnTaking:
    """How the session decides the caller has finished and when talking over the agent interrupts it."""

    vad_min_silence: float = 0.25  # seconds of silence before the VAD calls the speech over
    min_endpointing_delay: float = 0.2  # extra wait after speech when the end-of-turn model is confident
    max_endpointing_delay: float = 1.0  # the longest wait when it thinks the caller is mid-sentence
    interruption_min_duration: float = 0.15  # speech this long over the agent pauses it (barge-in)
    false_interruption_timeout: float = 1.0  # a pause with no words after it ends this long after the sound
    allow_interruptions: bool = True


@dataclass
class CallTimeLimit:
    """The campaign's hard limit on a call's length (None or 0: none), counted from the greeting."""

    seconds: float | None
    started_at: float = field(default_factory=time.monotonic)

    def next_check(self, every: float) -> float:
        """Seconds until the next look at the clock: ``every``, or sooner when the limit comes first."""
        if not self.seconds:
            return every
        return max(0.05, min(every, self.seconds - (time.monotonic() - self.started_at)))

    def reached(self) -> bool:
        return bool(self.seconds) and time.monotonic() - self.started_at >= self.seconds


@dataclass
class VoiceCall:
    brain: CallBrain
    stt: lk_stt.STT
    tts: lk_tts.TTS
    vad: lk_vad.VAD
    sink: AudioSink | None = None  # where the agent's audio goes; None when the call runs in a LiveKit room
    turn_detector: Any = None
    turn_taking: TurnTaking = field(default_factory=TurnTaking)
    output_sample_rate: int | None = None
    realtime: bool = True
    meters: list = field(default_factory=list)  # agent.voice.Meter: per-provider usage, recorded at the end
    tick_seconds: float = 10.0  # how often time-based flow rules are checked while nobody speaks

    def __post_init__(self) -> None:
        self.caller_audio = CallerAudio()
        self.agent_audio: AgentAudio | None = None
        if self.sink is not None:
            self.agent_audio = AgentAudio(self.sink, sample_rate=self.output_sample_rate, realtime=self.realtime)
            self.agent_audio.first_frame_listeners.append(self._on_first_audio)
        self.flow_llm = FlowLLM(self.brain)
        self.timer = TurnTimer(vad_min_silence=self.turn_taking.vad_min_silence)
        self.recorder = CallRecorder(self.brain)
        self.reports: list[TurnReport] = []
        self.listeners: list[Callable[[TurnReport], None]] = []
        self.ended = asyncio.Event()
        self._seq = 0
        self._session: AgentSession | None = None
        self._closing = False
        self._finishing: asyncio.Future | None = None
        self._ticker: asyncio.Future | None = None
        self._time_limit = CallTimeLimit(None)  # the campaign's, once the call has started
        self._time_up = False  # past the campaign's limit on a call's length: the goodbye is on its way

    # ------------------------------------------------------------ lifecycle

    async def start(self, room: rtc.Room | None = None,
                    room_options: room_io.RoomOptions | None = None) -> BrainReply:
        """Open the conversation, start the session and speak the greeting. With a LiveKit ``room``, livekit's
        room I/O carries the audio both ways (``room_options`` picks the caller) instead of the transport's."""
        if (room is None) == (self.agent_audio is None):
            raise ValueError("A VoiceCall speaks into its AudioSink or into a LiveKit room: give one of them.")
        self.caller_audio.bind(asyncio.get_running_loop())
        greeting = await self.brain.start()
        session = AgentSession(stt=self.stt, vad=self.vad, llm=self.flow_llm, tts=self.tts,
                               turn_handling=self._turn_handling(), user_away_timeout=None)
        if room is None:
            session.input.audio = self.caller_audio
            session.output.audio = self.agent_audio
        else:  # no AgentAudio to see the first frame: the agent starts speaking at its first audio frame
            session.on("agent_state_changed", self._on_agent_state)
        session.on("user_state_changed", self._on_user_state)
        session.on("agent_false_interruption", self._on_false_interruption)
        session.on("user_input_transcribed", self._on_transcribed)
        session.on("conversation_item_added", self._on_item)
        session.on("speech_created", self._on_speech_created)
        session.on("close", lambda _ev: self.ended.set())
        # every recogniser failed on one utterance (agent/resilience.py): say so rather than stay silent
        if hasattr(self.stt, "on"):
            self.stt.on("turn_lost", self._on_turn_lost)
        self._session = session
        await session.start(agent=Agent(instructions="The campaign's flow decides every reply."), record=False,
                            room=room if room is not None else NOT_GIVEN, room_options=room_options or NOT_GIVEN)
        self._time_limit = CallTimeLimit(self.brain.max_call_seconds)
        self._say(greeting)
        self._ticker = asyncio.ensure_future(self._tick_while_quiet())
        return greeting

    def _turn_handling(self) -> dict[str, Any]:
        tt = self.turn_taking
        return {
            # the call's turn detector (agent/turns.py, VOICE_TURN_DETECTOR); none: VAD silence alone
            "turn_detection": self.turn_detector if self.turn_detector is not None else "vad",
            "endpointing": {"mode": "fixed", "min_delay": tt.min_endpointing_delay,
                            "max_delay": tt.max_endpointing_delay},
            "interruption": {"enabled": tt.allow_interruptions, "mode": "vad",
                             "min_duration": tt.interruption_min_duration,
                             # a sound with no words over the agent pauses it, and it carries on: never silence
                             "resume_false_interruption": True,
                             "false_interruption_timeout": tt.false_interruption_timeout},
            # the flow step writes to the database: never run it speculatively on a turn that may change
            "preemptive_generation": {"enabled": False},
        }

    async def _tick_while_quiet(self) -> None:
        """The flow's time-based rules (a Dispatch node's call-length trigger) act even while the caller listens;
        past the campaign's hard limit on a call's length the agent says goodbye and hangs up, whatever it was
        doing (the flow's own duration trigger, a hand-off, normally comes first). While the call is with the
        agents' queue, every ``HOLD_POLL_SECONDS``: the hold line, and what the queue did (a person took the call,
        handed it back or ended it; no one answered) reach the caller within about a second."""
        loop = asyncio.get_running_loop()
        last_tick = loop.time()
        while not self._closing and not self.ended.is_set():
            await asyncio.sleep(self._time_limit.next_check(min(self.tick_seconds, HOLD_POLL_SECONDS)))
            if self._time_limit.reached():
                self._time_up = True
                self._finishing = asyncio.ensure_future(self._end_at_time_limit())
                return
            if not self.brain.handed_off and loop.time() - last_tick < self.tick_seconds:
                continue
            session = self._session
            if session is None or self._closing or session.agent_state != "listening" \
                    or session.user_state == "speaking":
                continue
            last_tick = loop.time()
            try:
                reply = await self.brain.tick()
            except Exception:
                log.exception("time-based flow rules failed for conversation %s", self.brain.conversation_id)
                continue
            if reply is not None and reply.text and not self._closing:
                self._say(reply)

    async def _end_at_time_limit(self) -> None:
        session = self._session
        if session is not None and not self._closing:
            _interrupt(session)
            try:
                await asyncio.wait_for(session.say(TIME_LIMIT_GOODBYE, allow_interruptions=False).wait_for_playout(),
                                       timeout=20)
            except Exception:  # the goodbye is a courtesy: the call ends either way
                log.warning("time-limit goodbye not played for conversation %s", self.brain.conversation_id)
        await self._close(hang_up_reason="max_duration")

    def _say(self, reply: BrainReply) -> None:
        """Speak a flow reply that no caller turn asked for (the greeting, a time-based rule)."""
        speech = self._session.say(reply.text, allow_interruptions=self.turn_taking.allow_interruptions)
        self.timer.line_created(speech.id, reply)
        self.flow_llm.spoken[speech.id] = reply

    async def hang_up(self, reason: str = "caller_hung_up") -> None:
        """The caller (or the transport) ended the call: close the session and the conversation."""
        if self._time_up and self._finishing is not None:  # already ending: the caller left during the goodbye
            _interrupt(self._session)
            await asyncio.gather(self._finishing, return_exceptions=True)
            return
        if self._closing:
            if self._finishing is not None:
                await asyncio.gather(self._finishing, return_exceptions=True)
            return
        await self._close(hang_up_reason=reason)

    async def flush_writes(self) -> None:
        await self.recorder.flush()

    def mark_caller_speech_end(self, at: float | None = None) -> None:
        """The transport knows exactly when the caller stopped speaking (the simulator does)."""
        self.timer.caller_speech_ended(at)

    @property
    def session(self) -> AgentSession | None:
        return self._session

    # ------------------------------------------------------------ session events

    def _on_turn_lost(self, _error) -> None:
        if self._session is not None and not self._closing:
            self._session.say(APOLOGY, allow_interruptions=self.turn_taking.allow_interruptions)

    def _on_user_state(self, ev) -> None:
        if ev.new_state == "speaking":
            self.timer.caller_started(ev.created_at)
        elif ev.old_state == "speaking" and ev.new_state == "listening":
            self.timer.caller_stopped(ev.created_at)

    def _on_false_interruption(self, _ev) -> None:
        self.timer.no_words()

    def _on_transcribed(self, ev) -> None:
        if ev.is_final:
            self.timer.transcript_final(ev.created_at)

    def _on_agent_state(self, ev) -> None:
        if ev.new_state == "speaking":
            self._on_first_audio(time.monotonic())

    def _on_first_audio(self, _monotonic: float) -> None:
        speech_id = self._current_speech_id()
        self.timer.first_audio(speech_id, self.flow_llm.spoken.get(speech_id) if speech_id is not None else None)

    def _current_speech_id(self) -> str | None:
        speech = self._session.current_speech if self._session is not None else None
        return speech.id if speech is not None else None

    def _on_speech_created(self, ev) -> None:
        speech = ev.speech_handle
        if ev.source == "generate_reply":  # the answer to the caller's turn that just ended
            self.timer.reply_created(speech.id)
        speech.add_done_callback(self._on_speech_done)

    def _on_speech_done(self, speech) -> None:
        """A reply ended. Interrupted with nothing added to the conversation means the caller spoke again before
        any of it played (often while the agent was still thinking): the flow step was saved all the same, so
        its agent turn is marked as never heard, and reported, once the step is done."""
        self.timer.speech_done(speech.id)
        step, _ = self.flow_llm.forget(speech.id)
        heard_any = any(getattr(item, "role", None) == "assistant" for item in speech.chat_items)
        if step is None or not speech.interrupted or heard_any:
            return
        if step.done():
            self._report_unheard(step)
        else:
            step.add_done_callback(self._report_unheard)

    def _report_unheard(self, step: asyncio.Future) -> None:
        if step.cancelled() or step.exception() is not None:
            return
        reply: BrainReply = step.result()
        if not reply.text:
            return
        self._report(TurnReport(
            seq=self._seq, caller=reply.caller, reply=reply.text, node_id=reply.node_id, node_type=reply.node_type,
            handoff=reply.handoff, ended=reply.ended, interrupted=True, heard="", unspoken=True,
            agent_seq=reply.agent_seq,
            timings=voice_calls.TurnMetrics(brain_ms=reply.brain_ms, interrupted=True)))
        if reply.ended and not self._closing:  # the flow said goodbye unheard: the call is over all the same
            self._finishing = asyncio.ensure_future(self._finish_after_goodbye())

    def _on_item(self, ev) -> None:
        item = ev.item
        if getattr(item, "role", None) != "assistant":
            return
        speech_id = self._current_speech_id()
        marks = self.timer.answered_by(speech_id)
        spoken = self.flow_llm.spoken.get(speech_id) if speech_id is not None else None
        known = spoken or marks.reply  # None: a line the flow did not give (the apology for a lost turn)
        reply = known or BrainReply(text=item.text_content or "")
        heard = self._heard(reply, item) if item.interrupted else None
        timings = self.timer.metrics(marks, known, interrupted=bool(item.interrupted))
        report = TurnReport(seq=self._seq, caller=reply.caller if self._seq else None, reply=reply.text,
                            node_id=reply.node_id, node_type=reply.node_type, handoff=reply.handoff,
                            ended=reply.ended, interrupted=bool(item.interrupted), heard=heard, timings=timings,
                            agent_seq=reply.agent_seq)
        self._report(report)
        if reply.ended and not self._closing:
            self._finishing = asyncio.ensure_future(self._finish_after_goodbye())

    def _report(self, report: TurnReport) -> None:
        self._seq += 1
        self.reports.append(report)
        self.recorder.record_turn(report)
        for listener in self.listeners:
            listener(report)

    def _heard(self, reply: BrainReply, item) -> str:
        if self.agent_audio is None:  # room I/O syncs the transcript with playout: the item holds what was heard
            return item.text_content or ""
        return _heard_part(reply.text or item.text_content or "", *self.agent_audio.last_segment)

    async def _finish_after_goodbye(self) -> None:
        await self._close(hang_up_reason=None)  # the flow already ended the conversation

    async def _close(self, *, hang_up_reason: str | None) -> None:
        self._closing = True
        self.caller_audio.close()
        if self._ticker is not None:
            self._ticker.cancel()
        if self._session is not None:
            await self._session.aclose()
        await self.recorder.flush()
        if hang_up_reason is not None:
            await self.brain.hang_up(hang_up_reason)
        await self.recorder.record_usage(self.meters)
        self.ended.set()


async def campaign_vocabulary(campaign_id: int) -> list[str]:
    """Names Whisper should expect on this campaign's calls (the business, the campaign)."""
    def read():
        with session_scope() as session:
            return voice_calls.vocabulary_of_campaign(session, campaign_id)
    return await asyncio.to_thread(read)


def _heard_part(text: str, played: float, sent: float) -> str:
    """The words the caller heard before talking over the agent, estimated from how much of the audio played
    (Piper speaks at an even pace, so the share of audio is close to the share of words)."""
    words = text.split()
    if sent <= 0 or not words:
        return ""
    return " ".join(words[:int(len(words) * min(1.0, played / sent))])


def _interrupt(session: AgentSession | None) -> None:
    """Stop whatever the agent is saying; a session that has already closed has nothing to stop."""
    if session is None:
        return
    try:
        session.interrupt(force=True)
    except RuntimeError:
        pass
