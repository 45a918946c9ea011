"""REST API v1 for volunteers, teams, memberships and transfers: scoped, masked, filtered, constant in
queries, and answering what the schema says."""

import datetime
import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from stations.models import UnitKind
from stations.scoping import forget_scope
from stations.tests.factories import make_platform, make_unit
from stations.tests.test_schema import _check, openapi  # noqa: F401 - openapi is a fixture
from volunteers.models import (
    MembershipRole,
    MembershipStatus,
    TeamKind,
    TeamMembership,
    Transfer,
    TransferKind,
    TransferStatus,
    Volunteer,
    VolunteerStatus,
)
from volunteers.tests.factories import make_member, make_team, make_volunteer, next_id_number, next_phone

pytestmark = pytest.mark.django_db

VOLUNTEERS = "/api/v1/volunteers/"
TEAMS = "/api/v1/teams/"
MEMBERSHIPS = "/api/v1/memberships/"
TRANSFERS = "/api/v1/transfers/"
LISTS = (VOLUNTEERS, TEAMS, MEMBERSHIPS, TRANSFERS)


def _name(prefix, i):
    """Names hold no digits: 志愿者十二 style, 一二 for 12."""
    return prefix + "".join("零一二三四五六七八九"[int(digit)] for digit in str(i))


def _volunteer(unit, name, **details):
    """A volunteer, with the full ID number and phone it was registered with kept on the side."""
    id_number, phone = next_id_number(), next_phone()
    volunteer = make_volunteer(unit, name, id_number=id_number, phone=phone, **details)
    volunteer.full_id_number, volunteer.full_phone = id_number, phone
    return volunteer


@pytest.fixture
def world(tree, people, reference):
    """Teams and volunteers in both townships.

    甲镇总队 (A) ─ 甲镇文艺大队 (A, led by `leader`) ─ 甲一村分队 (A1, member `a2`);
    乙镇总队 (B, member `b1`).
    Transfers: `a1` from A1 to B1 (a home unit), `b1` from 乙镇总队 to 甲一村分队, `b1_other` inside B.
    """
    corps_a = make_team(tree.a, "甲镇志愿服务总队", domain=reference.platform)
    brigade_a = make_team(tree.a, "甲镇文艺大队", kind=TeamKind.BRIGADE, parent=corps_a)
    squad_a1 = make_team(tree.a1, "甲一村文艺分队", kind=TeamKind.SQUAD, parent=brigade_a)
    corps_b = make_team(tree.b, "乙镇志愿服务总队")
    a1 = _volunteer(tree.a1, "张三", domains=[reference.platform])
    a2 = _volunteer(tree.a2, "李四")
    b1 = _volunteer(tree.b1, "王五")
    b1_other = _volunteer(tree.b1, "赵六")
    leader = _volunteer(tree.a1a, "欧阳·队长", password="Leader-pass-2026")
    memberships = SimpleNamespace(
        leader=make_member(brigade_a, leader, MembershipRole.LEADER),
        a2=make_member(squad_a1, a2),
        a1=make_member(corps_a, a1),
        b1=make_member(corps_b, b1),
    )
    transfers = SimpleNamespace(
        a1=Transfer.objects.create(
            volunteer=a1,
            kind=TransferKind.UNIT,
            from_unit=tree.a1,
            to_unit=tree.b1,
            reason="搬家",
            requested_by=people.inst_a,
        ),
        b1=Transfer.objects.create(
            volunteer=b1,
            kind=TransferKind.TEAM,
            from_unit=tree.b1,
            to_unit=tree.a1,
            from_team=corps_b,
            to_team=squad_a1,
            requested_by=people.inst_b,
        ),
        b1_other=Transfer.objects.create(
            volunteer=b1_other,
            kind=TransferKind.UNIT,
            from_unit=tree.b1,
            to_unit=tree.b,
            status=TransferStatus.APPROVED,
            requested_by=people.inst_b,
        ),
    )
    people.leader = leader.user
    people.plain = b1_other.user  # a volunteer with an account and no role at all
    return SimpleNamespace(
        corps_a=corps_a,
        brigade_a=brigade_a,
        squad_a1=squad_a1,
        corps_b=corps_b,
        a1=a1,
        a2=a2,
        b1=b1,
        b1_other=b1_other,
        leader=leader,
        volunteers=[a1, a2, b1, b1_other, leader],
        memberships=memberships,
        transfers=transfers,
    )


def _rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _ids(response):
    return {row["id"] for row in _rows(response)}


def _pks(objects):
    return {obj.pk for obj in objects}


# --- Each role's view ---------------------------------------------------------------------------------

