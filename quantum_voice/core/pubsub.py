"""Publish/subscribe for live updates (dashboards, agent alerts, call events).

Redis channels when REDIS_URL is set, so several app processes and sidecars hear each other; an
in-process broker otherwise. Messages are JSON objects. The leads workspace (``services/leads/live.py``) and the
hand-off queue (``services/handoffs/live.py``) publish with ``publish_after_commit``.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from quantum_voice.core.config import get_settings

log = logging.getLogger(__name__)


class Subscription(Protocol):
    def get(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None when none arrived within ``timeout`` seconds."""
        ...
    def close(self) -> None: ...


class PubSub(Protocol):
    def publish(self, channel: str, message: dict[str, Any]) -> int: ...
    def subscribe(self, channel: str) -> Subscription: ...


class _LocalSubscription:
    def __init__(self, broker: "InProcessPubSub", channel: str):
        self._broker, self._channel = broker, channel
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue()

    def get(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._broker._remove(self._channel, self)


class InProcessPubSub:
    def __init__(self) -> None:
        self._subs: dict[str, list[_LocalSubscription]] = {}
        self._lock = threading.Lock()

    def publish(self, channel: str, message: dict[str, Any]) -> int:
        payload = json.loads(json.dumps(message))  # same copy semantics as the Redis broker
        with self._lock:
            subs = list(self._subs.get(channel, []))
        for sub in subs:
            sub.queue.put(payload)
        return len(subs)

    def subscribe(self, channel: str) -> _LocalSubscription:
        sub = _LocalSubscription(self, channel)
        with self._lock:
            self._subs.setdefault(channel, []).append(sub)
        return sub

    def _remove(self, channel: str, sub: _LocalSubscription) -> None:
        with self._lock:
            if sub in self._subs.get(channel, []):
                self._subs[channel].remove(sub)


class _RedisSubscription:
    def __init__(self, pubsub) -> None:
        self._pubsub = pubsub

    def get(self, timeout: float) -> dict[str, Any] | None:
        msg = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        return json.loads(msg["data"]) if msg else None

    def close(self) -> None:
        self._pubsub.close()


class RedisPubSub:
    def __init__(self, url: str, prefix: str = "qv:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def publish(self, channel: str, message: dict[str, Any]) -> int:
        return int(self._redis.publish(self._prefix + channel, json.dumps(message)))

    def subscribe(self, channel: str) -> _RedisSubscription:
        ps = self._redis.pubsub()
        ps.subscribe(self._prefix + channel)
        # Wait for the subscription to be confirmed so no message published right after is missed.
        ps.get_message(timeout=2)
        return _RedisSubscription(ps)


_pubsub: PubSub | None = None


def get_pubsub() -> PubSub:
    global _pubsub
    if _pubsub is None:
        url = get_settings().redis_url
        _pubsub = RedisPubSub(url) if url else InProcessPubSub()
    return _pubsub


def set_pubsub(pubsub: PubSub | None) -> None:
    global _pubsub
    _pubsub = pubsub


def publish_after_commit(session: Session, channel: str, message: dict[str, Any]) -> None:
    """Publish ``message`` on ``channel`` when ``session`` commits (never for a rolled-back one), so a page never
    hears of a change it then cannot read."""
    def publish(_session) -> None:
        try:
            get_pubsub().publish(channel, message)
        except Exception:  # a broker outage must not fail the write that already committed
            log.warning("could not publish on %s", channel, exc_info=True)

    event.listen(session, "after_commit", publish, once=True)
