"""Institute B's admin cannot see or change institute A's volunteers, teams, memberships or transfers
through any admin page (list, change, history, export, reveal, autocomplete), and every list of the
volunteers admin reads a constant number of queries."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from stations.scoping import forget_scope
from volunteers.models import IdNumberReveal, MembershipRole, PrivacyNotice, Transfer, TransferKind
from volunteers.tests.factories import make_member, make_team, make_volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def township_a(tree, people):
    volunteer = make_volunteer(tree.a1, "甲村人")
    team = make_team(tree.a, "甲镇总队")
    membership = make_member(team, volunteer, MembershipRole.LEADER)
    transfer = Transfer.objects.create(
        volunteer=volunteer,
        kind=TransferKind.UNIT,
        from_unit=tree.a1,
        to_unit=tree.a2,
        requested_by=people.inst_a,
    )
    return {"volunteer": volunteer, "team": team, "teammembership": membership, "transfer": transfer}


@pytest.mark.parametrize("model", ["volunteer", "team", "teammembership", "transfer"])
def test_another_townships_admin_cannot_reach_the_rows(client, people, township_a, model):
    obj = township_a[model]
    client.force_login(people.inst_b)
    response = client.get(reverse(f"admin:volunteers_{model}_changelist"))
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []
    for view in ("change", "history", "delete"):
        response = client.get(reverse(f"admin:volunteers_{model}_{view}", args=[obj.pk]))
        assert response.status_code in {403, 404}, view
    # Their own admins do see them.
    client.force_login(people.inst_a)
    response = client.get(reverse(f"admin:volunteers_{model}_changelist"))
    assert [row.pk for row in response.context["cl"].result_list] == [obj.pk]
    assert client.get(reverse(f"admin:volunteers_{model}_change", args=[obj.pk])).status_code == 200


def test_a_change_posted_from_another_township_is_a_404_and_changes_nothing(client, people, township_a):
    volunteer = township_a["volunteer"]
    client.force_login(people.inst_b)
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    response = client.post(url, {"name": "改名", "status": "left", "political_status": "masses"})
    assert response.status_code == 404
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.status) == ("甲村人", "active")
    team = township_a["team"]
    url = reverse("admin:volunteers_team_change", args=[team.pk])
    assert client.post(url, {"name": "改名", "team_type": "other"}).status_code == 404
    team.refresh_from_db()
    assert team.name == "甲镇总队"


def test_the_export_holds_only_ones_own_volunteers(client, tree, people, township_a):
    make_volunteer(tree.b1, "乙村人")
    client.force_login(people.inst_b)
    response = client.get(reverse("admin:volunteers_volunteer_export"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["乙村人"]


def test_the_reveal_of_another_townships_volunteer_is_a_404(client, people, township_a):
    client.force_login(people.inst_b)
    url = reverse("admin:volunteers_volunteer_reveal", args=[township_a["volunteer"].pk])
    assert client.post(url).status_code == 404
    assert not IdNumberReveal.objects.exists()


def test_a_transfer_from_another_township_cannot_be_decided_by_it(client, people, township_a):
    transfer = township_a["transfer"]
    client.force_login(people.inst_b)
    client.post(
        reverse("admin:volunteers_transfer_changelist"),
        {"action": "approve", "_selected_action": [transfer.pk]},
    )
    assert Transfer.objects.get().status == "pending"


def test_a_membership_of_another_township_cannot_be_changed_by_an_action(client, people, township_a):
    membership = township_a["teammembership"]
    client.force_login(people.inst_b)
    client.post(
        reverse("admin:volunteers_teammembership_changelist"),
        {"action": "revoke_leader", "_selected_action": [membership.pk]},
    )
    membership.refresh_from_db()
    assert membership.role == MembershipRole.LEADER


@pytest.mark.parametrize("field_name", ["volunteer", "team"])
def test_autocomplete_offers_only_ones_own(client, tree, people, township_a, field_name):
    own = {"volunteer": make_volunteer(tree.b1, "乙村人"), "team": make_team(tree.b, "乙镇总队")}[field_name]
    client.force_login(people.inst_b)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "volunteers", "model_name": "teammembership", "field_name": field_name, "term": ""},
    )
    assert response.status_code == 200
    assert {int(row["id"]) for row in response.json()["results"]} == {own.pk}


def test_the_search_by_id_number_finds_nobody_of_another_township(client, people, township_a):
    from volunteers import crypto

    number = crypto.decrypt(township_a["volunteer"].id_number_encrypted)
    client.force_login(people.inst_b)
    response = client.get(reverse("admin:volunteers_volunteer_changelist"), {"q": number})
    assert list(response.context["cl"].result_list) == []


# --- Constant queries --------------------------------------------------------------------------------


def _chinese_name(i: int) -> str:
    return "志愿者" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉戌亥"[i // 10 % 12]


def _add_rows(tree, people, first, last):
    corps = make_team(tree.a, f"总队{first}")
    for i in range(first, last):
        volunteer = make_volunteer(tree.a1, _chinese_name(i))
        team = make_team(tree.a, f"队{i}")
        make_member(team, volunteer, MembershipRole.LEADER)
        make_member(corps, volunteer)
        Transfer.objects.create(
            volunteer=volunteer,
            kind=TransferKind.UNIT,
            from_unit=tree.a1,
            to_unit=tree.a2,
            requested_by=people.inst_a,
        )
        IdNumberReveal.objects.create(actor=people.county, volunteer=volunteer, purpose="detail")
        PrivacyNotice.objects.create(
            version=f"v{i}", title="隐私政策", body="正文", effective_from="2026-01-01"
        )


@pytest.mark.parametrize(
    "model", ["volunteer", "team", "teammembership", "transfer", "privacynotice", "idnumberreveal"]
)
def test_changelist_queries_do_not_grow_with_the_rows(client, tree, people, model):
    client.force_login(people.county)
    url = reverse(f"admin:volunteers_{model}_changelist")

    def count():
        forget_scope(people.county)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _add_rows(tree, people, 0, 1)
    count()  # the first page of a session also reads the county's name, which is then cached
    few = count()
    _add_rows(tree, people, 1, 50)
    many = count()
    assert many == few, (model, few, many)


def test_the_volunteer_export_queries_do_not_grow_with_the_rows(client, tree, people):
    client.force_login(people.county)

    def count(url, method):
        forget_scope(people.county)
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url)
            assert response.status_code == 200
            b"".join(response.streaming_content)
        return len(queries)

    for url, method in (
        (reverse("admin:volunteers_volunteer_export"), "get"),
        (reverse("admin:volunteers_volunteer_export_full"), "post"),
    ):
        make_volunteer(tree.a1)
        count(url, method)
        few = count(url, method)
        for _ in range(20):
            make_volunteer(tree.a1)
        assert count(url, method) == few, url
