"""LiveKit mode without a LiveKit server (none can run here): the worker's options, its registration and job
acceptance against a loopback stand-in that speaks LiveKit's agent protocol, the sidecar running it beside its
heartbeat, and the entrypoint and a call on livekit's room I/O over livekit's own fake-job room (what its console
mode uses). What needs a real server — WebRTC media in a room, the greeting heard — is not exercised.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import WSMsgType, web
from livekit import api
from livekit.agents import JobContext, JobExecutorType, JobProcess
from livekit.agents.job import JobAcceptArguments, RunningJobInfo
from livekit.agents.ipc.mock_room import create_mock_room
from livekit.protocol import agent as agent_pb, models
from sqlmodel import select

from agent.__main__ import serve
from agent.call import VoiceCall
from agent.heartbeat import default_worker_id
from agent.livekit_worker import (accept_call, active_calls, agent_server, build_call, call_dispatch, call_setup,
                                  entrypoint, prewarm, room_options_for, run_call, worker_options)
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import ServiceUnavailable, ValidationFailed
from quantum_voice.models.calls import Conversation
from quantum_voice.models.system import VoiceWorker
from quantum_voice.services.livekit_rooms import AGENT_NAME, ROLE_ATTRIBUTE, CallDispatch
from tests.integration.agent.support import brochure_campaign, sqlite_only

KEY, SECRET = "APIqv-test-key", "qv-test-secret-0123456789-0123456789-abcdef"


def use_livekit(monkeypatch, url: str) -> None:
    monkeypatch.setenv("LIVEKIT_URL", url)
    monkeypatch.setenv("LIVEKIT_API_KEY", KEY)
    monkeypatch.setenv("LIVEKIT_API_SECRET", SECRET)
    reset_settings()


class LiveKitStandIn:
    """Just enough of a LiveKit server's agent endpoint (``/agent``, protobuf over a websocket, on 127.0.0.1) to
    see a worker register and answer one job request. No rooms and no media."""

    def __init__(self, job: agent_pb.Job | None = None) -> None:
        self.job = job
        self.claims: api.Claims | None = None
        self.registered: asyncio.Future[agent_pb.RegisterWorkerRequest] = asyncio.Future()
        self.answered: asyncio.Future[agent_pb.AvailabilityResponse] = asyncio.Future()
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/agent", self._worker_socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return f"ws://{host}:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _worker_socket(self, request: web.Request) -> web.WebSocketResponse:
        self.claims = api.TokenVerifier(KEY, SECRET).verify(request.headers["Authorization"].removeprefix("Bearer "))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        first = agent_pb.WorkerMessage()
        first.ParseFromString(await ws.receive_bytes())
        if not self.registered.done():
            self.registered.set_result(first.register)
        await ws.send_bytes(agent_pb.ServerMessage(
            register=agent_pb.RegisterWorkerResponse(worker_id="AW_standin")).SerializeToString())
        if self.job is not None:
            await ws.send_bytes(agent_pb.ServerMessage(
                availability=agent_pb.AvailabilityRequest(job=self.job)).SerializeToString())
        async for message in ws:
            if message.type != WSMsgType.BINARY:
                continue
            reply = agent_pb.WorkerMessage()
            reply.ParseFromString(message.data)
            if reply.WhichOneof("message") == "availability" and not self.answered.done():
                self.answered.set_result(reply.availability)
        return ws


def test_the_worker_options_carry_the_server_credentials_and_the_agent_name_for_explicit_dispatch(monkeypatch):
    use_livekit(monkeypatch, "wss://voice.example.test")
    options = worker_options()

    assert (options.ws_url, options.api_key, options.api_secret) == ("wss://voice.example.test", KEY, SECRET)
    assert options.agent_name == AGENT_NAME == "quantum-voice"
    assert (options.entrypoint_fnc, options.prewarm_fnc, options.request_fnc) == (entrypoint, prewarm, accept_call)
    assert options.job_executor_type == JobExecutorType.THREAD, "calls share the process's models and SQLite lock"


def test_without_livekit_settings_the_worker_says_what_to_set(monkeypatch):
    for var in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LIVEKIT_URL", "wss://voice.example.test")
    reset_settings()
    with pytest.raises(ServiceUnavailable, match="Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET"):
        worker_options()


def test_the_call_comes_from_the_jobs_dispatch_else_from_the_callers_metadata():
    job = CallDispatch(campaign_id=5, is_test=True, channel="qr", qr_code_id=2, caller_identity="caller-1")
    dispatch = call_dispatch(job.to_metadata(), "caller-1", caller_metadata="")
    assert dispatch == job
    from_caller = call_dispatch("", "caller-9", CallDispatch(campaign_id=6, use_draft=True).to_metadata())
    assert (from_caller.campaign_id, from_caller.use_draft, from_caller.caller_identity) == (6, True, "caller-9")
    with pytest.raises(ValidationFailed, match="campaign_id"):
        call_dispatch("", "caller-9", "")

    setup = call_setup(dispatch)
    assert (setup.channel, setup.is_test, setup.use_draft, setup.qr_code_id) == ("qr", True, False, 2)
    options = room_options_for(dispatch)
    assert options.participant_identity == "caller-1", "room I/O listens to the caller, never to staff joining"
    assert options.get_audio_input_options().sample_rate == 16000 and options.close_on_disconnect


def test_the_worker_registers_as_quantum_voice_and_accepts_a_dispatched_call(monkeypatch, voice):
    job = agent_pb.Job(id="AJ_1", type=agent_pb.JobType.JT_ROOM, agent_name=AGENT_NAME,
                       room=models.Room(sid="RM_1", name="qv-campaign-1-abc"),
                       metadata=CallDispatch(campaign_id=1).to_metadata())

    async def scenario():
        standin = LiveKitStandIn(job)
        use_livekit(monkeypatch, await standin.start())
        server = agent_server()
        running = asyncio.create_task(server.run(devmode=True))  # devmode: no CPU-load refusals on a busy machine
        try:
            registration = await asyncio.wait_for(standin.registered, 60)
            answer = await asyncio.wait_for(standin.answered, 60)
        finally:
            await server.aclose()
            await asyncio.gather(running, return_exceptions=True)
            await standin.stop()
        return standin.claims, registration, answer

    claims, registration, answer = asyncio.run(scenario())
    assert claims.video.agent, "the worker authenticates with a token signed by the API secret"
    assert registration.agent_name == "quantum-voice" and registration.type == agent_pb.JobType.JT_ROOM
    assert answer.job_id == "AJ_1" and answer.available
    assert answer.participant_name == "Quantum Voice"
    assert answer.participant_attributes[ROLE_ATTRIBUTE] == "ai_agent"


@sqlite_only
def test_the_sidecar_runs_the_livekit_worker_and_reports_a_livekit_heartbeat(engine, monkeypatch, voice):
    async def scenario():
        standin = LiveKitStandIn()
        use_livekit(monkeypatch, await standin.start())
        stop = asyncio.Event()
        sidecar = asyncio.create_task(serve(stop, worker_id="host:4242"))
        try:
            await asyncio.wait_for(standin.registered, 60)
            worker = None
            for _ in range(200):
                with session_scope() as session:
                    worker = session.get(VoiceWorker, "host:4242")
                    if worker is not None:
                        break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(sidecar, 60)
            await standin.stop()
        return worker

    worker = asyncio.run(scenario())
    assert worker is not None and worker.transport == "livekit" and worker.active_calls == 0
    with session_scope() as session:
        assert session.exec(select(VoiceWorker)).all() == [], "a clean stop removes the heartbeat at once"


def test_the_sidecar_refuses_half_configured_livekit_before_loading_anything(monkeypatch):
    monkeypatch.setenv("LIVEKIT_URL", "wss://voice.example.test")
    for var in ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    with pytest.raises(ServiceUnavailable, match="LIVEKIT_API_KEY"):
        asyncio.run(serve(asyncio.Event(), worker_id="host:1"))


@sqlite_only
def test_a_room_call_is_the_same_voice_call_with_livekits_room_io_and_hang_up_closes_it(engine, voice):
    campaign_id = brochure_campaign()
    dispatch = call_dispatch(CallDispatch(campaign_id=campaign_id, is_test=True, channel="qr").to_metadata(),
                             "caller-1")
    room = create_mock_room()  # livekit's stand-in room for fake jobs (console mode): connected, no media

    async def scenario():
        call = await build_call(dispatch, voice, worker_id="host:77")
        assert call.sink is None and call.agent_audio is None
        assert call.meters, "per-provider usage is recorded when the call ends, as in the embedded mode"
        greeting = await call.start(room=room, room_options=room_options_for(dispatch))
        session = call.session
        wiring = (session.room_io.room is room, session.input.audio is session.room_io.audio_input,
                  session.input.audio is not call.caller_audio, session.room_io.audio_output is not None)
        conversation_id = call.brain.conversation_id
        await call.hang_up()
        return greeting, wiring, conversation_id

    greeting, wiring, conversation_id = asyncio.run(scenario())
    assert all(wiring), wiring
    assert "Harbor View" in greeting.text
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert (conversation.channel, conversation.is_test, conversation.worker_id) == ("qr", True, "host:77")
        assert conversation.status == "ended" and conversation.end_reason == "caller_hung_up"


@sqlite_only
def test_a_room_call_that_cannot_start_still_closes_its_conversation(engine, voice):
    from livekit import rtc

    campaign_id = brochure_campaign()
    dispatch = call_dispatch(CallDispatch(campaign_id=campaign_id).to_metadata(), "caller-1")

    async def scenario():
        call = await build_call(dispatch, voice)
        with pytest.raises(Exception, match="before connecting"):  # livekit's room I/O needs a connected room
            await run_call(call, rtc.Room(), room_options_for(dispatch))
        return call

    call = asyncio.run(scenario())
    assert isinstance(call, VoiceCall) and call.brain.conversation_id is not None
    with session_scope() as session:
        conversation = session.get(Conversation, call.brain.conversation_id)
        assert (conversation.status, conversation.end_reason) == ("ended", "call_dropped")


@sqlite_only
def test_the_entrypoint_takes_the_dispatched_call_and_a_stopped_job_closes_it(engine, voice):
    campaign_id = brochure_campaign()
    job = agent_pb.Job(id="AJ_2", type=agent_pb.JobType.JT_ROOM, agent_name=AGENT_NAME,
                       room=models.Room(sid="RM_2", name="qv-campaign-x"),
                       metadata=CallDispatch(campaign_id=campaign_id, is_test=True, channel="qr").to_metadata())

    async def scenario():
        # livekit's own JobContext as its fake-job (console) mode builds it: its stand-in room is "connected" and
        # has one participant; the entrypoint runs exactly as in a dispatched job
        proc = JobProcess(executor_type=JobExecutorType.THREAD, user_arguments=None, http_proxy=None)
        proc.userdata["voice"] = voice
        info = RunningJobInfo(accept_arguments=JobAcceptArguments(name="Quantum Voice", identity="agent-1",
                                                                   metadata=""),
                              job=job, url="ws://127.0.0.1:9", token="", worker_id="AW_1", fake_job=True)
        ctx = JobContext(proc=proc, info=info, room=create_mock_room(), on_connect=lambda: None,
                         on_shutdown=lambda _reason: None, inference_executor=None)
        job_task = asyncio.create_task(entrypoint(ctx))
        opened = None
        for _ in range(400):
            await asyncio.sleep(0.05)
            with session_scope() as session:
                opened = session.exec(select(Conversation)).first()
            if opened is not None:
                break
        calls_during = active_calls()
        job_task.cancel()  # the worker stops the job (shutdown, drain timeout)
        await asyncio.gather(job_task, return_exceptions=True)
        return opened, calls_during

    opened, calls_during = asyncio.run(scenario())
    assert opened is not None and (opened.channel, opened.is_test, opened.status) == ("qr", True, "active")
    assert opened.worker_id == default_worker_id(), "the sidecar's id: a restart closes the calls it left open"
    assert calls_during == 1 and active_calls() == 0
    with session_scope() as session:
        conversation = session.get(Conversation, opened.id)
        assert (conversation.status, conversation.end_reason) == ("ended", "call_dropped")


def test_a_voice_call_needs_either_a_sink_or_a_room(voice):
    from agent.brain import CallBrain
    from agent.io import FrameRecorder

    parts = voice.session_parts()
    roomless = VoiceCall(brain=CallBrain(1), **parts)
    with pytest.raises(ValueError, match="AudioSink or into a LiveKit room"):
        asyncio.run(roomless.start())
    both = VoiceCall(brain=CallBrain(1), sink=FrameRecorder(), **voice.session_parts())
    with pytest.raises(ValueError, match="AudioSink or into a LiveKit room"):
        asyncio.run(both.start(room=create_mock_room()))
