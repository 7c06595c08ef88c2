"""A durable-enough job queue for background work (document processing, webhook delivery, exports).

Redis lists when REDIS_URL is set, so any process can take the next job; an in-process queue
otherwise. A job is a name plus JSON arguments; workers register a handler per name.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from quantum_voice.core.config import get_settings


@dataclass(frozen=True)
class Job:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempt: int = 1

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "args": self.args, "id": self.id, "attempt": self.attempt})

    @staticmethod
    def from_json(raw: str) -> "Job":
        data = json.loads(raw)
        return Job(name=data["name"], args=data["args"], id=data["id"], attempt=data.get("attempt", 1))


class JobQueue(Protocol):
    def enqueue(self, job: Job) -> None: ...
    def dequeue(self, timeout: float) -> Job | None: ...
    def size(self) -> int: ...


class InProcessJobQueue:
    def __init__(self) -> None:
        self._q: queue.Queue[str] = queue.Queue()

    def enqueue(self, job: Job) -> None:
        self._q.put(job.to_json())

    def dequeue(self, timeout: float) -> Job | None:
        try:
            return Job.from_json(self._q.get(timeout=timeout))
        except queue.Empty:
            return None

    def size(self) -> int:
        return self._q.qsize()


class RedisJobQueue:
    def __init__(self, url: str, name: str = "jobs", prefix: str = "qv:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._key = f"{prefix}queue:{name}"

    def enqueue(self, job: Job) -> None:
        self._redis.lpush(self._key, job.to_json())

    def dequeue(self, timeout: float) -> Job | None:
        item = self._redis.brpop([self._key], timeout=max(timeout, 0.01))
        return Job.from_json(item[1]) if item else None

    def size(self) -> int:
        return int(self._redis.llen(self._key))


Handler = Callable[[dict[str, Any]], None]
log = logging.getLogger(__name__)


def run_one(q: JobQueue, handlers: dict[str, Handler], timeout: float, max_attempts: int = 3) -> Job | None:
    """Take one job and run it; a failing job goes back on the queue until ``max_attempts``."""
    job = q.dequeue(timeout)
    if job is None:
        return None
    handler = handlers.get(job.name)
    if handler is None:
        raise KeyError(f"no handler registered for job {job.name!r}")
    try:
        handler(job.args)
    except Exception:
        if job.attempt < max_attempts:
            q.enqueue(Job(name=job.name, args=job.args, id=job.id, attempt=job.attempt + 1))
        else:
            raise
    return job


_queue: JobQueue | None = None


def get_job_queue() -> JobQueue:
    global _queue
    if _queue is None:
        settings = get_settings()
        if settings.redis_url:
            _queue = RedisJobQueue(settings.redis_url, settings.job_queue_name)
        else:
            _queue = InProcessJobQueue()
    return _queue


def set_job_queue(q: JobQueue | None) -> None:
    global _queue
    _queue = q


def enqueue_after_commit(session: Any, job: Job) -> None:
    """Queue ``job`` once ``session`` commits (never before: a worker must find the rows the job is about);
    dropped if the session rolls back."""
    from sqlalchemy import event

    pending: list[Job] | None = session.info.get("jobs_after_commit")
    if pending is None:
        pending = session.info["jobs_after_commit"] = []

        def _commit(sess) -> None:
            jobs, sess.info["jobs_after_commit"] = list(sess.info.get("jobs_after_commit") or []), []
            for item in jobs:
                get_job_queue().enqueue(item)

        def _rollback(sess, previous) -> None:
            if not previous.nested:  # a savepoint rolled back leaves the outer transaction's jobs queued
                sess.info["jobs_after_commit"] = []

        event.listen(session, "after_commit", _commit)
        event.listen(session, "after_soft_rollback", _rollback)
    pending.append(job)


class Worker:
    """Takes jobs off a queue and runs them, in a thread of the app or as its own process.

    ``periodic`` runs every ``period_seconds`` between jobs (maintenance such as rescuing abandoned work).
    A failing job is logged and retried by ``run_one``; it never stops the worker.
    """

    def __init__(self, handlers: dict[str, Handler], *, queue_: JobQueue | None = None, max_attempts: int = 3,
                 poll_seconds: float = 1.0, periodic: Callable[[], None] | None = None,
                 period_seconds: float = 60.0):
        self.handlers, self.max_attempts, self.poll_seconds = handlers, max_attempts, poll_seconds
        self._queue, self._periodic, self._period = queue_, periodic, period_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_periodic = 0.0

    @property
    def queue(self) -> JobQueue:
        return self._queue or get_job_queue()

    def run_next(self, timeout: float | None = None) -> bool:
        """Run one job if one comes within ``timeout`` seconds; False when none came. Errors are logged."""
        try:
            return run_one(self.queue, self.handlers, self.poll_seconds if timeout is None else timeout,
                           self.max_attempts) is not None
        except Exception:
            log.exception("background job failed for good")
            return True

    def run_pending(self, limit: int = 1000, timeout: float = 0.05) -> int:
        """Run jobs until none comes within ``timeout`` seconds; returns how many ran (tests, scripts)."""
        ran = 0
        while ran < limit and self.run_next(timeout):
            ran += 1
        return ran

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self._maybe_periodic()
            self.run_next()

    def _maybe_periodic(self) -> None:
        if self._periodic is None or time.monotonic() - self._last_periodic < self._period:
            return
        self._last_periodic = time.monotonic()
        try:
            self._periodic()
        except Exception:
            log.exception("periodic worker task failed")

    def start(self, name: str = "job-worker") -> "Worker":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_forever, name=name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
