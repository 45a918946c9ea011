"""`manage.py seed_demo`: the demo county is built through the services; a second run changes nothing."""

import io
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from stations.demo_data import county_plan
from stations.models import (
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionFollowUp,
    InspectionResult,
    Platform,
    RecognitionLevel,
    Role,
    RoleAssignment,
    Unit,
    UnitKind,
)
from stations.scoping import Capability, scope_for
from stations.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PASSWORD = "Demo@2026!"
TOWNSHIPS = [
    "双溪街道",
    "建西镇",
    "洋口镇",
    "元坑镇",
    "埔上镇",
    "大历镇",
    "大干镇",
    "仁寿镇",
    "郑坊镇",
    "洋墩乡",
    "岚下乡",
    "高阳乡",
]
LON_RANGE = (Decimal("117.55"), Decimal("118.10"))
LAT_RANGE = (Decimal("26.55"), Decimal("27.05"))


def seed(*, quiet=True) -> str:
    out = io.StringIO()
    call_command("seed_demo", quiet=quiet, force=True, stdout=out)
    return out.getvalue()


def demo_units():
    return Unit.objects.filter(code="SC") | Unit.objects.filter(code__startswith="SC-")


def snapshot() -> dict:
    """Every row the command writes, every column of it, timestamps included."""
    return {
        model.__name__: list(queryset.order_by("pk").values())
        for model, queryset in [
            (Unit, Unit.objects.all()),
            (Platform, Platform.objects.all()),
            (Checklist, Checklist.objects.all()),
            (ChecklistItem, ChecklistItem.objects.all()),
            (Inspection, Inspection.objects.all()),
            (InspectionResult, InspectionResult.objects.all()),
            (RoleAssignment, RoleAssignment.objects.all()),
            (get_user_model(), get_user_model().objects.all()),
        ]
    }


@pytest.mark.smoke
def test_seed_demo_builds_the_county_with_its_townships_stations_and_points():
    out = seed()

    units = demo_units()
    assert units.filter(kind=UnitKind.CENTER).get().name == "顺昌县新时代文明实践中心"
    institutes = units.filter(kind=UnitKind.INSTITUTE).order_by("code")
    assert [i.name for i in institutes] == [f"{t}新时代文明实践所" for t in TOWNSHIPS]
    assert [i.code for i in institutes] == [f"SC-{n:02d}" for n in range(1, 13)]
    assert units.filter(kind=UnitKind.STATION).count() >= 150
    assert units.filter(kind=UnitKind.POINT).count() >= 300
    assert 450 <= units.count() <= 550
    assert all(i.highlight for i in institutes)
    assert units.filter(kind=UnitKind.STATION).exclude(highlight="").count() >= 30
    assert {
        RecognitionLevel.NATIONAL,
        RecognitionLevel.PROVINCIAL,
        RecognitionLevel.CITY,
        RecognitionLevel.COUNTY,
    } <= set(units.values_list("recognition_level", flat=True))
    assert "Demo logins" in out and "http://127.0.0.1:8000/admin/" in out and PASSWORD in out
    assert "[ 1/12]" not in out  # --quiet: no progress

    platforms = Platform.objects.filter(center__code="SC")
    assert dict(platforms.values_list("code", "responsible_department")) == {
        "theory": "县委宣传部",
        "education": "县教育局",
        "culture": "县文旅局",
        "science": "县科协",
        "sports": "县体育中心",
        "law": "县司法局",
    }
    checklist = Checklist.objects.get(center__code="SC")
    assert checklist.unit_kind == UnitKind.STATION
    texts = list(checklist.items.values_list("text", flat=True))
    assert len(texts) == 8 and texts[0] == "有统一标识" and "每月至少开展一次学习活动" in texts


def test_every_unit_has_its_place_in_the_tree_a_code_contacts_and_coordinates_in_the_county():
    seed()

    units = {unit.pk: unit for unit in demo_units()}
    stations_by_institute = defaultdict(list)
    for unit in units.values():
        assert unit.address and unit.contact_person
        assert re.fullmatch(r"0599-7\d{6}", unit.contact_phone), unit.contact_phone
        assert LON_RANGE[0] <= unit.longitude <= LON_RANGE[1], (unit.code, unit.longitude)
        assert LAT_RANGE[0] <= unit.latitude <= LAT_RANGE[1], (unit.code, unit.latitude)
        if unit.kind == UnitKind.CENTER:
            assert unit.parent_id is None and unit.depth == 0 and unit.path == Unit.path_segment(unit.pk)
            continue
        parent = units[unit.parent_id]
        assert unit.path == parent.path + Unit.path_segment(unit.pk)
        assert unit.depth == parent.depth + 1
        assert unit.code.startswith(parent.code + "-")
        if unit.kind == UnitKind.STATION:
            assert re.fullmatch(r"SC-\d{2}-\d{3}", unit.code)
            assert re.fullmatch(r"\w{2,4}(村|社区)新时代文明实践站", unit.name), unit.name
            stations_by_institute[parent.code].append(unit.name)
            # Stations lie near their institute, points near their station.
            assert abs(unit.longitude - parent.longitude) < Decimal("0.05")
        if unit.kind == UnitKind.POINT:
            assert unit.category and unit.name.endswith("新时代文明实践点")
            assert abs(unit.latitude - parent.latitude) < Decimal("0.02")
    assert len(stations_by_institute) == 12
    for names in stations_by_institute.values():
        assert len(names) == len(set(names))
    categories = Counter(u.category for u in units.values() if u.kind == UnitKind.POINT)
    assert {"school", "park", "leifeng_post", "enterprise", "hospital", "library"} <= set(categories)


