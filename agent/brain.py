"""The agent's brain: the campaign's flow engine, presented to livekit-agents as its LLM.

``CallBrain`` runs one call through ``quantum_voice.services.conversations`` (the same runner the simulator and
the API use), each step in a worker thread with its own database session. ``FlowLLM`` is an ``llm.LLM`` whose
stream answers the latest caller message with the flow's reply, so ``AgentSession`` treats the flow exactly like
a language model: it is called when the caller's turn ends, its text goes to TTS sentence by sentence, and an
interruption cancels it. No language model is needed; when the flow step fails, the caller hears a short apology
and the call goes on (the next turn is tried afresh).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import APIConnectOptions, llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
# private, pinned with livekit-agents: which speech a reply belongs to
from livekit.agents.voice.agent_activity import _SpeechHandleContextVar

from quantum_voice.core.config import get_settings
from quantum_voice.core.db import get_engine, session_scope
from quantum_voice.models.calls import ConversationStatus, Speaker
from quantum_voice.services import conversations, voice_calls
from quantum_voice.services.conversations import CallServices, CallSetup, TurnOutcome

log = logging.getLogger(__name__)

# SQLite lets one writer in at a time and fails (rather than waits) when two transactions that began by reading
# both try to write: one sidecar's calls therefore take their flow steps one at a time there (each is ~10-80 ms).
# PostgreSQL needs no such thing (row locks per conversation).
_sqlite_steps = threading.Lock()

APOLOGY = "Sorry, I didn't catch that. Could you say it again?"


@dataclass
class BrainReply:
    text: str
    node_id: str | None = None
    node_type: str | None = None
    handoff: dict[str, Any] | None = None
    ended: bool = False
    brain_ms: float = 0.0
    failed: bool = False
    caller: str | None = None
    ready_at: float = field(default_factory=time.time)  # wall clock when the reply text was ready
    agent_seq: int | None = None  # the transcript seq of the agent turn this step saved (None: nothing saved)


@dataclass
class CallBrain:
    """One call's conversation state, kept in the database after every step."""

    campaign_id: int
    setup: CallSetup = field(default_factory=CallSetup)
    services: CallServices = field(default_factory=CallServices)
    worker_id: str | None = None
    conversation_id: int | None = None
    organization_id: int | None = None
    last: BrainReply | None = None
    max_call_seconds: float | None = None  # the campaign's hard limit on a call's length (read when it starts)
    handed_off: bool = False  # the call is with the agents' queue or a person (as of the last step)
    with_person: bool = False  # a person has taken the call (the AI is silent)

    async def start(self) -> BrainReply:
        """Open the conversation and return the greeting."""
        return await asyncio.to_thread(self._start)

    async def resume(self) -> BrainReply:
        """Carry on the open conversation ``conversation_id`` of this campaign, whose sidecar was lost: no new
        conversation and no greeting; this sidecar takes it over, and the reply is the line that picks the call up
        ("Sorry, we got cut off." and what the flow was waiting for). The flow state, the lead and the transcript
        carry on from the database."""
        return await asyncio.to_thread(self._resume)

    async def respond(self, utterance: str, confidence: float | None = None) -> BrainReply:
        return await asyncio.to_thread(self._respond, utterance, confidence)

    async def tick(self) -> BrainReply | None:
        """Time-based flow rules (the Dispatch duration trigger) while nobody speaks; ``None`` if nothing fired."""
        if self.conversation_id is None:
            return None
        return await asyncio.to_thread(self._tick)

    async def hang_up(self, reason: str = "caller_hung_up") -> None:
        if self.conversation_id is not None:
            await asyncio.to_thread(self._hang_up, reason)

    async def run(self, fn, *args):
        """Run ``fn(repo, conversation_id, *args)`` for this call in a worker thread, in one transaction."""
        def work():
            with _one_step(), session_scope() as session:
                return fn(voice_calls.system_repo(session, self.organization_id), self.conversation_id, *args)
        return await asyncio.to_thread(work)

    # ------------------------------------------------------------ in worker threads

    def _start(self) -> BrainReply:
        began = time.perf_counter()
        with _one_step(), session_scope() as session:
            self.organization_id = voice_calls.organization_of_campaign(session, self.campaign_id)
            if self.max_call_seconds is None:
                self.max_call_seconds = voice_calls.max_call_seconds_of_campaign(session, self.campaign_id)
            repo = voice_calls.system_repo(session, self.organization_id)
            outcome = conversations.start_conversation(repo, self.campaign_id, self.setup, self.services)
            self.conversation_id = outcome.conversation.id
            if self.worker_id:
                voice_calls.assign_worker(repo, self.conversation_id, self.worker_id)
            return self._remember(repo, outcome, began)

    def _resume(self) -> BrainReply:
        began = time.perf_counter()
        with _one_step(), session_scope() as session:
            conversation = voice_calls.resumable_conversation(session, self.conversation_id, self.campaign_id)
            self.organization_id = conversation.organization_id
            if self.max_call_seconds is None:  # the limit counts from the call's start, not from the resume
                self.max_call_seconds = voice_calls.remaining_call_seconds(session, conversation)
            repo = voice_calls.system_repo(session, self.organization_id)
            outcome = conversations.resume_conversation(repo, self.conversation_id, self.services)
            if self.worker_id:
                voice_calls.assign_worker(repo, self.conversation_id, self.worker_id)
            return self._remember(repo, outcome, began)

    def _respond(self, utterance: str, confidence: float | None) -> BrainReply:
        began = time.perf_counter()
        with _one_step(), session_scope() as session:
            repo = voice_calls.system_repo(session, self.organization_id)
            outcome = conversations.take_turn(repo, self.conversation_id, utterance, self.services,
                                              stt_confidence=confidence)
            return self._remember(repo, outcome, began)

    def _tick(self) -> BrainReply | None:
        began = time.perf_counter()
        with _one_step(), session_scope() as session:
            repo = voice_calls.system_repo(session, self.organization_id)
            if not self._still_ours(repo):
                return None
            outcome = conversations.tick(repo, self.conversation_id, self.services)
            return self._remember(repo, outcome, began) if outcome is not None else None

    def _hang_up(self, reason: str) -> None:
        with _one_step(), session_scope() as session:
            repo = voice_calls.system_repo(session, self.organization_id)
            if self._still_ours(repo):
                conversations.end_conversation(repo, self.conversation_id, reason)

    def _still_ours(self, repo) -> bool:
        """False once another sidecar has resumed this call (this one lost its caller and was given up for lost):
        what is left of the call here must not end or move the conversation."""
        if self.worker_id is None or voice_calls.served_by(repo, self.conversation_id, self.worker_id):
            return True
        log.info("conversation %s was resumed on another voice sidecar; this one leaves it alone",
                 self.conversation_id)
        return False

    def _remember(self, repo, outcome: TurnOutcome, began: float) -> BrainReply:
        handoff = next((a.data for a in outcome.step.of_kind("handoff")), None)
        self.handed_off = outcome.conversation.status == ConversationStatus.HANDED_OFF.value
        request = outcome.step.state.handoff
        self.with_person = self.handed_off and request is not None and request.phase == "connected"
        saved = voice_calls.last_turn(repo, outcome.conversation.id, Speaker.AGENT) if outcome.agent else None
        self.last = BrainReply(
            text=outcome.agent, node_id=outcome.step.node_id, node_type=outcome.step.node_type,
            handoff=dict(handoff) if handoff is not None else None,
            ended=outcome.ended or outcome.conversation.status == ConversationStatus.ENDED.value,
            brain_ms=(time.perf_counter() - began) * 1000, caller=outcome.caller,
            agent_seq=saved.seq if saved is not None else None)
        return self.last


