"""Chainable filters of the residents app, and the scope rule of a request, declared once.

A request belongs to the unit it asks: that unit's staff and those above dispatch it. The team it is
dispatched to (its leaders, through the team tree) sees it too, and serves it.
"""

from __future__ import annotations

from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When
from django.utils import timezone

from stations.scoping import Scope, ScopedQuerySet, ScopeRule
from volunteers.capabilities import TEAM_TREE

from .capabilities import Capability


class _RequestRule(ScopeRule):
    """A request names a resident: it is seen by those who dispatch on its unit (not by a viewer's
    dashboard, which holds no personal data) and by the team it was dispatched to."""

    def visible_q(self, scope: Scope, user=None) -> Q:
        return self._with_tree(scope.q(self.lookup, capability=self.capability), scope, None)


REQUEST_RULE = _RequestRule(
    lookup="unit", capability=Capability.REQUESTS_DISPATCH, tree=TEAM_TREE, tree_lookup="team"
)


class ServiceRequestQuerySet(ScopedQuerySet):
    scope_rule = REQUEST_RULE

    def open(self):
        from .models import RequestStatus

        return self.exclude(
            status__in=[RequestStatus.COMPLETED, RequestStatus.RATED, RequestStatus.CANCELLED]
        )

    def with_due(self):
        """Each row's `step_due_at`: when the step it waits in is due (null when it waits for nobody)."""
        from .models import WAITING_FINISH, step_limits

        whens = []
        for status, limit in step_limits().items():
            start = F("accepted_at") if status in WAITING_FINISH else F("status_changed_at")
            whens.append(
                When(
                    status=status, then=ExpressionWrapper(start + Value(limit), output_field=DateTimeField())
                )
            )
        return self.annotate(step_due_at=Case(*whens, default=None, output_field=DateTimeField()))

    def overdue(self, now=None):
        return self.with_due().filter(step_due_at__lt=now or timezone.now())

    def not_overdue(self, now=None):
        return self.with_due().filter(Q(step_due_at__isnull=True) | Q(step_due_at__gte=now or timezone.now()))


class RequestEventQuerySet(ScopedQuerySet):
    scope_rule = REQUEST_RULE.through("request")
