"""The demo's volunteers and teams (seed_demo) and the benchmark-scale data (seed_scale)."""

import datetime
import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from stations.models import Platform, Role, Unit, UnitKind
from stations.scoping import scope_for
from stations.tests.factories import make_user
from volunteers import crypto, scale
from volunteers.identity import age_on, parse_resident_id
from volunteers.models import (
    MembershipRole,
    MembershipStatus,
    Team,
    TeamKind,
    TeamMembership,
    Transfer,
    TransferKind,
    TransferStatus,
    Volunteer,
    VolunteerNumberSequence,
)

pytestmark = pytest.mark.django_db

PASSWORD = "Demo@2026!"


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


def demo_volunteers():
    return Volunteer.objects.filter(home_unit__path__startswith=Unit.objects.get(code="SC").path)


def snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            Team,
            Volunteer,
            Volunteer.domains.through,
            TeamMembership,
            Transfer,
            VolunteerNumberSequence,
            get_user_model(),
        )
    }


def test_seed_demo_adds_the_team_tree_of_the_county_with_a_domain_and_a_leader_each():
    out = seed_demo()

    center = Unit.objects.get(code="SC")
    teams = Team.objects.filter(unit__path__startswith=center.path).select_related("unit", "domain", "parent")
    corps = teams.get(kind=TeamKind.CORPS)
    assert corps.unit == center and corps.name == "顺昌县新时代文明实践志愿服务总队"
    platforms = set(Platform.objects.filter(center=center))
    types = set()
    for team in teams:
        assert team.domain in platforms, team.name
        parent = team.parent
        assert team.path == (parent.path if parent else "") + Team.path_segment(team.pk)
        assert team.depth == (parent.depth + 1 if parent else 0)
        assert team.name.endswith(("总队", "大队", "分队")), team.name
        types.add(team.team_type)
        assert (
            team.memberships.filter(role=MembershipRole.LEADER, status=MembershipStatus.ACTIVE).count() == 1
        )
    assert {"theory", "culture", "medical", "legal", "emergency", "elders", "folk_speakers"} <= types
    township_brigades = teams.filter(kind=TeamKind.BRIGADE, unit__kind=UnitKind.INSTITUTE)
    assert township_brigades.count() == 12 and {t.parent for t in township_brigades} == {corps}
    squads = teams.filter(kind=TeamKind.SQUAD, unit__kind=UnitKind.STATION)
    assert squads.count() >= 24
    assert all(squad.unit.parent_id == squad.parent.unit_id for squad in squads)
    assert teams.count() == 64
    assert "teams: 64 (64 new)" in out


def test_seed_demo_adds_a_few_hundred_volunteers_with_fake_numbers_over_the_tree():
    seed_demo()

    volunteers = list(demo_volunteers().select_related("home_unit", "user"))
    assert 300 <= len(volunteers) <= 500
    assert len({v.home_unit.kind for v in volunteers}) == 4  # center, institutes, stations, points
    assert len({v.home_unit.path[:18] for v in volunteers}) == 13  # the center and all twelve townships
    assert any("·" in v.name for v in volunteers)
    numbers = set()
    for volunteer in volunteers:
        number = crypto.decrypt(volunteer.id_number_encrypted)
        resident = parse_resident_id(number)  # a valid check digit
        assert number.startswith("350721") and number not in numbers
        numbers.add(number)
        assert volunteer.id_number_hash == crypto.id_hash(volunteer.id_type, number)
        assert volunteer.id_number_masked == f"{number[:4]}{'*' * 10}{number[-4:]}"
        assert (volunteer.birth_date, volunteer.gender) == (resident.birth_date, resident.gender)
        assert re.fullmatch(r"1990000\d{4}", volunteer.phone)
        assert volunteer.user.username == volunteer.phone and volunteer.number.startswith("ZY")
    minors = [v for v in volunteers if age_on(v.birth_date, datetime.date(2026, 12, 1)) < 18]
    assert 2 <= len(minors) <= 20
    for minor in minors:
        assert age_on(minor.birth_date, datetime.date(2026, 12, 1)) >= 14
        assert minor.guardian_name and re.fullmatch(r"1990000\d{4}", minor.guardian_phone)
        assert minor.guardian_consented_at is not None
    assert VolunteerNumberSequence.objects.get().last >= len(volunteers)
    # Most are in a team, some in two; two ask to join the demo leader's squad.
    memberships = TeamMembership.objects.filter(volunteer__in=volunteers)
    assert memberships.filter(status=MembershipStatus.ACTIVE).values("volunteer").distinct().count() > 250
    pending = memberships.filter(status=MembershipStatus.PENDING).select_related("team")
    assert [m.team.name for m in pending] == ["中山社区理论宣讲志愿服务分队"] * 2