def _one_step():
    return _sqlite_steps if get_engine().dialect.name == "sqlite" else contextlib.nullcontext()


class FlowLLM(llm.LLM):
    """livekit-agents' LLM seat, filled by the flow engine of one call.

    Each flow step is kept under the id of the speech handle it answers (``steps``: the step, which goes on and
    is saved even if the session cancels the reply; ``spoken``: the reply the stream gave the session, which may
    be the apology), so the call can tell which saved agent turn the caller heard and which one nobody heard."""

    def __init__(self, brain: CallBrain) -> None:
        super().__init__()
        self.brain = brain
        self.steps: dict[str, asyncio.Future[BrainReply]] = {}
        self.spoken: dict[str, BrainReply] = {}
        self.last: BrainReply | None = None  # the latest reply given, whichever speech it was for

    @property
    def model(self) -> str:
        return "flow-engine"

    @property
    def provider(self) -> str:
        return "quantum-voice"

    def forget(self, speech_id: str) -> tuple[asyncio.Future[BrainReply] | None, BrainReply | None]:
        """Drop what is kept for a finished speech; returns its step and the reply the caller was to hear."""
        return self.steps.pop(speech_id, None), self.spoken.pop(speech_id, None)

    def chat(self, *, chat_ctx: llm.ChatContext, tools: list[llm.Tool] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN, tool_choice: NotGivenOr[Any] = NOT_GIVEN,
             extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN) -> llm.LLMStream:
        # one attempt only: a flow step writes to the database, so it must never be replayed by a retry
        options = APIConnectOptions(max_retry=0, retry_interval=0, timeout=conn_options.timeout)
        return _FlowStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=options)


