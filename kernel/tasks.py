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


@shared_task(name="kernel.staged_uploads_sweep", acks_late=True, time_limit=300, soft_time_limit=240)
def staged_uploads_sweep() -> int:
    """Remove photos kept for a form nobody came back to."""
    from .locks import single_run
    from .uploads import staged_uploads_sweep as sweep

    with single_run("kernel.staged_uploads_sweep", stale_after=600) as got:
        return sweep() if got else 0