ROLE_VIEWS = {
    # who: (volunteers, teams, memberships, transfers), by the names in `world`
    "county": (
        ["a1", "a2", "b1", "b1_other", "leader"],
        ["corps_a", "brigade_a", "squad_a1", "corps_b"],
        ["leader", "a2", "a1", "b1"],
        ["a1", "b1", "b1_other"],
    ),
    "viewer": (
        ["a1", "a2", "b1", "b1_other", "leader"],
        ["corps_a", "brigade_a", "squad_a1", "corps_b"],
        ["leader", "a2", "a1", "b1"],
        ["a1", "b1", "b1_other"],
    ),
    "inst_a": (
        ["a1", "a2", "leader"],
        ["corps_a", "brigade_a", "squad_a1"],
        ["leader", "a2", "a1"],
        ["a1", "b1"],
    ),
    "inst_b": (["b1", "b1_other"], ["corps_b"], ["b1"], ["a1", "b1", "b1_other"]),
    "station_a1": (["a1", "leader"], ["squad_a1"], ["a2"], ["a1", "b1"]),
    # A team leader: its team and sub-team, their members, the transfer into its sub-team.
    "leader": (["a2", "leader"], ["brigade_a", "squad_a1"], ["leader", "a2"], ["b1"]),
    "plain": ([], [], [], []),
    "nobody": ([], [], [], []),
}


@pytest.mark.parametrize("who", list(ROLE_VIEWS))
def test_each_role_sees_its_own_rows(api_client, people, world, who):
    volunteers, teams, memberships, transfers = ROLE_VIEWS[who]
    api_client.force_authenticate(getattr(people, who))
    assert _ids(api_client.get(VOLUNTEERS)) == _pks(getattr(world, name) for name in volunteers)
    assert _ids(api_client.get(TEAMS)) == _pks(getattr(world, name) for name in teams)
    assert _ids(api_client.get(MEMBERSHIPS)) == _pks(getattr(world.memberships, name) for name in memberships)
    assert _ids(api_client.get(TRANSFERS)) == _pks(getattr(world.transfers, name) for name in transfers)


def test_a_team_leader_holds_no_unit(people, world):
    from stations.scoping import scope_for

    assert not scope_for(people.leader).holds_units


@pytest.mark.parametrize("url", LISTS)
def test_anonymous_gets_401(api_client, world, url):
    assert api_client.get(url).status_code == 401


def test_rows_of_the_other_township_are_404(api_client, tree, people, world):
    api_client.force_authenticate(people.inst_a)
    foreign = {
        VOLUNTEERS: world.b1.pk,
        TEAMS: world.corps_b.pk,
        MEMBERSHIPS: world.memberships.b1.pk,
        TRANSFERS: world.transfers.b1_other.pk,
    }
    for url, pk in foreign.items():
        assert api_client.get(f"{url}{pk}/").status_code == 404, url
    # Narrowed to a subtree of one's own, the list is still only what one sees.
    assert api_client.get(f"{VOLUNTEERS}{world.b1.pk}/", {"subtree_of": tree.a.pk}).status_code == 404
    assert api_client.get(f"{VOLUNTEERS}{world.a1.pk}/", {"subtree_of": tree.a2.pk}).status_code == 404
    own = {
        VOLUNTEERS: world.a1.pk,
        TEAMS: world.corps_a.pk,
        MEMBERSHIPS: world.memberships.a1.pk,
        TRANSFERS: world.transfers.a1.pk,
    }
    for url, pk in own.items():
        assert api_client.get(f"{url}{pk}/").json()["id"] == pk, url


def test_every_volunteers_endpoint_reads_through_the_scope_rule(api_client, people, world):
    from volunteers.models import Team

    models = {VOLUNTEERS: Volunteer, TEAMS: Team, MEMBERSHIPS: TeamMembership, TRANSFERS: Transfer}
    for who in ("inst_a", "inst_b", "station_a1", "leader", "plain"):
        user = getattr(people, who)
        api_client.force_authenticate(user)
        for url, model in models.items():
            visible = set(model.objects.visible_to(user).values_list("pk", flat=True))
            assert _ids(api_client.get(url, {"page_size": 500})) == visible, (who, url)


# --- What a row says ------------------------------------------------------------------------------------