def test_the_demo_team_leader_and_volunteer_log_in_and_the_leader_holds_its_team():
    out = seed_demo()

    assert "19900000001" in out and "19900000002" in out and "Demo@2026! or SMS code" in out
    leader = authenticate(username="19900000001", password=PASSWORD)
    member = authenticate(username="19900000002", password=PASSWORD)
    assert leader is not None and member is not None and not leader.is_staff
    team = Team.objects.get(name="中山社区理论宣讲志愿服务分队")
    assert team.unit.code == "SC-01-001"
    assert TeamMembership.objects.get(volunteer__user=leader).role == MembershipRole.LEADER
    assert list(Team.objects.visible_to(leader)) == [team]
    assert not scope_for(leader).holds_units
    visible = Volunteer.objects.visible_to(leader)
    assert member.volunteer in visible and visible.count() == team.memberships.count()
    # The other demo volunteers log in by SMS code only.
    other = demo_volunteers().exclude(user__in=[leader, member]).select_related("user").first()
    assert not other.user.has_usable_password()


def test_seed_demo_adds_a_pending_and_a_decided_transfer():
    seed_demo()

    pending = Transfer.objects.select_related("to_team", "volunteer").get(status=TransferStatus.PENDING)
    assert pending.kind == TransferKind.TEAM and pending.to_team.name == "中山社区理论宣讲志愿服务分队"
    assert pending.requested_by == pending.volunteer.user
    decided = Transfer.objects.select_related("to_unit", "volunteer", "decided_by").get(
        status=TransferStatus.APPROVED
    )
    assert decided.kind == TransferKind.UNIT and decided.from_unit.code.startswith("SC-02-")
    assert decided.to_unit.code == "SC-01-002" and decided.decided_by.username == "shuangxi"
    assert decided.volunteer.home_unit == decided.to_unit


def test_a_second_seed_demo_changes_no_volunteer_team_membership_or_transfer():
    seed_demo()
    before = snapshot()

    out = seed_demo()

    assert snapshot() == before
    assert "nothing changed" in out and "volunteers: " in out and "(0 new" in out


# --- seed_scale ----------------------------------------------------------------------------------


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("seed_scale loads rows with PostgreSQL's COPY")


