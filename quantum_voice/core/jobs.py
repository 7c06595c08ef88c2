"""A durable-enough job queue for background work (document processing, webhook delivery, exports).

Redis lists when REDIS_URL is set, so any process can take the next job; an in-process queue
otherwise. A job is a name plus JSON arguments; workers register a handler per name.
"""

from __future__ import annotations

import json
import queue
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
        url = get_settings().redis_url
        _queue = RedisJobQueue(url) if url else InProcessJobQueue()
    return _queue


def set_job_queue(q: JobQueue | None) -> None:
    global _queue
    _queue = q
