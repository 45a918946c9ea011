"""A task that only the Celery tests load into their worker (celery worker --include)."""

from celery import shared_task
from django.core.cache import cache


@shared_task(name="kernel.tests.flaky")
def flaky(key: str, failures: int) -> int:
    """Fail with a connection error `failures` times, then succeed: counts attempts in the shared cache."""
    attempt = cache.get(key, 0) + 1
    cache.set(key, attempt, timeout=600)
    if attempt <= failures:
        raise ConnectionError(f"attempt {attempt}: the service went away for a moment")
    return attempt


@shared_task(name="kernel.tests.remember")
def remember(key: str, value: str) -> str:
    """Leave `value` in the shared cache, where the test process can see that the worker ran it."""
    cache.set(key, value, timeout=600)
    return value
