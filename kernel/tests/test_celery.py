"""Tasks go through a real worker process and a real broker: Redis when configured, else the filesystem."""

import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from kernel.tasks import HEARTBEAT_KEY, heartbeat
from practice_center.celery import PortalTask, app

CELERY = Path(sys.executable).with_name("celery")


@pytest.fixture(scope="module")
def worker():
    """A worker process of its own, on a queue of its own, so it never takes another worker's messages."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = Path(settings.VAR_DIR) / f"{queue}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "practice_center",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--include",
                "kernel.tests.celery_tasks",
            ],
            cwd=settings.BASE_DIR,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)
        text = log.read_text()
        log.unlink()
    assert "ready" in text, text[-2000:]


def _round_trip(queue):
    assert not app.conf.task_always_eager
    cache.delete(HEARTBEAT_KEY)
    result = heartbeat.apply_async(queue=queue)
    value = result.get(timeout=60)
    assert datetime.fromisoformat(value)
    # The worker wrote it to the shared cache, in another process.
    assert cache.get(HEARTBEAT_KEY) == value
    return result


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it to the local Redis)")
def test_task_round_trip_through_a_real_worker_on_redis(worker):
    assert app.conf.broker_url.startswith("redis://")
    result = _round_trip(worker)
    assert result.backend.__class__.__name__ == "RedisBackend"


@pytest.mark.smoke
@pytest.mark.skipif(
    bool(settings.REDIS_URL), reason="the embedded broker serves only without REDIS_URL (make test-smoke)"
)
def test_task_round_trip_through_a_real_worker_on_the_embedded_broker(worker):
    options = app.conf.broker_transport_options
    assert app.conf.broker_url.startswith("filesystem://")
    assert options["data_folder_in"] == options["data_folder_out"]
    _round_trip(worker)


def test_a_transient_failure_is_retried_with_backoff_by_the_worker(worker):
    from kernel.tests.celery_tasks import flaky

    key = f"flaky:{uuid.uuid4().hex}"
    result = flaky.apply_async(args=[key, 2], queue=worker)
    assert result.get(timeout=90) == 3  # failed twice, succeeded on the third attempt
    assert cache.get(key) == 3


def test_task_defaults_are_safe():
    assert app.conf.task_acks_late is True
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert "kernel.heartbeat" in app.conf.beat_schedule
    # Our tasks retry transient failures with backoff, and only those.
    assert heartbeat.retry_backoff and heartbeat.retry_jitter and heartbeat.max_retries
    assert ConnectionError in heartbeat.autoretry_for
    assert not any(issubclass(ValueError, error) for error in heartbeat.autoretry_for)


@pytest.mark.smoke
@pytest.mark.django_db(transaction=True)
def test_a_task_queued_on_commit_is_sent_only_when_the_transaction_commits(worker):
    from kernel.tests.celery_tasks import remember

    assert isinstance(remember, PortalTask)
    run = uuid.uuid4().hex
    rolled_back, committed = f"rolled-back:{run}", f"committed:{run}"
    published = []

    def record(body=None, **kwargs):
        published.append(repr(body))

    before_task_publish.connect(record, weak=False)
    try:
        with pytest.raises(RuntimeError, match="the service failed"), transaction.atomic():
            remember.delay_on_commit(rolled_back, "never")
            remember.apply_async_on_commit(args=[rolled_back, "never"], queue=worker)
            raise RuntimeError("the service failed")
        assert not [body for body in published if rolled_back in body]

        task_id = uuid.uuid4().hex
        with transaction.atomic():
            remember.apply_async_on_commit(args=[committed, "done"], queue=worker, task_id=task_id)
            assert not [body for body in published if committed in body]  # waits for the commit
        assert [body for body in published if committed in body]
    finally:
        before_task_publish.disconnect(record)

    assert remember.AsyncResult(task_id).get(timeout=60) == "done"
    assert cache.get(committed) == "done"
    # One worker takes its queue in order: anything sent by the rolled-back transaction came before.
    assert cache.get(rolled_back) is None