def test_the_demo_accounts_sign_in_with_the_printed_password_and_hold_their_roles():
    seed()

    units = {code: Unit.objects.get(code=code) for code in ["SC", "SC-01", "SC-02", "SC-01-001", "SC-02-001"]}
    expected = {
        "county": (Role.COUNTY_ADMIN, "SC"),
        "shuangxi": (Role.INSTITUTE_ADMIN, "SC-01"),
        "jianxi": (Role.INSTITUTE_ADMIN, "SC-02"),
        "station": (Role.STATION_ADMIN, "SC-01-001"),
    }
    admin = authenticate(username="admin", password=PASSWORD)
    assert admin is not None and admin.is_superuser and admin.is_staff and admin.first_name == "林志远"
    for username, (role, code) in expected.items():
        user = authenticate(username=username, password=PASSWORD)
        assert user is not None and user.is_staff and not user.is_superuser
        assert len(user.first_name) == 3 and not user.last_name  # the whole real name, in one field
        assert list(user.roles.values_list("role", "unit__code")) == [(role, code)]
    shuangxi = get_user_model().objects.get(username="shuangxi")
    assert scope_for(shuangxi).contains(units["SC-01-001"]) and not scope_for(shuangxi).contains(
        units["SC-02"]
    )
    assert units["SC-01"].name == "双溪街道新时代文明实践所"
    station = get_user_model().objects.get(username="station")
    assert scope_for(station).roots == (units["SC-01-001"].path,)
    # The dashboard login reads the whole county through the API, with contact phones masked.
    dashboard = authenticate(username="dashboard", password=PASSWORD)
    assert dashboard is not None and not dashboard.is_staff
    assert list(dashboard.roles.values_list("role", "unit__code")) == [(Role.VIEWER, "SC")]
    assert scope_for(dashboard).roots == (units["SC"].path,)
    assert not scope_for(dashboard).roots_for(Capability.UNITS_VIEW_CONTACTS)


def test_the_tables_are_analyzed_after_seeding():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are read from PostgreSQL's catalogue")
    seed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'stations_unit'")
        (estimate,) = cursor.fetchone()
    # Never analysed, PostgreSQL says -1; ANALYZE makes it the row count it saw.
    assert estimate == Unit.objects.count()


def test_inspections_are_recorded_by_the_county_admin_and_their_scores_vary():
    seed()

    inspections = Inspection.objects.filter(checklist__center__code="SC").select_related(
        "unit", "inspector", "inspector_unit"
    )
    assert 25 <= inspections.count() <= 40
    # The county inspects; one township inspects one of its own stations, on its own behalf.
    by = {(i.inspector.username, i.inspector_unit.code) for i in inspections}
    assert by == {("county", "SC"), ("shuangxi", "SC-01")}
    assert sum(i.inspector.username == "shuangxi" for i in inspections) == 1
    # The demo station answered the county's inspection with a follow-up, leaving it as recorded.
    follow_up = InspectionFollowUp.objects.select_related("author", "inspection__inspector").get()
    assert (follow_up.author.username, follow_up.inspection.inspector.username) == ("station", "county")
    assert {i.unit.kind for i in inspections} == {UnitKind.STATION}
    assert {i.items_total for i in inspections} == {8}
    scores = {i.score for i in inspections}
    assert len(scores) >= 4 and Decimal(100) in scores and min(scores) < 80
    for inspection in inspections:
        assert inspection.results.filter(met=True).count() == inspection.items_met


@pytest.mark.smoke
def test_a_second_run_creates_nothing_and_changes_nothing():
    first = seed(quiet=False)
    assert first.count("stations,") == 12  # a progress line per institute
    before = snapshot()

    second = seed(quiet=False)

    assert snapshot() == before
    assert "nothing changed" in second


def test_it_builds_beside_other_data_and_leaves_that_data_alone(tree, people):
    others = list(Unit.objects.order_by("pk").values())
    count_before = people.county.roles.count()

    out = seed()

    assert list(Unit.objects.filter(pk__in=[u["id"] for u in others]).order_by("pk").values()) == others
    assert demo_units().filter(kind=UnitKind.CENTER).count() == 1
    # An existing "county" keeps its password and gains the role on the demo center; the table says so.
    county = get_user_model().objects.get(username="county")
    assert county.check_password(TEST_PASSWORD)
    assert county.roles.count() == count_before + 1
    assert county.roles.filter(role=Role.COUNTY_ADMIN, unit__code="SC").exists()
    assert "(changed, kept as is)" in out
    before = snapshot()
    seed()
    assert snapshot() == before


def test_the_plan_is_the_same_every_time():
    plan = county_plan()
    assert plan == county_plan()
    codes = [spec.code for spec in plan.units]
    assert len(codes) == len(set(codes))
    assert len({(i.unit_code, i.inspected_on) for i in plan.inspections}) == len(plan.inspections)


def test_refuses_to_run_with_debug_off_unless_forced(db, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", quiet=True, stdout=io.StringIO())
    assert not Unit.objects.exists()


def test_a_demo_account_of_an_earlier_run_gets_its_whole_real_name(django_user_model):
    seed()
    django_user_model.objects.filter(username="county").update(first_name="丽华", last_name="黄")
    out = seed(quiet=False)
    county = django_user_model.objects.get(username="county")
    assert (county.first_name, county.last_name) == ("黄丽华", "")
    assert "1 renamed" in out
    before = snapshot()
    seed()
    assert snapshot() == before
