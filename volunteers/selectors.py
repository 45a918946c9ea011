"""Reads on teams, memberships and transfers for a use case, already scoped to the user who asks.

Each returns a queryset whose rows carry what a list shows (select_related), so a list costs the same
number of queries at 1 row and at 50.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import MembershipRole, MembershipStatus, Team, TeamMembership, Transfer, Volunteer


def teams_led_by(user) -> QuerySet[Team]:
    """The active teams `user` leads (the roots of a leader's scope), in tree order."""
    if user is None or not user.is_authenticated:
        return Team.objects.none()
    return (
        Team.objects.active()
        .filter(
            memberships__volunteer__user=user,
            memberships__role=MembershipRole.LEADER,
            memberships__status=MembershipStatus.ACTIVE,
        )
        .select_related("unit", "domain")
        .order_by("path")
    )


def team_tree(actor, root: Team | None = None) -> QuerySet[Team]:
    """The teams `actor` sees (under `root` if given, `root` included), in path order: each team right
    after its parent, `depth` for the indent, with its count of admitted members."""
    teams = Team.objects.visible_to(actor)
    if root is not None:
        teams = teams.subtree_of(root)
    return (
        teams.select_related("unit", "parent", "domain")
        .annotate(member_count=Count("memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE)))
        .order_by("path")
    )


def team_members(actor, team: Team) -> QuerySet[TeamMembership]:
    """The admitted members of `team` that `actor` sees, leaders first."""
    return (
        TeamMembership.objects.visible_to(actor)
        .filter(team=team, status=MembershipStatus.ACTIVE)
        .select_related("volunteer", "volunteer__home_unit", "team")
        .order_by("-role", "volunteer__name", "pk")
    )


def pending_joins(actor, team: Team) -> QuerySet[TeamMembership]:
    """Requests to join `team` that `actor` may decide, oldest first."""
    return (
        TeamMembership.objects.changeable_by(actor)
        .pending()
        .filter(team=team)
        .select_related("volunteer", "volunteer__home_unit", "team")
        .order_by("created_at", "pk")
    )


def _with_sides(transfers: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return transfers.select_related("volunteer", "from_unit", "to_unit", "from_team", "to_team")


def transfers_for_volunteer(volunteer: Volunteer) -> QuerySet[Transfer]:
    """A volunteer's own transfers, newest first: the history of their moves (their own page)."""
    return _with_sides(Transfer.objects.filter(volunteer=volunteer)).order_by("-created_at", "-pk")


def transfers_to_decide(actor) -> QuerySet[Transfer]:
    """Transfers waiting for `actor` as the receiving side, oldest first."""
    return _with_sides(Transfer.objects.changeable_by(actor).pending()).order_by("created_at", "pk")
