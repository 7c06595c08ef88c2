"""Health of the parts the app depends on: database, cache/queue backend, voice sidecars.

Each voice sidecar also reports the circuit breakers of its speech providers (``agent/resilience.py``): through
the cache when Redis is configured (shared by the app and the sidecar), otherwise as one ``system_metrics`` row
per sidecar (``voice_breakers``, updated in place), since an in-process cache is not shared between the two
processes. ``/api/health`` lists them under ``voice_sidecar``; an open one makes the report "degraded".
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.system import SystemMetric, VoiceWorker

log = logging.getLogger(__name__)

BREAKERS_METRIC = "voice_breakers"  # system_metrics.name of a sidecar's breaker snapshot
BREAKERS_SOURCE = "voice-sidecar"


@dataclass(frozen=True)
class ComponentHealth:
    status: str  # ok | embedded | not_running | error
    detail: str = ""
    breakers: tuple[dict, ...] = ()  # voice_sidecar only: provider circuit breakers, per sidecar

    def as_dict(self) -> dict[str, Any]:
        shown = asdict(self)
        if not self.breakers:
            del shown["breakers"]
        else:
            shown["breakers"] = list(self.breakers)
        return shown


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
    detail = f"{len(workers)} sidecar(s), {calls} active call(s)"
    breakers = load_breaker_snapshots([w.id for w in workers])
    tripped = sorted({b["name"] for b in breakers if b.get("state") != "closed"})
    if tripped:
        detail += f"; circuit open: {', '.join(tripped)}"
    return ComponentHealth("ok", detail, tuple(breakers))


def health_report() -> dict:
    parts = {"database": check_database(), "redis": check_redis(), "voice_sidecar": check_voice_sidecar()}
    # The app is usable without a sidecar (dashboards, set-up); it is down without its database.
    overall = "ok"
    if parts["database"].status == "error" or parts["redis"].status == "error":
        overall = "error"
    elif parts["voice_sidecar"].status != "ok" or any(b.get("state") != "closed"
                                                      for b in parts["voice_sidecar"].breakers):
        overall = "degraded"  # a provider is down: calls go on through its fallback
    return {"status": overall, "components": {k: v.as_dict() for k, v in parts.items()}}


# ---------------------------------------------------------------- voice sidecars' circuit breakers


def breakers_cache_key(worker_id: str) -> str:
    return f"voice:breakers:{worker_id}"


def save_breaker_snapshot(worker_id: str, breakers: list[dict[str, Any]]) -> None:
    """Store a sidecar's breaker states (called by the sidecar with its heartbeat, ``agent.resilience``)."""
    settings = get_settings()
    if settings.redis_url:
        ttl = max(60, 3 * settings.sidecar_heartbeat_timeout_seconds)  # a gone sidecar's states expire
        get_cache().set(breakers_cache_key(worker_id), json.dumps(breakers), ttl_seconds=ttl)
        return
    now = utcnow()
    open_count = float(sum(1 for b in breakers if b.get("state") != "closed"))
    with session_scope() as session:
        rows = _snapshot_rows(session)
        mine = [r for r in rows if r.labels.get("worker_id") == worker_id]
        others = [r for r in rows if r.labels.get("worker_id") != worker_id]
        row = mine[0] if mine else SystemMetric(name=BREAKERS_METRIC, value=0.0, source=BREAKERS_SOURCE)
        row.value, row.labels, row.recorded_at = open_count, {"worker_id": worker_id, "breakers": breakers}, now
        session.add(row)
        stale = now - timedelta(seconds=10 * settings.sidecar_heartbeat_timeout_seconds)
        for old in mine[1:] + [r for r in others if r.recorded_at < stale]:
            session.delete(old)  # sidecars that are long gone, and any duplicate of this one's row


def load_breaker_snapshots(worker_ids: list[str]) -> list[dict[str, Any]]:
    """The breaker states the given (live) sidecars reported, each with its ``worker``; [] when none did."""
    found: list[dict[str, Any]] = []
    try:
        if get_settings().redis_url:
            for worker_id in worker_ids:
                stored = get_cache().get(breakers_cache_key(worker_id))
                found += [{"worker": worker_id, **b} for b in (json.loads(stored) if stored else [])]
        else:
            wanted = set(worker_ids)
            with session_scope() as session:
                for row in _snapshot_rows(session):
                    if row.labels.get("worker_id") in wanted:
                        found += [{"worker": row.labels["worker_id"], **b} for b in row.labels.get("breakers", [])]
    except Exception as exc:  # the health page must not fail because a snapshot could not be read
        log.warning("could not read the voice sidecars' breaker states (%s)", type(exc).__name__)
        return []
    return sorted(found, key=lambda b: (b["worker"], b.get("name", "")))


def _snapshot_rows(session: Session) -> list[SystemMetric]:
    stmt = select(SystemMetric).where(SystemMetric.name == BREAKERS_METRIC, SystemMetric.source == BREAKERS_SOURCE)
    return list(session.exec(stmt).all())
