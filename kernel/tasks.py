"""Tasks of the kernel. Task names are public: renaming one strands messages already queued."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "kernel:heartbeat"


@shared_task(name="kernel.heartbeat", acks_late=True, time_limit=30, soft_time_limit=20)
def heartbeat() -> str:
    """Beat sends this every minute; the health page reads when a worker last ran it."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
