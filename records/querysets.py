"""Chainable filters of the records app, and each model's scope rule, declared once.

A record belongs to its organising unit (谁组织谁记录): that unit's admins and those above see and decide it,
a team leader sees and decides its team's records, and an organiser named on a record (an activity's
organiser) sees and decides that record. A volunteer reads their own rows through `of_volunteer`.
"""

from __future__ import annotations

from django.db.models import Q

from stations.scoping import ScopedQuerySet, ScopeRule, scope_for
from volunteers.capabilities import TEAM_TREE

from .capabilities import Capability


def _named_organiser(user, prefix: str) -> Q:
    return Q(**{f"{prefix}organiser_id": user.pk})


RECORD_RULE = ScopeRule(
    lookup="unit",
    capability=Capability.RECORDS_APPROVE,
    tree=TEAM_TREE,
    tree_lookup="team",
    person=_named_organiser,
)


class ServiceRecordQuerySet(ScopedQuerySet):
    scope_rule = RECORD_RULE

    def of_volunteer(self, volunteer):
        return self.filter(volunteer=volunteer)

    def pending(self):
        from .models import RecordStatus

        return self.filter(status=RecordStatus.PENDING)

    def counting(self):
        """Pending or approved, and not superseded by a correction: what overlaps and the day cap see."""
        from .models import COUNTING_STATUSES

        return self.filter(status__in=COUNTING_STATUSES, superseded_by__isnull=True)

    def approved_current(self):
        """Approved and not superseded: what the totals, the certificates and the exports hold."""
        from .models import RecordStatus

        return self.filter(status=RecordStatus.APPROVED, superseded_by__isnull=True)

    def overlapping(self, started_at, ended_at):
        return self.filter(started_at__lt=ended_at, ended_at__gt=started_at)


class _ThroughRecord(ScopedQuerySet):
    """Rows that belong to a record (corrections, flags): scoped as their record is."""

    scope_rule = RECORD_RULE.through("record")


class RecordEventQuerySet(_ThroughRecord):
    """The audit trail of a record is seen where the record is."""


class CorrectionQuerySet(_ThroughRecord):
    def pending(self):
        from .models import CorrectionStatus

        return self.filter(status=CorrectionStatus.PENDING)


class RecordFlagQuerySet(_ThroughRecord):
    # Reviewers clear flags from one level above the record's unit (services.may_review): strictly below
    # their own units, and the center's own records by those who hold the center.
    scope_rule = ScopeRule(lookup="record__unit", capability=Capability.RECORDS_REVIEW, below=True)

    def visible_to(self, user):
        # Seen wherever the record is (its organiser too); cleared only by reviewers.
        return self.filter(RECORD_RULE.through("record").visible_q(scope_for(user), user))

    def changeable_by(self, user):
        scope = scope_for(user)
        at_center = Q(record__unit__depth=0) & scope.q("record__unit", capability=Capability.RECORDS_REVIEW)
        return self.filter(self.scope_rule.changeable_q(scope, user) | at_center)

    def open(self):
        return self.filter(is_open=True)


class TrainingQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(lookup="unit", capability=Capability.TRAININGS_CHANGE)


class EvaluationQuerySet(ScopedQuerySet):
    # The team evaluates: its unit's admins and its leaders (the team tree).
    scope_rule = ScopeRule(
        lookup="team__unit", capability=Capability.EVALUATIONS_CHANGE, tree=TEAM_TREE, tree_lookup="team"
    )


class IssuerProfileQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(lookup="unit", capability=Capability.CERTIFICATES_MANAGE)


class CertificateQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(lookup="issuer", capability=Capability.CERTIFICATES_MANAGE)

    def issued(self):
        from .models import CertificateStatus

        return self.filter(status__in=[CertificateStatus.READY, CertificateStatus.REVOKED])


class ExportQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(lookup="unit", capability=Capability.RECORDS_EXPORT)
