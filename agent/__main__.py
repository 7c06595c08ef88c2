"""``python -m agent``: the voice sidecar. ``make run`` starts it beside the app; both share the database.

It loads the local voice stack once (Whisper, Piper, the VAD and end-of-turn models, the intent model), closes
calls that a previous sidecar left open (their audio died with it), and reports a heartbeat that
``GET /api/health`` shows. Calls reach it through a transport: the embedded browser transport (WebRTC /
WebSocket, the caller-experience issue) or LiveKit rooms when ``LIVEKIT_URL`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from sqlmodel import select

from agent.heartbeat import default_worker_id, remove_worker, report_heartbeat
from agent.voice import LocalVoice
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.system import VoiceWorker
from quantum_voice.services.voice_calls import close_orphaned_calls

log = logging.getLogger("agent")
HEARTBEAT_SECONDS = 10


def live_worker_ids(timeout_seconds: int) -> set[str]:
    cutoff = utcnow() - timedelta(seconds=timeout_seconds)
    with session_scope() as session:
        return set(session.exec(select(VoiceWorker.id).where(VoiceWorker.last_heartbeat_at >= cutoff)).all())


def recover(worker_id: str) -> list[int]:
    """Close the calls of sidecars that are gone (this one included, if it restarted under the same id)."""
    live = live_worker_ids(get_settings().sidecar_heartbeat_timeout_seconds) - {worker_id}
    with session_scope() as session:
        closed = close_orphaned_calls(session, live)
    if closed:
        log.warning("closed %d call(s) left open by a voice sidecar that is gone: %s", len(closed), closed)
    return closed


async def serve(stop: asyncio.Event, *, worker_id: str | None = None) -> None:
    settings = get_settings()
    worker_id = worker_id or default_worker_id()
    transport = "livekit" if settings.livekit_url else "embedded"
    await asyncio.to_thread(recover, worker_id)
    log.info("voice sidecar %s loading local models (stt=%s, tts=%s)", worker_id, settings.voice_stt_model,
             settings.voice_tts)
    await asyncio.to_thread(LocalVoice.load, settings)
    log.info("voice sidecar %s ready (%s transport)", worker_id, transport)
    try:
        while not stop.is_set():
            try:
                await asyncio.to_thread(report_heartbeat, worker_id, transport=transport)
            except Exception as exc:  # a database blip: keep running, the next beat retries
                log.warning("heartbeat failed (%s); retrying in %d s", exc.__class__.__name__, HEARTBEAT_SECONDS)
            try:
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
            except TimeoutError:
                pass
    finally:
        await asyncio.to_thread(remove_worker, worker_id)
        log.info("voice sidecar %s stopped", worker_id)


def main() -> None:
    from quantum_voice.core.logging_setup import configure_logging

    configure_logging()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
