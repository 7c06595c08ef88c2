"""Health of the parts the app depends on: database, cache/queue backend, voice sidecars."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.system import VoiceWorker


@dataclass(frozen=True)
class ComponentHealth:
    status: str  # ok | embedded | not_running | error
    detail: str = ""


def check_database() -> ComponentHealth:
    try:
        with session_scope() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            backend = session.get_bind().dialect.name
        return ComponentHealth("ok", backend)
    except Exception as exc:  # any driver error means "down"; say which
        return ComponentHealth("error", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def check_redis() -> ComponentHealth:
    if not get_settings().redis_url:
        return ComponentHealth("embedded", "in-process cache, queue and pub/sub (REDIS_URL not set)")
    try:
        get_cache().ping()
        return ComponentHealth("ok", "redis")
    except Exception as exc:
        return ComponentHealth("error", f"{type(exc).__name__}: {exc}")


def check_voice_sidecar() -> ComponentHealth:
    cutoff = utcnow() - timedelta(seconds=get_settings().sidecar_heartbeat_timeout_seconds)
    try:
        with session_scope() as session:
            workers = session.exec(select(VoiceWorker).where(VoiceWorker.last_heartbeat_at >= cutoff)).all()
    except Exception as exc:
        return ComponentHealth("error", f"{type(exc).__name__}: cannot read sidecar heartbeats")
    if not workers:
        return ComponentHealth("not_running", "no voice sidecar has reported in the last "
                                              f"{get_settings().sidecar_heartbeat_timeout_seconds} s")
    calls = sum(w.active_calls for w in workers)
    return ComponentHealth("ok", f"{len(workers)} sidecar(s), {calls} active call(s)")


def health_report() -> dict:
    parts = {"database": check_database(), "redis": check_redis(), "voice_sidecar": check_voice_sidecar()}
    # The app is usable without a sidecar (dashboards, set-up); it is down without its database.
    overall = "ok"
    if parts["database"].status == "error" or parts["redis"].status == "error":
        overall = "error"
    elif parts["voice_sidecar"].status != "ok":
        overall = "degraded"
    return {"status": overall, "components": {k: asdict(v) for k, v in parts.items()}}