def test_a_volunteer_row(api_client, tree, people, reference, world):
    api_client.force_authenticate(people.inst_a)
    row = api_client.get(f"{VOLUNTEERS}{world.a1.pk}/").json()
    volunteer = world.a1
    assert row == {
        "id": volunteer.pk,
        "number": volunteer.number,
        "name": "张三",
        "id_number_masked": volunteer.id_number_masked,
        "gender": volunteer.gender,
        "gender_display": str(volunteer.get_gender_display()),
        "birth_year": volunteer.birth_date.year,
        "phone_masked": f"{volunteer.full_phone[:3]}****{volunteer.full_phone[-4:]}",
        "political_status": volunteer.political_status,
        "political_status_display": str(volunteer.get_political_status_display()),
        "education": volunteer.education,
        "education_display": volunteer.education,
        "home_unit": tree.a1.pk,
        "home_unit_name": tree.a1.name,
        "domains": [reference.platform.pk],
        "status": "active",
        "status_display": str(volunteer.get_status_display()),
        "registered_on": volunteer.registered_on.isoformat(),
    }
    assert "*" in row["id_number_masked"]


def test_a_team_row_counts_members_and_names_leaders(api_client, people, world):
    make_member(world.brigade_a, world.a1)
    api_client.force_authenticate(people.inst_a)
    rows = {row["id"]: row for row in _rows(api_client.get(TEAMS))}
    brigade = rows[world.brigade_a.pk]
    assert brigade["member_count"] == 2 and brigade["leader_names"] == ["欧阳·队长"]
    assert brigade["parent"] == world.corps_a.pk and brigade["depth"] == 1
    assert rows[world.corps_a.pk]["domain"] is not None and rows[world.corps_a.pk]["leader_names"] == []
    # Tree order: a team comes right after its parent.
    assert list(rows) == [world.corps_a.pk, world.brigade_a.pk, world.squad_a1.pk]


def test_a_membership_and_a_transfer_row(api_client, tree, people, world):
    api_client.force_authenticate(people.station_a1)
    membership = api_client.get(f"{MEMBERSHIPS}{world.memberships.a2.pk}/").json()
    assert membership["team_name"] == "甲一村文艺分队"
    assert (membership["volunteer_number"], membership["volunteer_name"]) == (world.a2.number, "李四")
    assert (membership["role"], membership["status"]) == ("member", "active")
    assert membership["joined_on"] and membership["left_on"] is None
    transfer = api_client.get(f"{TRANSFERS}{world.transfers.b1.pk}/").json()
    assert (transfer["from_unit_name"], transfer["to_unit_name"]) == (tree.b1.name, tree.a1.name)
    assert (transfer["from_team_name"], transfer["to_team_name"]) == ("乙镇志愿服务总队", "甲一村文艺分队")
    assert transfer["requested_at"] and transfer["decided_at"] is None
    assert transfer["kind"] == "team" and transfer["status"] == "pending"


def test_no_answer_holds_a_full_id_number_or_phone(api_client, people, world):
    """Every list and detail for every role, searched as text."""
    secrets = []
    for volunteer in world.volunteers:
        stored = Volunteer.objects.values("id_number_encrypted", "id_number_hash").get(pk=volunteer.pk)
        secrets += [volunteer.full_id_number, volunteer.full_id_number[-12:], volunteer.full_phone]
        secrets += list(stored.values())
    seen = ""
    for who in ROLE_VIEWS:
        api_client.force_authenticate(getattr(people, who))
        answers = []
        for url in LISTS:
            body = api_client.get(url, {"page_size": 500}).json()
            answers.append(body)
            answers += [api_client.get(f"{url}{row['id']}/").json() for row in body["results"]]
        text = json.dumps(answers, ensure_ascii=False)
        assert not [secret for secret in secrets if secret in text], who
        seen += text
    assert "**********" in seen and "****" in seen  # the masks are there


# --- Filters --------------------------------------------------------------------------------------------


def test_volunteer_filters(api_client, tree, people, reference, world):
    Volunteer.objects.filter(pk=world.a2.pk).update(
        status=VolunteerStatus.SUSPENDED, registered_on=datetime.date(2020, 1, 1)
    )
    api_client.force_authenticate(people.county)

    def ids(**params):
        return _ids(api_client.get(VOLUNTEERS, params))

    assert ids(unit=tree.a1.pk) == {world.a1.pk}
    assert ids(subtree_of=tree.a.pk) == _pks([world.a1, world.a2, world.leader])
    assert ids(subtree_of=tree.a1.pk) == _pks([world.a1, world.leader])
    assert ids(team=world.squad_a1.pk) == {world.a2.pk}
    assert ids(domain=reference.platform.pk) == {world.a1.pk}
    assert ids(status="suspended") == {world.a2.pk}
    assert ids(registered_before="2020-12-31") == {world.a2.pk}
    assert ids(registered_after="2021-01-01", subtree_of=tree.a.pk) == _pks([world.a1, world.leader])


