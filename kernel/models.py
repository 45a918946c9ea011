"""The base model every domain model extends, and the row behind kernel.locks.single_run on SQLite."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


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
