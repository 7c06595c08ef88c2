"""The background worker: runs queued jobs (document processing, File Search sync, lead notifications, webhook
events, …), rescues abandoned ones, delivers lead notifications and webhook events that are due, and closes calls
whose voice sidecar vanished once they can no longer be resumed.

In the app: ``start_background_worker()`` at start-up runs a worker thread (the in-process queue when REDIS_URL
is unset, the Redis queue otherwise; WORKER_IN_APP=false leaves Redis jobs to dedicated workers).
Standalone, for the Redis queue: ``python -m quantum_voice.worker``.
"""

from __future__ import annotations

import logging
import signal
import threading

from quantum_voice.core.config import get_settings
from quantum_voice.core.jobs import Handler, Worker

log = logging.getLogger(__name__)

_worker: Worker | None = None
_lock = threading.Lock()


def job_handlers() -> dict[str, Handler]:
    """Every job the product knows, by name."""
    from quantum_voice.services.knowledge import filesearch_sync
    from quantum_voice.services.knowledge.documents import PROCESS_DOCUMENT_JOB
    from quantum_voice.services.knowledge.processing import process_document_job
    from quantum_voice.services.developer import webhook_delivery, webhook_events
    from quantum_voice.services.notifications import DELIVER_JOB, deliver_job

    return {PROCESS_DOCUMENT_JOB: process_document_job,
            filesearch_sync.SYNC_DOCUMENT_JOB: filesearch_sync.sync_document_job,
            filesearch_sync.DELETE_COPIES_JOB: filesearch_sync.delete_copies_job,
            DELIVER_JOB: deliver_job,
            webhook_events.DELIVER_JOB: webhook_delivery.deliver_job}


def rescue_abandoned_work(*, include_fresh_queued: bool = False) -> None:
    from quantum_voice.services.knowledge.filesearch_sync import recover_stuck_syncs
    from quantum_voice.services.knowledge.processing import recover_stuck_documents

    recover_stuck_documents(include_fresh_queued=include_fresh_queued)
    recover_stuck_syncs(include_fresh=include_fresh_queued)
    close_lost_calls()


def periodic_maintenance() -> None:
    """The worker's pass between jobs (every minute): rescue abandoned work, then send notifications and webhook
    events that are due (not at start-up: sending may wait on remote services), then drop expired idempotency
    keys."""
    rescue_abandoned_work()
    deliver_due_notifications()
    deliver_due_webhooks()
    purge_expired_idempotency_keys()


def purge_expired_idempotency_keys() -> int:
    """The stored answers of POSTs sent with an Idempotency-Key, past their 24 hours (api/idempotency.py)."""
    from quantum_voice.api import idempotency

    try:
        return idempotency.purge_expired()
    except Exception:  # the other maintenance of this pass must still run next time
        log.exception("purging expired idempotency keys failed")
        return 0


def deliver_due_notifications() -> int:
    """Lead notifications whose time has come: retries after their backoff, the daily digest of cold leads, and
    any a dead worker left half-sent (docs/notifications.md)."""
    from quantum_voice.services.notifications import deliver_all_due

    try:
        return deliver_all_due()
    except Exception:  # the other maintenance of this pass must still run next time
        log.exception("delivering due lead notifications failed")
        return 0


def deliver_due_webhooks() -> int:
    """Webhook events whose time has come (retries after their backoff, any a dead worker left half-sent), then
    the delivery log's old rows (docs/developers.md)."""
    from quantum_voice.services.developer import webhook_delivery

    try:
        sent = webhook_delivery.deliver_all_due()
        webhook_delivery.prune_old_deliveries()
        return sent
    except Exception:  # the other maintenance of this pass must still run next time
        log.exception("delivering due webhook events failed")
        return 0


def close_lost_calls() -> list[int]:
    """Calls whose voice sidecar vanished stay open for CALL_RESUME_GRACE_SECONDS (the page may resume them on
    another sidecar); past it they are closed here, so none stays "active" when no sidecar comes back."""
    from quantum_voice.core.db import session_scope
    from quantum_voice.services import voice_calls

    with session_scope() as session:
        closed = voice_calls.close_lost_calls(session)
    if closed:
        log.warning("closed %d call(s) whose voice sidecar is gone: %s", len(closed), closed)
    return closed


def build_worker(**options) -> Worker:
    return Worker(job_handlers(), max_attempts=get_settings().knowledge_max_attempts,
                  periodic=periodic_maintenance, **options)


def start_background_worker() -> Worker | None:
    """Start the app's worker thread once (idempotent); ``None`` when WORKER_IN_APP=false with Redis."""
    global _worker
    settings = get_settings()
    if settings.redis_url and not settings.worker_in_app:
        return None
    with _lock:
        if _worker is not None and _worker.running:
            return _worker
        try:
            # The in-process queue is empty after a restart: whatever was waiting must be queued again.
            rescue_abandoned_work(include_fresh_queued=not settings.redis_url)
        except Exception:
            log.exception("could not rescue abandoned jobs at start-up (is the database migrated?)")
        _worker = build_worker().start()
        threading.Thread(target=_load_models, name="model-preload", daemon=True).start()
        return _worker


def _load_models() -> None:
    """Load the embedding model now, so the first search or upload does not wait for it (a few seconds)."""
    try:
        from quantum_voice.services.knowledge.embeddings import get_embedder

        get_embedder()
    except Exception:
        log.exception("could not load the embedding model; knowledge search will try again when used")


def stop_background_worker(timeout: float = 5.0) -> None:
    global _worker
    with _lock:
        if _worker is not None:
            _worker.stop(timeout)
            _worker = None


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.redis_url:
        log.warning("REDIS_URL is not set: this worker only sees its own in-process queue. The app runs its own "
                    "worker thread; a standalone worker is for the Redis queue.")
    worker = build_worker()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (stop.set(), worker.stop(0)))
    rescue_abandoned_work(include_fresh_queued=not settings.redis_url)
    log.info("worker started on the %s queue", "redis" if settings.redis_url else "in-process")
    worker.run_forever()


if __name__ == "__main__":
    main()