def test_team_membership_and_transfer_filters(api_client, tree, people, reference, world):
    api_client.force_authenticate(people.county)
    assert _ids(api_client.get(TEAMS, {"unit": tree.a.pk})) == _pks([world.corps_a, world.brigade_a])
    assert _ids(api_client.get(TEAMS, {"subtree_of": tree.a1.pk})) == {world.squad_a1.pk}
    assert _ids(api_client.get(TEAMS, {"kind": "squad"})) == {world.squad_a1.pk}
    assert _ids(api_client.get(TEAMS, {"domain": reference.platform.pk})) == {world.corps_a.pk}
    m = world.memberships
    assert _ids(api_client.get(MEMBERSHIPS, {"team": world.brigade_a.pk})) == {m.leader.pk}
    assert _ids(api_client.get(MEMBERSHIPS, {"volunteer": world.b1.pk})) == {m.b1.pk}
    assert _ids(api_client.get(MEMBERSHIPS, {"role": "leader"})) == {m.leader.pk}
    TeamMembership.objects.filter(pk=m.a1.pk).update(status=MembershipStatus.LEFT)
    assert _ids(api_client.get(MEMBERSHIPS, {"status": "left"})) == {m.a1.pk}
    t = world.transfers
    assert _ids(api_client.get(TRANSFERS, {"status": "pending"})) == _pks([t.a1, t.b1])
    assert _ids(api_client.get(TRANSFERS, {"kind": "team"})) == {t.b1.pk}


def _foreign_filters(tree, world, foreign_platform):
    return [
        (VOLUNTEERS, "unit", tree.b1.pk),
        (VOLUNTEERS, "subtree_of", tree.b.pk),
        (VOLUNTEERS, "team", world.corps_b.pk),
        (VOLUNTEERS, "domain", foreign_platform.pk),
        (TEAMS, "unit", tree.b.pk),
        (TEAMS, "subtree_of", tree.b.pk),
        (TEAMS, "domain", foreign_platform.pk),
        (MEMBERSHIPS, "team", world.corps_b.pk),
        (MEMBERSHIPS, "volunteer", world.b1.pk),
    ]


def test_filtering_by_a_foreign_id_is_a_400_that_reveals_nothing(api_client, tree, people, world):
    """Another township's id is refused exactly as an id that does not exist: same status, same body."""
    foreign_platform = make_platform(make_unit(UnitKind.CENTER, name="邻县中心"), "law")
    api_client.force_authenticate(people.inst_a)
    for url, param, pk in _foreign_filters(tree, world, foreign_platform):
        foreign = api_client.get(url, {param: pk})
        missing = api_client.get(url, {param: 99_999_999})
        assert foreign.status_code == missing.status_code == 400, (url, param)
        assert (
            foreign.json()
            == missing.json()
            == {param: [gettext("Select a valid choice. That choice is not one of the available choices.")]}
        ), (url, param)
        assert str(pk) not in foreign.content.decode()


