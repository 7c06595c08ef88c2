"""``python -m agent``: the voice sidecar. ``make run`` starts it beside the app; both share the database.

It loads the local voice stack once (Whisper, Piper, the VAD and end-of-turn models, the intent model), closes
calls that a previous sidecar left open (their audio died with it) once their grace period for being resumed on
another sidecar is over (CALL_RESUME_GRACE_SECONDS; the app's background worker closes the later ones), and
reports a heartbeat that ``GET /api/health`` shows. Calls reach it through a transport: browser calls over
WebRTC, which the app opens through the sidecar's media server (``agent/transports/``; its URL goes out with the
heartbeat), or, when ``LIVEKIT_URL`` is set, LiveKit rooms: the sidecar then also runs the livekit-agents worker
(``agent/livekit_worker.py``) in its event loop. The heartbeat counts the calls of both.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from agent.heartbeat import default_worker_id, remove_worker, report_heartbeat
from agent.providers.cloud import close_http_session
from agent.resilience import publish_breakers
from agent.livekit_worker import active_calls, agent_server
from agent.transports.signalling import MediaServer
from agent.transports.webrtc import BrowserCalls
from agent.voice import LocalVoice
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import DomainError
from quantum_voice.services.voice_calls import close_lost_calls, release_calls_of_worker

log = logging.getLogger("agent")
HEARTBEAT_SECONDS = 10
DRAIN_SECONDS = 30  # on shutdown, LiveKit calls in progress get this long to finish


def recover(worker_id: str) -> list[int]:
    """Close the calls of sidecars that are gone (this one's predecessor included, if it restarted under the same
    id) whose grace period for resuming is over; the others stay open, resumable, and close later. Returns the
    closed conversation ids."""
    with session_scope() as session:
        closed = close_lost_calls(session, also_gone={worker_id})
        # what the predecessor under this id left open is not this process's: it must not look served by it
        release_calls_of_worker(session, worker_id)
    if closed:
        log.warning("closed %d call(s) left open by a voice sidecar that is gone: %s", len(closed), closed)
    return closed


async def serve(stop: asyncio.Event, *, worker_id: str | None = None) -> None:
    settings = get_settings()
    worker_id = worker_id or default_worker_id()
    transport = "livekit" if settings.livekit_url else "embedded"
    server = agent_server(settings) if transport == "livekit" else None  # fails first if LiveKit is half set up
    await asyncio.to_thread(recover, worker_id)
    log.info("voice sidecar %s loading local models (stt=%s, tts=%s)", worker_id, settings.voice_stt_model,
             settings.voice_tts)
    voice = await asyncio.to_thread(LocalVoice.load, settings)
    # browser calls: the app opens them here, so the media server is up before the first heartbeat says where
    browser_calls = BrowserCalls(voice, worker_id=worker_id, capacity=settings.voice_max_calls)
    media = MediaServer(browser_calls, settings)
    media_url = await media.start()
    livekit = asyncio.create_task(server.run(), name="livekit-worker") if server else None
    log.info("voice sidecar %s ready (%s transport)", worker_id, transport)
    try:
        while not stop.is_set() and not (livekit and livekit.done()):
            try:
                await asyncio.to_thread(report_heartbeat, worker_id, transport=transport,
                                        active_calls=active_calls() + browser_calls.active,
                                        capacity=settings.voice_max_calls, media_url=media_url)
                await asyncio.to_thread(publish_breakers, worker_id)  # provider circuit states for /api/health
            except Exception as exc:  # a database blip: keep running, the next beat retries
                log.warning("heartbeat failed (%s); retrying in %d s", exc.__class__.__name__, HEARTBEAT_SECONDS)
            await _pause(stop, livekit)
    finally:
        await media.stop("voice_worker_stopped")  # hangs up every browser call
        if server is not None:
            await _stop_livekit(server, livekit)
        await asyncio.to_thread(remove_worker, worker_id)
        await close_http_session()
        log.info("voice sidecar %s stopped", worker_id)
    if livekit is not None and not livekit.cancelled() and livekit.exception() is not None:
        # the worker gave up (e.g. LiveKit unreachable after its retries): exit so a supervisor restarts us
        log.error("the LiveKit worker stopped: %s", livekit.exception())
        raise livekit.exception()


async def _pause(stop: asyncio.Event, livekit: asyncio.Task | None) -> None:
    """Until the next heartbeat, the stop signal, or the LiveKit worker ending, whichever comes first."""
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({stopped, livekit} if livekit else {stopped}, timeout=HEARTBEAT_SECONDS,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()


async def _stop_livekit(server, livekit: asyncio.Task | None) -> None:
    if livekit is not None and not livekit.done():
        try:
            await server.drain(timeout=DRAIN_SECONDS)
        except TimeoutError:
            log.warning("LiveKit calls still running after %d s; closing them", DRAIN_SECONDS)
        except Exception:  # the worker never connected: nothing to drain
            log.debug("LiveKit worker drain skipped", exc_info=True)
    await server.aclose()
    if livekit is not None:
        await asyncio.gather(livekit, return_exceptions=True)


def main() -> None:
    from quantum_voice.core.logging_setup import configure_logging

    configure_logging()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    try:
        asyncio.run(run())
    except DomainError as exc:  # e.g. LIVEKIT_URL set without its key and secret
        log.error("voice sidecar cannot start: %s", exc.message)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
