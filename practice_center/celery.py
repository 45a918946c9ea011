"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in every app.

Every task of ours derives from PortalTask: acknowledged late (a task lost with its worker runs again),
time-limited, and retried with exponential backoff and jitter when the database, the broker or the network
fails for a moment. Errors of our own logic are not retried: running them again would fail again.

PortalTask is a DjangoTask, so a service queues work for after its transaction with
`task.delay_on_commit(...)` (or `apply_async_on_commit(..., queue=...)`): a transaction that rolls back sends
nothing, and a worker never looks for rows not yet committed.
"""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice_center.settings")


def _transient_errors() -> tuple[type[BaseException], ...]:
    from django.db import InterfaceError as DatabaseInterfaceError
    from django.db import OperationalError as DatabaseOperationalError
    from kombu.exceptions import OperationalError as BrokerOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (
        DatabaseOperationalError,
        DatabaseInterfaceError,
        BrokerOperationalError,
        RedisConnectionError,
        RedisTimeoutError,
        ConnectionError,
        TimeoutError,
    )


class PortalTask(DjangoTask):
    acks_late = True
    autoretry_for = _transient_errors()
    retry_backoff = 2  # seconds before the first retry, doubling each time
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 6


app = Celery("practice_center", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender, **kwargs):
    # The filesystem transport does not create its folders; the embedded default must start from nothing.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)
    backend = sender.conf.result_backend or ""
    if backend.startswith("file://"):
        os.makedirs(backend.removeprefix("file://"), exist_ok=True)
