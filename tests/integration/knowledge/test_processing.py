"""The processing job: retries, gives up clearly, survives crashes, runs in a thread or on Redis."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest

from quantum_voice.core import jobs
from quantum_voice.core.clock import set_clock, utcnow
from quantum_voice.core.config import REPO_ROOT, reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.jobs import RedisJobQueue
from quantum_voice.models.knowledge import Document, DocumentStatus
from quantum_voice.services.knowledge import processing
from quantum_voice.services.knowledge.storage import LocalBlobStorage, get_blob_storage, set_blob_storage
from quantum_voice.worker import build_worker, start_background_worker, stop_background_worker
from tests.integration.knowledge.conftest import document, new_knowledge_base, new_owner, run_jobs, upload
from tests.unit.knowledge import files


class FlakyStorage(LocalBlobStorage):
    """The real local storage, failing its first ``failures`` reads like a briefly unavailable disk or bucket."""

    def __init__(self, root, failures: int):
        super().__init__(root)
        self.failures = failures

    def get(self, key: str) -> bytes:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("storage briefly unavailable")
        return super().get(key)


@pytest.fixture
def flaky_storage():
    def install(failures: int) -> FlakyStorage:
        storage = FlakyStorage(get_blob_storage().root, failures)
        set_blob_storage(storage)
        return storage

    yield install
    set_blob_storage(None)


def queued_brochure() -> int:
    owner = new_owner()
    return upload(owner, new_knowledge_base(owner), "brochure.md", files.BROCHURE_MD.encode())


def move_clock(minutes: int) -> None:
    later = utcnow() + timedelta(minutes=minutes)
    set_clock(lambda: later)


def test_a_failed_attempt_is_retried_and_the_document_says_so_meanwhile(engine, flaky_storage):
    doc_id = queued_brochure()
    flaky_storage(1)
    worker = build_worker()
    assert worker.run_next(0.1)
    waiting = document(doc_id)
    assert waiting.status == DocumentStatus.QUEUED and "Attempt 1 failed" in waiting.error
    assert worker.run_pending() == 1
    done = document(doc_id)
    assert done.status == DocumentStatus.READY and done.attempts == 2 and done.error is None


def test_after_the_last_attempt_the_document_fails_with_a_reason(engine, flaky_storage):
    doc_id = queued_brochure()
    flaky_storage(10)
    run_jobs()
    failed = document(doc_id)
    assert failed.status == DocumentStatus.FAILED and failed.attempts == 3
    assert "failed 3 times" in failed.error and "Reprocess" in failed.error
    assert jobs.get_job_queue().size() == 0


def test_a_worker_that_died_mid_job_leaves_the_document_to_be_retried(engine):
    doc_id = queued_brochure()
    jobs.get_job_queue().dequeue(0.1)  # the worker took the job...
    assert processing.claim(doc_id)  # ...started parsing, then its process was killed
    assert processing.recover_stuck_documents().requeued == []  # still fresh: maybe it is just slow
    assert not processing.claim(doc_id)  # and nobody else may take it meanwhile
    move_clock(11)
    report = processing.recover_stuck_documents()
    assert report.requeued == [doc_id]
    assert "interrupted" in document(doc_id).error
    run_jobs()
    done = document(doc_id)
    assert done.status == DocumentStatus.READY and done.attempts == 2


def test_a_document_interrupted_too_often_fails_clearly_instead_of_hanging(engine):
    doc_id = queued_brochure()
    with session_scope() as session:
        stuck = session.get(Document, doc_id)
        stuck.status, stuck.attempts = DocumentStatus.EMBEDDING.value, 3
    move_clock(30)
    assert processing.recover_stuck_documents().failed == [doc_id]
    failed = document(doc_id)
    assert failed.status == DocumentStatus.FAILED and "interrupted 3 times" in failed.error


def test_the_app_worker_thread_picks_up_work_lost_with_the_in_process_queue(engine):
    doc_id = queued_brochure()
    jobs.set_job_queue(None)  # an app restart: the in-process queue and its job are gone
    worker = start_background_worker()
    try:
        assert worker is not None and worker.running and start_background_worker() is worker
        deadline = time.monotonic() + 60
        while document(doc_id).status != DocumentStatus.READY and time.monotonic() < deadline:
            time.sleep(0.1)
        assert document(doc_id).status == DocumentStatus.READY
    finally:
        stop_background_worker()


def test_jobs_travel_through_redis_when_it_is_configured(engine, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings()
    redis_queue = RedisJobQueue(redis_url, name=uuid.uuid4().hex[:8], prefix="qvtest:")
    jobs.set_job_queue(redis_queue)
    doc_id = queued_brochure()
    assert redis_queue.size() == 1
    assert build_worker(queue_=redis_queue).run_pending() == 1
    assert document(doc_id).status == DocumentStatus.READY


def test_the_standalone_worker_process_takes_jobs_from_redis(engine, redis_url, monkeypatch, tmp_path):
    queue_name = f"test-{uuid.uuid4().hex[:8]}"  # test runs sharing this Redis must not take each other's jobs
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("JOB_QUEUE_NAME", queue_name)
    reset_settings()
    jobs.set_job_queue(None)
    queue = jobs.get_job_queue()
    assert isinstance(queue, RedisJobQueue) and queue._key.endswith(queue_name)
    doc_id = queued_brochure()
    env = {**os.environ, "REDIS_URL": redis_url, "JOB_QUEUE_NAME": queue_name, "DATA_DIR": os.environ["DATA_DIR"],
           "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    worker = subprocess.Popen([sys.executable, "-m", "quantum_voice.worker"], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while document(doc_id).status != DocumentStatus.READY and time.monotonic() < deadline:
            time.sleep(0.2)
        assert document(doc_id).status == DocumentStatus.READY
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode()
        queue._redis.delete(queue._key)
    assert worker.returncode in (0, -15), output
