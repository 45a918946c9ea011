"""Chainable filters of the activities app, and each model's scope rule, declared once.

An activity belongs to its unit: that unit's admins and those above plan and run it. Its organisers (the
users named on it) run it too, whatever their roles: the rule's `person`. Sign-ups, attendance and
offline entries belong to their activity and are scoped as it is.
"""

from __future__ import annotations

import datetime

from django.db import connections
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from stations.scoping import ScopedQuerySet, ScopeRule

from .capabilities import Capability


def _named_organiser(user, prefix: str) -> Q:
    from .models import ActivityOrganiser

    return Q(**{f"{prefix}pk__in": ActivityOrganiser.objects.filter(user_id=user.pk).values("activity_id")})


ACTIVITY_RULE = ScopeRule(lookup="unit", capability=Capability.ACTIVITIES_CHANGE, person=_named_organiser)
# Running an activity (its roster, check-in, the QR screen): the unit's staff and the organisers.
RUN_RULE = ScopeRule(lookup="unit", capability=Capability.ACTIVITIES_RUN, person=_named_organiser)


class ActivityQuerySet(ScopedQuerySet):
    scope_rule = ACTIVITY_RULE

    def public(self):
        """What anyone may see: published, running, finished or cancelled (never a draft)."""
        from .models import ActivityStatus

        return self.exclude(status=ActivityStatus.DRAFT)

    def open_for_signup(self, now=None):
        """Published and inside the recruitment window now."""
        from .models import ActivityStatus

        now = now or timezone.now()
        return self.filter(
            status=ActivityStatus.PUBLISHED, signup_opens_at__lte=now, signup_closes_at__gt=now
        )

    def upcoming(self, now=None):
        return self.filter(ended_at__gt=now or timezone.now())

    def report_overdue(self, now=None):
        """Held (not cancelled) activities whose report is missing past their own due time."""
        from .models import ActivityStatus

        if connections[self.db].vendor == "sqlite":
            # SQLite keeps a duration as microseconds and refuses integer × interval: multiply those.
            days = ExpressionWrapper(F("report_days") * 86_400_000_000, output_field=DurationField())
        else:
            days = ExpressionWrapper(
                F("report_days") * datetime.timedelta(days=1), output_field=DurationField()
            )
        due = ExpressionWrapper(F("ended_at") + days, output_field=DateTimeField())
        return (
            self.filter(
                status__in=[ActivityStatus.PUBLISHED, ActivityStatus.RUNNING, ActivityStatus.FINISHED],
                report__isnull=True,
            )
            .alias(report_due_at=due)
            .filter(report_due_at__lt=now or timezone.now())
        )

    def organised_by(self, user):
        return self.filter(_named_organiser(user, ""))

    def overlapping(self, started_at, ended_at):
        return self.filter(started_at__lt=ended_at, ended_at__gt=started_at)


class _ThroughActivity(ScopedQuerySet):
    scope_rule = RUN_RULE.through("activity")


class ActivityOrganiserQuerySet(ScopedQuerySet):
    scope_rule = ACTIVITY_RULE.through("activity")


class SignupQuerySet(_ThroughActivity):
    def active(self):
        from .models import SignupStatus

        return self.filter(status__in=[SignupStatus.ACCEPTED, SignupStatus.WAITLISTED])

    def accepted(self):
        from .models import SignupStatus

        return self.filter(status=SignupStatus.ACCEPTED)

    def waitlisted(self):
        from .models import SignupStatus

        return self.filter(status=SignupStatus.WAITLISTED)

    def of_volunteer(self, volunteer):
        return self.filter(volunteer=volunteer)


class AttendanceQuerySet(_ThroughActivity):
    def open(self):
        """Checked in and not out yet."""
        return self.filter(checked_in_at__isnull=False, checked_out_at__isnull=True)


class OfflineEntryQuerySet(_ThroughActivity):
    pass


class ActivityReportQuerySet(ScopedQuerySet):
    scope_rule = RUN_RULE.through("activity")

    def published(self):
        """Chosen by staff to appear as news on the public pages."""
        return self.filter(published_at__isnull=False)

    def unpublished(self):
        return self.filter(published_at__isnull=True)


class ActivityReportPhotoQuerySet(ScopedQuerySet):
    scope_rule = RUN_RULE.through("report__activity")
