"""Cache, pub/sub and job queue: the in-process versions and the Redis versions pass the same cases."""

import threading
import uuid

import pytest

from quantum_voice.core.cache import InMemoryCache, RedisCache
from quantum_voice.core.jobs import InProcessJobQueue, Job, RedisJobQueue, run_one
from quantum_voice.core.pubsub import InProcessPubSub, RedisPubSub
from quantum_voice.services.ratelimit import Limit, RateLimiter


def _prefix() -> str:
    return f"qvtest:{uuid.uuid4().hex[:8]}:"


@pytest.fixture(params=["memory", "redis"])
def cache(request):
    if request.param == "memory":
        return InMemoryCache()
    return RedisCache(request.getfixturevalue("redis_url"), prefix=_prefix())


@pytest.fixture(params=["memory", "redis"])
def broker(request):
    if request.param == "memory":
        return InProcessPubSub()
    return RedisPubSub(request.getfixturevalue("redis_url"), prefix=_prefix())


@pytest.fixture(params=["memory", "redis"])
def job_queue(request):
    if request.param == "memory":
        return InProcessJobQueue()
    return RedisJobQueue(request.getfixturevalue("redis_url"), name=uuid.uuid4().hex[:8], prefix="qvtest:")


def test_cache_set_get_delete(cache):
    assert cache.get("k") is None
    cache.set("k", "v")
    assert cache.get("k") == "v"
    cache.delete("k")
    assert cache.get("k") is None


def test_counter_counts_within_its_window(cache):
    assert cache.counter("c") == (0, 0)
    assert cache.incr("c", 60)[0] == 1
    count, left = cache.incr("c", 60)
    assert count == 2 and 1 <= left <= 60
    assert cache.counter("c")[0] == 2


def test_a_counter_takes_back_a_hit_within_its_window(cache):
    cache.incr("c", 60), cache.incr("c", 60)
    assert cache.decr("c") == 1 and cache.counter("c")[0] == 1 and 1 <= cache.counter("c")[1] <= 60
    assert cache.decr("c") == 0 and cache.decr("c") == 0, "never below zero"
    assert cache.decr("absent") == 0 and cache.counter("absent") == (0, 0), "an absent counter stays absent"
    limiter, limit = RateLimiter(cache, "t"), Limit(max_hits=1, window_seconds=60)
    assert limiter.hit("k", limit).allowed
    limiter.undo("k")
    assert limiter.hit("k", limit).allowed and not limiter.hit("k", limit).allowed


def test_in_memory_cache_expires_on_its_clock():
    now = [1000.0]
    cache = InMemoryCache(monotonic=lambda: now[0])
    cache.set("k", "v", ttl_seconds=10)
    cache.incr("c", 10)
    now[0] += 11
    assert cache.get("k") is None
    assert cache.counter("c") == (0, 0)


def test_rate_limiter_blocks_after_the_limit_and_reports_retry_after(cache):
    limiter = RateLimiter(cache, "t")
    limit = Limit(max_hits=3, window_seconds=120)
    verdicts = [limiter.hit("ip:1", limit) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 1 <= verdicts[-1].retry_after <= 120
    assert not limiter.peek("ip:1", limit).allowed
    assert limiter.peek("ip:2", limit).allowed
    limiter.reset("ip:1")
    assert limiter.peek("ip:1", limit).allowed


def test_pubsub_delivers_to_every_subscriber_of_the_channel(broker):
    a, b, other = broker.subscribe("calls"), broker.subscribe("calls"), broker.subscribe("leads")
    assert broker.publish("calls", {"event": "call.started", "id": 7}) == 2
    assert a.get(2) == {"event": "call.started", "id": 7}
    assert b.get(2) == {"event": "call.started", "id": 7}
    assert other.get(0.2) is None
    for sub in (a, b, other):
        sub.close()


def test_pubsub_crosses_threads(broker):
    sub = broker.subscribe("alerts")
    threading.Thread(target=lambda: broker.publish("alerts", {"n": 1})).start()
    assert sub.get(2) == {"n": 1}
    sub.close()


def test_job_queue_is_fifo_and_retries_failures(job_queue):
    seen: list[int] = []
    failures = {"left": 1}

    def handler(args):
        if args["n"] == 2 and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("transient")
        seen.append(args["n"])

    for n in (1, 2, 3):
        job_queue.enqueue(Job("work", {"n": n}))
    assert job_queue.size() == 3
    while run_one(job_queue, {"work": handler}, timeout=0.2):
        pass
    assert seen == [1, 3, 2]  # 2 failed once, went back on the queue, then succeeded
    assert job_queue.size() == 0


def test_job_queue_gives_up_after_max_attempts(job_queue):
    job_queue.enqueue(Job("boom", {}))

    def boom(_):
        raise RuntimeError("always")

    run_one(job_queue, {"boom": boom}, timeout=0.2, max_attempts=2)
    with pytest.raises(RuntimeError):
        run_one(job_queue, {"boom": boom}, timeout=0.2, max_attempts=2)
    assert job_queue.size() == 0
