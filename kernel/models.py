"""The base model every domain model extends, the fields of a row that is revoked rather than deleted, and
the row behind kernel.locks.single_run on SQLite."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Revocable(models.Model):
    """A row that is taken back, never deleted (a certificate, an award): when, by whom and why."""

    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)

    class Meta:
        abstract = True

    def mark_revoked(self, *, actor, reason: str, also: tuple[str, ...] = ()) -> None:
        """Set and save the three fields (and `also`, fields the caller changed with them)."""
        self.revoked_at = timezone.now()
        self.revoked_by = actor
        self.revoke_reason = reason[:300]
        self.save(update_fields=[*also, "revoked_at", "revoked_by", "revoke_reason", "updated_at"])


class RunLock(models.Model):
    """The guard of kernel.locks.single_run where the database has no advisory locks (SQLite): a row per
    job while it runs. A row past expires_at belongs to a run that died without cleaning up."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    owner = models.CharField(_("owner"), max_length=200)
    acquired_at = models.DateTimeField(_("acquired at"))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("run lock")
        verbose_name_plural = _("run locks")

    def __str__(self) -> str:
        return self.key


def _protected_storage():
    from django.core.files.storage import storages

    return storages["protected"]


def _staged_upload_to(instance: "StagedUpload", filename: str) -> str:
    return f"staging/{instance.pk.hex}{filename[filename.rfind('.') :] if '.' in filename else ''}"


class StagedUpload(models.Model):
    """A photo picked on a form that came back with an error, kept (already cleaned) for the next try, so
    nobody has to pick it again. Only its owner sees it; old ones are swept away."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(
        _("file"), upload_to=_staged_upload_to, storage=_protected_storage, max_length=200
    )
    original_name = models.CharField(_("original name"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("kept upload")
        verbose_name_plural = _("kept uploads")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name or str(self.pk)


class Notification(models.Model):
    """A message in a user's in-app inbox (an activity cancelled, a place freed on the waitlist …).
    `key`, when given, is unique: the same notice is never delivered twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    key = models.CharField(_("key"), max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.subject
