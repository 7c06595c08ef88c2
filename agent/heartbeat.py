"""How a voice sidecar tells the app it is alive, how busy it is and where it takes browser calls (read by
GET /api/health and by ``quantum_voice.services.media`` when it picks a sidecar for a call)."""

from __future__ import annotations

import os
import socket

from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.models.system import VoiceWorker


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def report_heartbeat(worker_id: str, *, active_calls: int = 0, capacity: int = 4, transport: str = "embedded",
                     version: str | None = None, media_url: str | None = None) -> None:
    with session_scope() as session:
        worker = session.get(VoiceWorker, worker_id)
        if worker is None:
            host, _, pid = worker_id.partition(":")
            worker = VoiceWorker(id=worker_id, host=host, pid=int(pid) if pid.isdigit() else None,
                                 last_heartbeat_at=utcnow())
            session.add(worker)
        worker.active_calls, worker.capacity, worker.transport = active_calls, capacity, transport
        worker.version, worker.media_url = version, media_url
        worker.last_heartbeat_at = utcnow()


def remove_worker(worker_id: str) -> None:
    """Called on clean shutdown so the app stops counting this sidecar at once."""
    with session_scope() as session:
        worker = session.get(VoiceWorker, worker_id)
        if worker is not None:
            session.delete(worker)