def test_a_team_leader_filters_its_members_by_its_team_only(api_client, people, world):
    api_client.force_authenticate(people.leader)
    assert _ids(api_client.get(VOLUNTEERS, {"team": world.squad_a1.pk})) == {world.a2.pk}
    assert api_client.get(VOLUNTEERS, {"team": world.corps_a.pk}).status_code == 400
    # It holds no unit: a unit filter names none it may use.
    assert set(api_client.get(VOLUNTEERS, {"subtree_of": world.a1.home_unit_id}).json()) == {"subtree_of"}


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (VOLUNTEERS, {"status": "asleep"}, "status"),
        (VOLUNTEERS, {"registered_after": "yesterday"}, "registered_after"),
        (VOLUNTEERS, {"unit": "abc"}, "unit"),
        (VOLUNTEERS, {"subtree_of": "99999999999999999999"}, "subtree_of"),
        (VOLUNTEERS, {"subtree_of": "-1"}, "subtree_of"),
        (VOLUNTEERS, {"page_size": "0"}, "page_size"),
        (TEAMS, {"kind": "army"}, "kind"),
        (MEMBERSHIPS, {"role": "boss"}, "role"),
        (TRANSFERS, {"status": "lost"}, "status"),
        (TRANSFERS, {"kind": "planet"}, "kind"),
    ],
)
def test_invalid_filter_values_are_a_400_with_the_field(api_client, people, world, url, params, field):
    api_client.force_authenticate(people.county)
    response = api_client.get(url, params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_the_volunteer_list_walks_every_page_by_cursor(api_client, tree, people, world):
    for i in range(7):
        make_volunteer(tree.a2, _name("志愿者", i))
    api_client.force_authenticate(people.county)
    seen, url = [], f"{VOLUNTEERS}?page_size=3"
    while url:
        body = api_client.get(url).json()
        assert "count" not in body
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == list(Volunteer.objects.order_by("-id").values_list("pk", flat=True))


# --- Constant queries -----------------------------------------------------------------------------------


def _grow(kind, count, tree, reference, world):
    """`count` more rows of one list, all inside institute A."""
    if kind == VOLUNTEERS:
        for i in range(count):
            make_volunteer(tree.a1, _name("志愿者", i), domains=[reference.platform])
    elif kind == TEAMS:
        for i in range(count):
            team = make_team(tree.a1, f"分队{i}", kind=TeamKind.SQUAD, parent=world.corps_a)
            make_member(team, world.a1, MembershipRole.LEADER)
    elif kind == MEMBERSHIPS:
        for i in range(count):
            make_member(world.corps_a, make_volunteer(tree.a2, _name("队员", i)))
    else:
        for _i in range(count):
            Transfer.objects.create(
                volunteer=world.a2,
                kind=TransferKind.UNIT,
                from_unit=tree.a2,
                to_unit=tree.a1,
                status=TransferStatus.REJECTED,
                requested_by=world.leader.user,
            )


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (VOLUNTEERS, {}),
        (VOLUNTEERS, {"subtree_of": "a"}),  # the benchmarked request
        (TEAMS, {}),
        (MEMBERSHIPS, {}),
        (TRANSFERS, {}),
    ],
)
def test_lists_take_the_same_queries_for_1_and_50_rows(
    api_client, tree, people, reference, django_assert_num_queries, url, params
):
    # A world of one row per list: one team, one volunteer in it, one transfer of that volunteer.
    corps = make_team(tree.a, "甲镇志愿服务总队")
    first = make_volunteer(tree.a1, "张三", domains=[reference.platform])
    world = SimpleNamespace(corps_a=corps, a1=first, a2=first, leader=first)
    make_member(corps, first, MembershipRole.LEADER)
    Transfer.objects.create(
        volunteer=first,
        kind=TransferKind.UNIT,
        from_unit=tree.a1,
        to_unit=tree.a2,
        requested_by=people.inst_a,
    )
    params = {key: tree.a.pk if value == "a" else value for key, value in params.items()}
    api_client.force_authenticate(people.inst_a)

    def get():
        forget_scope(people.inst_a)
        return _rows(api_client.get(url, {"page_size": 50, **params}))

    with CaptureQueriesContext(connection) as one:
        assert len(get()) == 1
    _grow(url, 49, tree, reference, world)
    with django_assert_num_queries(len(one)):
        assert len(get()) == 50


# --- Schema ---------------------------------------------------------------------------------------------


def test_the_schema_documents_the_endpoints_and_their_filters(openapi):  # noqa: F811
    paths = openapi["paths"]
    for url in LISTS:
        assert url in paths and f"{url}{{id}}/" in paths, url
    parameters = {url: {parameter["name"] for parameter in paths[url]["get"]["parameters"]} for url in LISTS}
    assert {"unit", "subtree_of", "team", "domain", "status", "registered_after", "registered_before"} <= (
        parameters[VOLUNTEERS]
    )
    assert {"unit", "subtree_of", "kind", "domain", "cursor", "page_size"} <= parameters[TEAMS]
    assert {"team", "volunteer", "status", "role"} <= parameters[MEMBERSHIPS]
    assert {"status", "kind"} <= parameters[TRANSFERS]
    volunteer = openapi["components"]["schemas"]["Volunteer"]["properties"]
    assert "id_number_masked" in volunteer and "phone_masked" in volunteer
    assert not {"phone", "id_number", "id_number_encrypted", "id_number_hash"} & set(volunteer)


def test_every_answer_matches_the_schema(api_client, people, world, openapi):  # noqa: F811
    make_member(world.brigade_a, world.a1)
    api_client.force_authenticate(people.county)
    details = {
        VOLUNTEERS: world.a1.pk,
        TEAMS: world.brigade_a.pk,
        MEMBERSHIPS: world.memberships.leader.pk,
        TRANSFERS: world.transfers.b1.pk,
    }
    for url, pk in details.items():
        _check(openapi, url, api_client.get(url).json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}{pk}/").json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}99999999/").json(), "404")
    _check(openapi, VOLUNTEERS, api_client.get(VOLUNTEERS, {"status": "asleep"}).json(), "400")