class _FlowStream(llm.LLMStream):
    def __init__(self, flow_llm: FlowLLM, **kwargs) -> None:
        super().__init__(flow_llm, **kwargs)
        self._flow_llm = flow_llm
        # the session runs the reply (and so this stream) inside its speech handle's context
        handle = _SpeechHandleContextVar.get(None)
        self._speech_id = handle.id if handle is not None else None

    async def _run(self) -> None:
        message = _latest_caller_message(self._chat_ctx)
        text = (message.text_content or "").strip() if message is not None else ""
        confidence = message.transcript_confidence if message is not None else None
        brain = self._flow_llm.brain
        # the step runs to the end even when the session cancels this reply (the caller spoke again): it is saved
        # either way, and the call marks the saved agent turn as never heard
        step = asyncio.ensure_future(brain.respond(text, confidence))
        step.add_done_callback(_log_step_failure)
        if self._speech_id is not None:
            self._flow_llm.steps[self._speech_id] = step
        try:
            # past the limit the caller hears the apology; the step may still finish and be saved behind it
            reply = await asyncio.wait_for(asyncio.shield(step), get_settings().voice_brain_timeout_seconds)
        except Exception as exc:  # failed (logged by the step) or too slow: one apology instead of silence
            if isinstance(exc, TimeoutError):
                log.warning("flow step of conversation %s took longer than its limit", brain.conversation_id)
            reply = BrainReply(text=APOLOGY, failed=True, caller=text)
        self._flow_llm.last = reply
        if self._speech_id is not None:
            self._flow_llm.spoken[self._speech_id] = reply
        if reply.text:
            self._event_ch.send_nowait(llm.ChatChunk(
                id=f"flow-{uuid.uuid4().hex[:12]}", delta=llm.ChoiceDelta(role="assistant", content=reply.text)))


def _log_step_failure(step: asyncio.Future) -> None:
    if not step.cancelled() and step.exception() is not None:
        log.error("flow step failed", exc_info=step.exception())


def _latest_caller_message(chat_ctx: llm.ChatContext) -> llm.ChatMessage | None:
    for item in reversed(chat_ctx.items):
        if getattr(item, "type", None) == "message" and item.role == "user":
            return item
    return None
