"""The in-app inbox: every app tells a user something through `notify`, inside the transaction of the
change it reports (a rolled-back change sends nothing). `key` makes a notice idempotent."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import Notification


def notify(users, *, subject: str, body: str = "", url: str = "", key: str | None = None) -> int:
    """One notification to each of `users` (users or ids); with `key`, `<key>:<user id>` is delivered
    once however often this runs. Returns how many were new."""
    ids = sorted({getattr(user, "pk", user) for user in users if user is not None})
    if not ids:
        return 0
    rows = [
        Notification(
            user_id=user_id,
            subject=str(subject)[:200],
            body=str(body),
            url=url[:300],
            key=f"{key}:{user_id}"[:200] if key else None,
        )
        for user_id in ids
    ]
    with transaction.atomic():
        if key:
            known = set(
                Notification.objects.filter(key__in=[row.key for row in rows]).values_list("key", flat=True)
            )
            rows = [row for row in rows if row.key not in known]
        Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    return len(rows)


def unread_count(user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, *, ids=None) -> int:
    """Mark the user's notifications read (all, or those of `ids`): only their own."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())
