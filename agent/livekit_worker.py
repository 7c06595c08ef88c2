"""LiveKit mode: the sidecar as a livekit-agents worker that joins call rooms.

With ``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` set, ``python -m agent`` registers an
``AgentServer`` under the name ``quantum-voice`` (explicit dispatch: only rooms whose caller token asks for this
agent get it; see ``quantum_voice/services/livekit_rooms.py``). For each dispatched room the entrypoint connects,
waits for the caller, reads the ``CallDispatch`` (campaign, test call, channel) from the job's metadata (else the
caller's), and runs the same ``VoiceCall`` as the embedded transport — flow brain, local Whisper / Piper, offline
VAD and end-of-turn model, per-turn metrics — with livekit's room I/O carrying the audio.

Jobs run as threads of the sidecar's process (not one process per call), so they share the models loaded once and
the one-flow-step-at-a-time lock SQLite needs (``agent/brain.py``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import replace

from livekit import rtc
from livekit.agents import (AgentServer, AutoSubscribe, JobContext, JobExecutorType, JobProcess, JobRequest,
                            WorkerOptions, room_io)
from livekit.agents.types import NOT_GIVEN

from agent.brain import CallBrain
from agent.call import VoiceCall, campaign_vocabulary
from agent.heartbeat import default_worker_id
from agent.voice import LocalVoice
from quantum_voice.core.config import Settings
from quantum_voice.core.errors import DomainError
from quantum_voice.services.conversations import CallServices, CallSetup
from quantum_voice.services.livekit_rooms import AGENT_NAME, ROLE_ATTRIBUTE, CallDispatch, livekit_config

log = logging.getLogger(__name__)

AGENT_DISPLAY_NAME = "Quantum Voice"
CALLER_SAMPLE_RATE = 16000  # what the VAD, the end-of-turn model and Whisper work at (the embedded path's rate)
IDLE_JOB_SLOTS = 1  # job threads kept warm (prewarm has run); the models themselves are loaded once per process


def worker_options(settings: Settings | None = None) -> WorkerOptions:
    """The worker's options: the server and credentials from settings, explicit dispatch by agent name."""
    config = livekit_config(settings)  # raises with what to set when LiveKit is not configured
    return WorkerOptions(
        entrypoint_fnc=entrypoint, prewarm_fnc=prewarm, request_fnc=accept_call, agent_name=AGENT_NAME,
        ws_url=config.url, api_key=config.api_key, api_secret=config.api_secret,
        job_executor_type=JobExecutorType.THREAD, num_idle_processes=IDLE_JOB_SLOTS, initialize_process_timeout=120,
        # livekit's own health page is not needed (the app reads our heartbeat): keep it local, on a free port
        host="127.0.0.1", port=0)


def agent_server(settings: Settings | None = None) -> AgentServer:
    return AgentServer.from_server_options(worker_options(settings))


def prewarm(proc: JobProcess) -> None:
    proc.userdata["voice"] = LocalVoice.load()


async def accept_call(request: JobRequest) -> None:
    await request.accept(name=AGENT_DISPLAY_NAME, attributes={ROLE_ATTRIBUTE: "ai_agent"})


async def entrypoint(ctx: JobContext) -> None:
    """One dispatched room: connect, wait for the caller, run the call, leave."""
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    try:
        expected = CallDispatch.from_metadata(ctx.job.metadata).caller_identity if ctx.job.metadata else None
        caller = await ctx.wait_for_participant(identity=expected)
        dispatch = call_dispatch(ctx.job.metadata, caller.identity, caller.metadata)
    except DomainError as exc:
        log.error("room %s: not a call this agent can take (%s)", ctx.room.name, exc.message)
        ctx.shutdown("no call dispatch")
        return
    voice = ctx.proc.userdata.get("voice") or await asyncio.to_thread(LocalVoice.load)
    call: VoiceCall | None = None
    try:
        call = await build_call(dispatch, voice, worker_id=default_worker_id())
        await run_call(call, ctx.room, room_options_for(dispatch))
    except DomainError as exc:  # e.g. the campaign is gone or has no published flow
        log.error("room %s: the call could not start (%s)", ctx.room.name, exc.message)
    if call is not None and call.reports and call.reports[-1].ended:
        await ctx.delete_room()  # the flow said goodbye: hang up on the caller too
    ctx.shutdown("call ended")


def call_dispatch(job_metadata: str, caller_identity: str, caller_metadata: str = "") -> CallDispatch:
    """The call's dispatch: the job's metadata (put there by the caller's token), else the caller's own
    metadata; the agent listens to ``caller_identity``."""
    return replace(CallDispatch.from_metadata(job_metadata or caller_metadata), caller_identity=caller_identity)


def call_setup(dispatch: CallDispatch) -> CallSetup:
    return CallSetup(channel=dispatch.channel, is_test=dispatch.is_test, use_draft=dispatch.use_draft,
                     qr_code_id=dispatch.qr_code_id, caller_ip_hash=dispatch.caller_ip_hash,
                     user_agent=dispatch.user_agent, caller_email=dispatch.caller_email,
                     consent_record_id=dispatch.consent_record_id)


def room_options_for(dispatch: CallDispatch) -> room_io.RoomOptions:
    """Room I/O linked to the caller only (a staff member joining later is not the caller), closing the session
    when the caller leaves."""
    return room_io.RoomOptions(
        participant_identity=dispatch.caller_identity or NOT_GIVEN,
        audio_input=room_io.AudioInputOptions(sample_rate=CALLER_SAMPLE_RATE), close_on_disconnect=True)


async def build_call(dispatch: CallDispatch, voice: LocalVoice, *, worker_id: str | None = None) -> VoiceCall:
    """The same call the embedded transport runs, with no audio sink: the room carries the audio."""
    # no one can join a LiveKit room from the agent workspace yet: a hand-off never holds these callers
    brain = CallBrain(dispatch.campaign_id, setup=call_setup(dispatch), worker_id=worker_id,
                      services=CallServices(person_can_join=False))
    return VoiceCall(brain=brain, turn_taking=voice.turn_taking(),
                     **voice.session_parts(await campaign_vocabulary(dispatch.campaign_id)))


async def run_call(call: VoiceCall, room: rtc.Room, options: room_io.RoomOptions) -> None:
    """Greet, converse until the caller leaves or the flow ends the call, then close the conversation."""
    _count_call(+1)
    reason = "call_dropped"  # the room failed or the worker stopped the job; a call that ran its course:
    try:
        await call.start(room=room, room_options=options)
        await call.ended.wait()
        reason = "caller_hung_up"  # (when the flow ended it, the conversation is closed already)
    finally:
        try:
            await call.hang_up(reason)
        finally:
            _count_call(-1)


def active_calls() -> int:
    """Calls this process's LiveKit jobs are running now (the sidecar's heartbeat reports it)."""
    with _calls_lock:
        return _calls


def _count_call(change: int) -> None:
    global _calls
    with _calls_lock:
        _calls += change


_calls = 0
_calls_lock = threading.Lock()  # jobs are threads, each with its own event loop
