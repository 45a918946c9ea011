"""Health check for load balancers and for `make run`: database reachable, worker and beat alive."""

from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from .tasks import HEARTBEAT_KEY

HEARTBEAT_STALE_SECONDS = 180


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:
        database = "down"
    last = cache.get(HEARTBEAT_KEY)
    age = (timezone.now() - datetime.fromisoformat(last)).total_seconds() if last else None
    worker = "ok" if age is not None and age < HEARTBEAT_STALE_SECONDS else "stale"
    body = {"database": database, "worker": worker, "last_heartbeat": last}
    return JsonResponse(body, status=200 if database == "ok" else 503)
