"""Health check for load balancers and for `make run`: database, cache and broker reachable; worker alive.

Any of the three backends down makes the answer 503, always as JSON naming the part: a load balancer takes the
instance out, and whoever looks sees which part failed. The worker heartbeat is reported but never makes it
503: a web server whose worker is late still serves pages, and taking every web instance out because the
worker stopped would turn one failure into a full outage.
"""

import os
import uuid
from datetime import datetime

from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.utils import timezone

from .tasks import HEARTBEAT_KEY

HEARTBEAT_STALE_SECONDS = 180
# Short enough that a load balancer's health check (10 s in docker-compose.yml) gets an answer.
BROKER_TIMEOUT_SECONDS = 2


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> str | None:
    """Round trip a value of our own; answers the last heartbeat while it is there anyway."""
    probe, value = "kernel:healthz", uuid.uuid4().hex
    cache.set(probe, value, timeout=30)
    if cache.get(probe) != value:
        raise RuntimeError("the cache did not keep a value")
    return cache.get(HEARTBEAT_KEY)


def _broker() -> None:
    from practice_center.celery import app

    if app.conf.broker_url.startswith("filesystem://"):
        # The filesystem transport "connects" to anything; it is down when it cannot write its folders.
        options = app.conf.broker_transport_options or {}
        for key in ("data_folder_in", "data_folder_out"):
            folder = options.get(key)
            if not folder or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
                raise RuntimeError(f"broker folder {folder!r} is not writable")
        return
    # A connection of its own rather than the producer pool: a pooled connection may look alive while
    # the server is gone, and one try with a short timeout keeps the page from hanging.
    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.2)


def _check(probe) -> tuple[str, object]:
    try:
        return "ok", probe()
    except Exception:  # any failure of a backend is what this page reports, never a 500
        return "down", None


def _worker(last: str | None) -> str:
    try:
        age = (timezone.now() - datetime.fromisoformat(last)).total_seconds() if last else None
    except (TypeError, ValueError):
        age = None
    return "ok" if age is not None and age < HEARTBEAT_STALE_SECONDS else "stale"


def healthz(request):
    database, _ = _check(_database)
    cache_state, last = _check(_cache)
    broker, _ = _check(_broker)
    # The heartbeat lives in the cache: with the cache down nobody can tell.
    worker = _worker(last) if cache_state == "ok" else "unknown"
    parts = {"database": database, "cache": cache_state, "broker": broker}
    down = [name for name, state in parts.items() if state != "ok"]
    body = {**parts, "worker": worker, "last_heartbeat": last, "down": down}
    return JsonResponse(body, status=503 if down else 200)


def staged_upload_response(request, pk) -> FileResponse:
    """A kept upload (kernel.uploads), to the one who picked it; 404 to everyone else."""
    from .models import StagedUpload

    row = StagedUpload.objects.filter(pk=pk, owner=request.user).first()
    if row is None or not row.file.storage.exists(row.file.name):
        raise Http404
    response = FileResponse(row.file.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_member_required
def staged_upload_file(request, pk):
    """A photo kept from an earlier try of an admin form."""
    return staged_upload_response(request, pk)
