"""Chainable filters of the volunteers app, and each model's scope rule, declared once.

Staff see volunteers, teams and their rows where their units are; a team leader sees its team and its
sub-teams (the team tree of the scoping rule) with their memberships and members.
"""

from django.db.models import Q

from stations.scoping import Scope, ScopedQuerySet, ScopeRule

from .capabilities import TEAM_TREE, Capability


class _MembersRule(ScopeRule):
    """Volunteers reach their teams through memberships, a many-valued relation: the team part is a
    subquery, so a volunteer in two led teams is still one row."""

    def tree_part(self, scope: Scope, capability):
        if not scope.tree_grants:
            return Q(pk__in=[])
        from .models import MembershipStatus, TeamMembership

        members = TeamMembership.objects.filter(
            scope.tree_q(TEAM_TREE, "team", capability=capability),
            status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING],
        ).values("volunteer_id")
        return Q(pk__in=members)


class VolunteerQuerySet(ScopedQuerySet):
    # A volunteer belongs to its home unit's admins; a team leader sees its members (and those asking
    # to join) but changes nothing of theirs: team leaders get no capability here.
    scope_rule = _MembersRule(
        lookup="home_unit", capability=Capability.VOLUNTEERS_CHANGE, tree=TEAM_TREE, tree_lookup=None
    )

    def active(self):
        from .models import VolunteerStatus

        return self.filter(status=VolunteerStatus.ACTIVE)

    def of_user(self, user):
        return self.filter(user=user) if user is not None and user.is_authenticated else self.none()


class TeamQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(lookup="unit", capability=Capability.TEAMS_CHANGE, tree=TEAM_TREE, tree_lookup="")

    def active(self):
        return self.filter(is_active=True)

    def subtree_of(self, team, *, include_self: bool = True):
        qs = self.filter(path__startswith=team.path)
        return qs if include_self else qs.exclude(pk=team.pk)


class TeamMembershipQuerySet(ScopedQuerySet):
    # Members are admitted by the team's leaders (its team and sub-teams) or its unit's admins.
    scope_rule = ScopeRule(
        lookup="team__unit", capability=Capability.TEAMS_MEMBERS, tree=TEAM_TREE, tree_lookup="team"
    )

    def open(self):
        from .models import MembershipStatus

        return self.filter(status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING])

    def pending(self):
        from .models import MembershipStatus

        return self.filter(status=MembershipStatus.PENDING)


class _TransferRule(ScopeRule):
    """Both sides see a transfer; only the receiving side decides it (the unit rule below, on `to_unit`,
    or the team tree on `to_team`)."""

    def visible_q(self, scope: Scope, user=None) -> Q:
        q = scope.q("from_unit") | scope.q("to_unit")
        if scope.tree_grants:
            q |= scope.tree_q(TEAM_TREE, "from_team") | scope.tree_q(TEAM_TREE, "to_team")
        return q


class TransferQuerySet(ScopedQuerySet):
    scope_rule = _TransferRule(
        lookup="to_unit", capability=Capability.TRANSFERS_DECIDE, tree=TEAM_TREE, tree_lookup="to_team"
    )

    def pending(self):
        from .models import TransferStatus

        return self.filter(status=TransferStatus.PENDING)


class ImportJobQuerySet(ScopedQuerySet):
    """An import is seen by whoever uploaded it (and a system administrator)."""

    scope_rule = ScopeRule(lookup="", capability=Capability.VOLUNTEERS_CHANGE)

    def visible_to(self, user):
        if user is None or not user.is_authenticated:
            return self.none()
        return self if user.is_superuser else self.filter(created_by=user)

    def changeable_by(self, user):
        return self.visible_to(user)