def seed_scale(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_scale", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def scale_rows() -> dict:
    return {
        "units": Unit.objects.filter(code__startswith="SCALET-").count(),
        "teams": Team.objects.filter(unit__code__startswith="SCALET-").count(),
        "volunteers": Volunteer.objects.filter(phone__startswith="197").count(),
        "memberships": TeamMembership.objects.filter(volunteer__phone__startswith="197").count(),
        "domains": Volunteer.domains.through.objects.filter(volunteer__phone__startswith="197").count(),
    }


def test_seed_scale_builds_consistent_rows_and_a_second_run_adds_nothing(postgres):
    preset = scale.PRESETS["tiny"]
    out, err = seed_scale("--preset", "tiny", force=True)

    assert "tiny preset ready" in out and "volunteers" in err and "rows/s" in err and "ETA" in err
    counties = preset.counties
    units_each = 1 + preset.institutes + preset.stations + preset.points
    assert scale_rows() == {
        "units": units_each * counties,
        "teams": preset.teams * counties,
        "volunteers": preset.volunteers * counties,
        "memberships": sum(1 for i in range(preset.volunteers) if i % 20 != 19 or i < preset.teams)
        * counties,
        "domains": preset.volunteers * counties,
    }
    units = {unit.pk: unit for unit in Unit.objects.filter(code__startswith="SCALET-")}
    for unit in units.values():
        parent = units.get(unit.parent_id)
        assert unit.path == (parent.path if parent else "") + Unit.path_segment(unit.pk)
        assert unit.depth == (parent.depth + 1 if parent else 0)
    assert Platform.objects.filter(center__code__startswith="SCALET-").count() == 6 * counties
    teams = {team.pk: team for team in Team.objects.filter(unit__code__startswith="SCALET-")}
    for team in teams.values():
        parent = teams.get(team.parent_id)
        assert team.path == (parent.path if parent else "") + Team.path_segment(team.pk)
        assert team.domain.center_id == int(units[team.unit_id].path[:8])
        assert team.memberships.filter(role=MembershipRole.LEADER).count() == 1
    volunteers = Volunteer.objects.filter(phone__startswith="197").select_related("home_unit")
    assert volunteers.filter(user__isnull=False).count() == 0  # scale volunteers have no account
    for volunteer in volunteers:
        number = crypto.decrypt(volunteer.id_number_encrypted)
        assert volunteer.id_number_hash == crypto.id_hash(volunteer.id_type, number)
        assert volunteer.id_number_masked == f"{number[:4]}{'*' * 10}{number[-4:]}"
        assert parse_resident_id(number).birth_date == volunteer.birth_date
        membership = volunteer.memberships.select_related("team").first()
        if membership is not None:  # the member lives at the team's unit or right below it
            assert volunteer.home_unit_id == membership.team.unit_id or (
                volunteer.home_unit.parent_id == membership.team.unit_id
            )
    used = max(int(number[2:]) for number in volunteers.values_list("number", flat=True))
    assert VolunteerNumberSequence.objects.get().last >= used

    before = scale_rows()
    out, _err = seed_scale("--preset", "tiny", force=True)
    assert scale_rows() == before and "nothing added" in out


def test_the_scale_data_answers_scope_queries(postgres):
    scale.build("tiny", progress=False, force=True)

    institute = Unit.objects.get(code="SCALET-01-01")
    admin = make_user("scale_inst", role=Role.INSTITUTE_ADMIN, unit=institute)
    expected = Volunteer.objects.filter(home_unit__path__startswith=institute.path).count()
    assert 0 < expected < Volunteer.objects.count()
    assert Volunteer.objects.visible_to(admin).count() == expected
    assert (
        Team.objects.visible_to(admin).count()
        == Team.objects.filter(unit__path__startswith=institute.path).count()
    )
    # A team leader of the scale data sees the members of its team.
    leader_membership = TeamMembership.objects.filter(
        role=MembershipRole.LEADER, team__kind=TeamKind.SQUAD
    ).first()
    user = make_user("scale_leader")
    Volunteer.objects.filter(pk=leader_membership.volunteer_id).update(user=user)
    visible = Volunteer.objects.visible_to(user)
    assert set(visible.values_list("pk", flat=True)) == set(
        leader_membership.team.memberships.values_list("volunteer_id", flat=True)
    )


def test_seed_scale_resumes_a_run_cut_short_and_uses_worker_processes(postgres, monkeypatch):
    # This app's phases only: the rows of later apps' phases (service records) would keep the volunteers cut.
    own = [phase for phase in scale.PHASES if phase.name in ("units", "teams", "volunteers")]
    monkeypatch.setattr(scale, "PHASES", own)
    scale.build("tiny", progress=False, force=True, processes=2)
    complete = scale_rows()
    hashes = set(Volunteer.objects.filter(phone__startswith="197").values_list("id_number_hash", flat=True))
    # The last batches of the second county never went in.
    cut = Volunteer.objects.filter(phone__startswith="19702").order_by("-pk")[:70]
    cut = list(cut.values_list("pk", flat=True))
    Volunteer.domains.through.objects.filter(volunteer_id__in=cut).delete()
    TeamMembership.objects.filter(volunteer_id__in=cut).delete()
    Volunteer.objects.filter(pk__in=cut).delete()
    assert not scale.is_complete("tiny")

    result = scale.build("tiny", progress=False, force=True, processes=2)

    assert result.added == {"units": 0, "teams": 0, "volunteers": 70}
    assert scale_rows() == complete and scale.is_complete("tiny")
    assert (
        set(Volunteer.objects.filter(phone__startswith="197").values_list("id_number_hash", flat=True))
        == hashes
    )


def test_seed_scale_refuses_another_county_debug_off_and_sqlite(postgres, tree, settings, monkeypatch):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="already holds other counties"):
        seed_scale("--preset", "tiny")
    assert not Unit.objects.filter(code__startswith="SCALET-").exists()

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed_scale("--preset", "tiny")

    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed_scale("--preset", "tiny", force=True)
    assert not Unit.objects.filter(code__startswith="SCALET-").exists()
