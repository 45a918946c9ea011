"""The volunteers admin: staff register volunteers through the service, ID numbers and phones stay masked
unless the role may see them (and every reveal or full export is audited), teams, memberships and transfers
are written through their services."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils.translation import gettext
from openpyxl import load_workbook

from stations.models import Role
from stations.services import role_grant
from stations.tests.factories import make_user
from volunteers.models import (
    IdNumberReveal,
    MembershipRole,
    MembershipStatus,
    PrivacyNotice,
    Team,
    TeamKind,
    TeamMembership,
    Transfer,
    TransferKind,
    TransferStatus,
    Volunteer,
)
from volunteers.tests.factories import make_member, make_team, make_volunteer, next_id_number, next_phone

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:volunteers_volunteer_changelist"


def _add_data(unit, **changes):
    data = {
        "name": "王小明",
        "id_type": "resident",
        "id_number": next_id_number(),
        "birth_date": "",
        "gender": "",
        "phone": next_phone(),
        "home_unit": unit.pk,
        "political_status": "masses",
        "education": "",
        "skills": "",
        "guardian_name": "",
        "guardian_phone": "",
        "consent": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _form_errors(response):
    return response.context["adminform"].form.errors


def _xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- The list: masked, searched by exact numbers only ---------------------------------------------------


def test_the_list_shows_masked_numbers_only(client, tree, people):
    volunteer = make_volunteer(tree.a1, "李四")
    number = _full_id(volunteer)
    client.force_login(people.county)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert volunteer.number in html and volunteer.id_number_masked in html and volunteer.phone_masked in html
    assert number not in html and volunteer.phone not in html
    assert tree.a1.short_name in html


def _full_id(volunteer):
    from volunteers import crypto

    return crypto.decrypt(volunteer.id_number_encrypted)


def test_search_finds_an_exact_id_number_or_phone_but_no_part_of_one(client, tree, people):
    one = make_volunteer(tree.a1, "李四")
    other = make_volunteer(tree.a1, "王五")
    client.force_login(people.inst_a)

    def found(term):
        response = client.get(reverse(CHANGELIST), {"q": term})
        assert response.status_code == 200
        return {v.pk for v in response.context["cl"].result_list}

    assert found(_full_id(one)) == {one.pk}
    assert found(_full_id(one).lower()) == {one.pk}
    assert found(_full_id(one)[:10]) == set()  # a part of a number finds nothing
    assert found(one.phone) == {one.pk}
    assert found(one.phone[:7]) == set()
    assert found("王五") == {other.pk}
    assert found(one.number) == {one.pk}


@pytest.mark.parametrize(
    "lookup",
    ["phone__startswith", "id_number_hash", "id_number_masked__startswith", "user__username__startswith"],
)
def test_a_masked_column_cannot_be_guessed_through_a_filter(client, tree, people, lookup):
    volunteer = make_volunteer(tree.a1)
    client.force_login(people.inst_a)
    for view in ("changelist", "export"):
        response = client.get(reverse(f"admin:volunteers_volunteer_{view}"), {lookup: volunteer.phone[:4]})
        assert response.status_code == 400, (view, lookup)
        assert volunteer.phone not in response.content.decode(errors="replace")


# --- Staff register a volunteer on their behalf ---------------------------------------------------------


def test_an_institute_admin_registers_a_volunteer_of_its_township(client, tree, people, reference):
    client.force_login(people.inst_a)
    data = _add_data(tree.a1, domains=[reference.platform.pk])
    response = client.post(reverse("admin:volunteers_volunteer_add"), data)
    assert response.status_code == 302, _form_errors(response)
    volunteer = Volunteer.objects.get(name="王小明")
    assert volunteer.home_unit == tree.a1 and volunteer.registered_by == people.inst_a
    assert list(volunteer.domains.all()) == [reference.platform]
    assert volunteer.user.username == data["phone"] and not volunteer.user.has_usable_password()
    assert volunteer.id_number_masked != data["id_number"] and _full_id(volunteer) == data["id_number"]


def test_without_the_volunteers_consent_nothing_is_registered(client, tree, people):
    client.force_login(people.inst_a)
    response = client.post(reverse("admin:volunteers_volunteer_add"), _add_data(tree.a1, consent=None))
    assert response.status_code == 200
    assert _form_errors(response) == {
        "consent": [gettext("Read the privacy notice and agree to it to register.")]
    }
    assert not Volunteer.objects.exists()


def test_a_bad_check_digit_is_a_field_error(client, tree, people):
    number = next_id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    client.force_login(people.inst_a)
    response = client.post(reverse("admin:volunteers_volunteer_add"), _add_data(tree.a1, id_number=wrong))
    assert response.status_code == 200
    assert list(_form_errors(response)) == ["id_number"]
    assert not Volunteer.objects.exists()


def test_a_duplicate_id_number_says_so_without_saying_whose(client, tree, people):
    existing = make_volunteer(tree.b1, "赵六")
    client.force_login(people.inst_a)
    data = _add_data(tree.a1, id_number=_full_id(existing))
    response = client.post(reverse("admin:volunteers_volunteer_add"), data)
    assert response.status_code == 200
    from volunteers.services import id_number_taken_message

    assert _form_errors(response) == {"id_number": [id_number_taken_message()]}
    assert "赵六" not in response.content.decode() and Volunteer.objects.count() == 1


def test_home_units_offered_are_those_where_the_user_changes_volunteers(client, tree, people):
    client.force_login(people.inst_a)
    response = client.get(reverse("admin:volunteers_volunteer_add"))
    offered = set(response.context["adminform"].form.fields["home_unit"].queryset)
    assert offered == {tree.a, tree.a1, tree.a2, tree.a1a}
    response = client.post(reverse("admin:volunteers_volunteer_add"), _add_data(tree.b1))
    assert response.status_code == 200 and "home_unit" in _form_errors(response)
    assert not Volunteer.objects.exists()


def test_a_minor_needs_the_guardian(client, tree, people):
    today = datetime.date.today()
    birth = datetime.date(today.year - 16, 1, 1)
    client.force_login(people.inst_a)
    data = _add_data(tree.a1, id_number=next_id_number(birth))
    response = client.post(reverse("admin:volunteers_volunteer_add"), data)
    assert response.status_code == 200
    assert _form_errors(response) == {
        "guardian_name": [gettext("A volunteer under 18 needs a guardian: enter the guardian's name.")]
    }
    assert not Volunteer.objects.exists()
    data.update(guardian_name="王大明", guardian_phone=next_phone(), guardian_consent="on")
    assert client.post(reverse("admin:volunteers_volunteer_add"), data).status_code == 302
    assert Volunteer.objects.get().guardian_name == "王大明"


# --- The change page -------------------------------------------------------------------------------------


def test_a_change_goes_through_the_service(client, tree, people):
    volunteer = make_volunteer(tree.a1, "李四")
    client.force_login(people.inst_a)
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    data = {
        "name": "李四",
        "home_unit": tree.a2.pk,
        "status": "active",
        "political_status": "masses",
        "education": "",
        "skills": "摄影",
    }
    response = client.post(url, data)
    assert response.status_code == 302, _form_errors(response)
    volunteer.refresh_from_db()
    assert (volunteer.home_unit, volunteer.skills) == (tree.a2, "摄影")
    # Not into another township.
    response = client.post(url, {**data, "home_unit": tree.b1.pk})
    assert response.status_code == 200 and "home_unit" in _form_errors(response)
    volunteer.refresh_from_db()
    assert volunteer.home_unit == tree.a2


def test_the_change_page_masks_the_id_and_offers_the_reveal_to_county_admins_only(client, tree, people):
    volunteer = make_volunteer(tree.a1)
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    reveal = reverse("admin:volunteers_volunteer_reveal", args=[volunteer.pk])
    client.force_login(people.inst_a)
    html = client.get(url).content.decode()
    assert volunteer.id_number_masked in html and _full_id(volunteer) not in html
    assert reveal not in html
    client.force_login(people.county)
    html = client.get(url).content.decode()
    assert reveal in html and _full_id(volunteer) not in html


def test_a_county_admin_reveals_the_number_once_and_it_is_audited(client, tree, people):
    volunteer = make_volunteer(tree.a1)
    reveal = reverse("admin:volunteers_volunteer_reveal", args=[volunteer.pk])
    client.force_login(people.county)
    assert client.get(reveal).status_code == 405
    assert not IdNumberReveal.objects.exists()
    response = client.post(reveal, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert _full_id(volunteer) in response.content.decode()
    row = IdNumberReveal.objects.get()
    assert (row.actor, row.volunteer, row.purpose, row.count, row.ip_address) == (
        people.county,
        volunteer,
        IdNumberReveal.Purpose.DETAIL,
        1,
        "10.1.2.3",
    )


def test_an_institute_admin_cannot_reveal_a_number(client, tree, people):
    volunteer = make_volunteer(tree.a1)
    client.force_login(people.inst_a)
    response = client.post(reverse("admin:volunteers_volunteer_reveal", args=[volunteer.pk]), follow=True)
    assert _full_id(volunteer) not in response.content.decode()
    assert [str(m) for m in response.context["messages"]] == [
        gettext("Your role does not show full ID numbers.")
    ]
    assert not IdNumberReveal.objects.exists()


def test_phones_are_whole_on_the_page_only_with_the_contacts_capability(client, tree, people):
    volunteer = make_volunteer(tree.a1)
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    client.force_login(people.inst_a)
    assert volunteer.phone in client.get(url).content.decode()
    # A viewer of the county who administers station B1 (so may use the admin) sees no contacts in A1.
    mixed = role_grant(actor=None, user=people.nobody, role=Role.VIEWER, unit=tree.center).user
    role_grant(actor=None, user=mixed, role=Role.STATION_ADMIN, unit=tree.b1)
    client.force_login(mixed)
    html = client.get(url).content.decode()
    assert volunteer.phone_masked in html and volunteer.phone not in html


# --- Export ------------------------------------------------------------------------------------------


def test_the_export_is_masked(client, tree, people):
    volunteer = make_volunteer(tree.a1)
    client.force_login(people.county)
    rows = _xlsx_rows(client.get(reverse("admin:volunteers_volunteer_export")))
    flat = [str(cell) for row in rows for cell in row]
    assert volunteer.id_number_masked in flat and volunteer.phone_masked in flat
    assert _full_id(volunteer) not in flat and volunteer.phone not in flat
    assert not IdNumberReveal.objects.exists()


def test_the_export_with_full_numbers_is_for_county_admins_and_audited(client, tree, people):
    volunteers = [make_volunteer(tree.a1), make_volunteer(tree.b1)]
    url = reverse("admin:volunteers_volunteer_export_full")
    client.force_login(people.inst_a)
    assert client.post(url).status_code == 403
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert url not in html
    assert not IdNumberReveal.objects.exists()

    client.force_login(people.county)
    assert url in client.get(reverse(CHANGELIST)).content.decode()
    assert client.get(url).status_code == 405
    rows = _xlsx_rows(client.post(url))
    flat = [str(cell) for row in rows for cell in row]
    assert all(_full_id(v) in flat for v in volunteers)
    row = IdNumberReveal.objects.get()
    assert (row.actor, row.volunteer, row.purpose, row.count) == (
        people.county,
        None,
        IdNumberReveal.Purpose.EXPORT,
        2,
    )
    # The list's filter holds for the export too.
    rows = _xlsx_rows(client.post(f"{url}?institute={tree.a.pk}"))
    assert len(rows) == 2 and IdNumberReveal.objects.filter(count=1).count() == 1


def test_the_changelist_links_to_the_import_pages(client, tree, people):
    client.force_login(people.inst_a)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:volunteers_volunteer_import") in html
    assert reverse("admin:volunteers_volunteer_import_template") in html


# --- Teams and memberships ---------------------------------------------------------------------------


def test_a_team_is_added_and_changed_through_the_services(client, tree, people, reference):
    client.force_login(people.inst_a)
    data = {
        "kind": TeamKind.CORPS,
        "name": "甲镇志愿服务总队",
        "parent": "",
        "unit": tree.a.pk,
        "domain": reference.platform.pk,
        "team_type": "theory",
        "description": "",
        "is_active": "on",
    }
    response = client.post(reverse("admin:volunteers_team_add"), data)
    assert response.status_code == 302, _form_errors(response)
    corps = Team.objects.get(name="甲镇志愿服务总队")
    assert corps.unit == tree.a and corps.path and corps.depth == 0
    response = client.post(
        reverse("admin:volunteers_team_add"), {**data, "kind": TeamKind.SQUAD, "name": "一分队", "parent": ""}
    )
    assert response.status_code == 200
    # The model's own rule answers first.
    assert _form_errors(response) == {"__all__": [str(Team._meta.constraints[0].violation_error_message)]}
    url = reverse("admin:volunteers_team_change", args=[corps.pk])
    change = {k: v for k, v in data.items() if k not in {"kind", "parent", "unit"}}
    response = client.post(url, {**change, "name": "甲镇总队"})
    assert response.status_code == 302, _form_errors(response)
    assert Team.objects.get(pk=corps.pk).name == "甲镇总队"


def test_a_team_outside_ones_units_is_refused(client, tree, people):
    client.force_login(people.inst_a)
    data = {
        "kind": TeamKind.CORPS,
        "name": "乙镇总队",
        "unit": tree.b.pk,
        "team_type": "other",
        "is_active": "on",
    }
    response = client.post(reverse("admin:volunteers_team_add"), data)
    assert response.status_code == 200 and "unit" in _form_errors(response)
    assert not Team.objects.exists()


def test_the_parent_dropdown_offers_teams_of_ones_units_and_above_only(client, tree, people):
    county_corps = make_team(tree.center, "县志愿服务总队")
    corps_a = make_team(tree.a, "甲镇总队")
    brigade_a1 = make_team(tree.a1, "甲一村大队", kind=TeamKind.BRIGADE, parent=corps_a)
    corps_b = make_team(tree.b, "乙镇总队")
    make_team(tree.b1, "乙一村大队", kind=TeamKind.BRIGADE, parent=corps_b)
    make_team(tree.a, "甲镇文艺分队", kind=TeamKind.SQUAD, parent=corps_a)  # a squad takes no sub-team
    offered = {}
    for name in ("inst_a", "station_a1", "inst_b"):
        client.force_login(getattr(people, name))
        response = client.get(reverse("admin:volunteers_team_add"))
        offered[name] = set(response.context["adminform"].form.fields["parent"].queryset)
    assert offered["inst_a"] == {county_corps, corps_a, brigade_a1}
    assert offered["station_a1"] == {county_corps, corps_a, brigade_a1}
    assert offered["inst_b"] == {county_corps, corps_b, Team.objects.get(name="乙一村大队")}
    # B's team is not a choice for A: posted anyway, the form refuses it and nothing is saved.
    client.force_login(people.inst_a)
    before = Team.objects.count()
    data = {
        "kind": TeamKind.BRIGADE,
        "name": "借道大队",
        "parent": corps_b.pk,
        "unit": tree.a.pk,
        "team_type": "other",
        "is_active": "on",
    }
    response = client.post(reverse("admin:volunteers_team_add"), data)
    assert response.status_code == 200 and "parent" in _form_errors(response)
    assert Team.objects.count() == before


def test_the_team_list_shows_leaders_and_member_counts(client, tree, people):
    team = make_team(tree.a, "甲镇总队")
    leader, member = make_volunteer(tree.a1, "队长甲"), make_volunteer(tree.a1, "队员乙")
    make_member(team, leader, MembershipRole.LEADER)
    make_member(team, member)
    client.force_login(people.inst_a)
    response = client.get(reverse("admin:volunteers_team_changelist"))
    (row,) = response.context["cl"].result_list
    model_admin = response.context["cl"].model_admin
    assert model_admin.leaders(row) == "队长甲" and model_admin.member_count(row) == 2


def test_staff_add_a_member_and_appoint_a_leader(client, tree, people):
    team = make_team(tree.a, "甲镇总队")
    volunteer = make_volunteer(tree.a1, "李四")
    client.force_login(people.inst_a)
    response = client.post(
        reverse("admin:volunteers_teammembership_add"),
        {"team": team.pk, "volunteer": volunteer.pk, "role": MembershipRole.MEMBER},
    )
    assert response.status_code == 302, _form_errors(response)
    membership = TeamMembership.objects.get()
    assert (membership.status, membership.decided_by) == (MembershipStatus.ACTIVE, people.inst_a)
    response = client.post(
        reverse("admin:volunteers_teammembership_changelist"),
        {"action": "appoint_leader", "_selected_action": [membership.pk]},
    )
    assert response.status_code == 302
    assert TeamMembership.objects.get().role == MembershipRole.LEADER
    client.post(
        reverse("admin:volunteers_teammembership_changelist"),
        {"action": "revoke_leader", "_selected_action": [membership.pk]},
    )
    assert TeamMembership.objects.get().role == MembershipRole.MEMBER


def test_staff_admit_or_turn_down_a_pending_join(client, tree, people):
    from volunteers.teams import membership_request

    team = make_team(tree.a, "甲镇总队")
    one, two = make_volunteer(tree.a1, "李四"), make_volunteer(tree.a1, "王五")
    first = membership_request(actor=one.user, team=team, volunteer=one)
    second = membership_request(actor=two.user, team=team, volunteer=two)
    client.force_login(people.inst_a)
    url = reverse("admin:volunteers_teammembership_changelist")
    client.post(url, {"action": "admit", "_selected_action": [first.pk]})
    client.post(url, {"action": "turn_down", "_selected_action": [second.pk]})
    statuses = dict(TeamMembership.objects.values_list("pk", "status"))
    assert statuses == {first.pk: MembershipStatus.ACTIVE, second.pk: MembershipStatus.REJECTED}


def test_a_member_outside_ones_teams_is_not_offered(client, tree, people):
    team = make_team(tree.a, "甲镇总队")
    stranger = make_volunteer(tree.b1, "乙镇人")
    client.force_login(people.inst_a)
    response = client.post(
        reverse("admin:volunteers_teammembership_add"),
        {"team": team.pk, "volunteer": stranger.pk, "role": MembershipRole.MEMBER},
    )
    assert response.status_code == 200 and "volunteer" in _form_errors(response)
    assert not TeamMembership.objects.exists()


# --- Transfers -----------------------------------------------------------------------------------------


def _transfer(volunteer, to_unit, actor):
    return Transfer.objects.create(
        volunteer=volunteer,
        kind=TransferKind.UNIT,
        from_unit=volunteer.home_unit,
        to_unit=to_unit,
        requested_by=actor,
    )


def test_the_receiving_side_approves_a_transfer(client, tree, people):
    volunteer = make_volunteer(tree.b1, "李四")
    transfer = _transfer(volunteer, tree.a1, people.inst_b)
    url = reverse("admin:volunteers_transfer_changelist")
    # The sending side sees it but cannot tick it, and a forged action changes nothing.
    client.force_login(people.inst_b)
    response = client.get(url)
    assert [t.pk for t in response.context["cl"].result_list] == [transfer.pk]
    assert 'name="_selected_action"' not in response.content.decode()
    client.post(url, {"action": "approve", "_selected_action": [transfer.pk]})
    assert Transfer.objects.get().status == TransferStatus.PENDING
    # The receiving side decides.
    client.force_login(people.inst_a)
    assert 'name="_selected_action"' in client.get(url).content.decode()
    client.post(url, {"action": "approve", "_selected_action": [transfer.pk]})
    transfer.refresh_from_db()
    volunteer.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED and volunteer.home_unit == tree.a1


def test_a_rejection_asks_for_the_reason(client, tree, people):
    volunteer = make_volunteer(tree.b1, "李四")
    transfer = _transfer(volunteer, tree.a1, people.inst_b)
    url = reverse("admin:volunteers_transfer_changelist")
    client.force_login(people.inst_a)
    response = client.post(url, {"action": "reject", "_selected_action": [transfer.pk]})
    assert response.status_code == 200 and "note" in response.content.decode()
    assert Transfer.objects.get().status == TransferStatus.PENDING
    response = client.post(
        url, {"action": "reject", "_selected_action": [transfer.pk], "post": "yes", "note": ""}
    )
    assert response.status_code == 200 and response.context["form"].errors["note"]
    assert Transfer.objects.get().status == TransferStatus.PENDING
    client.post(
        url, {"action": "reject", "_selected_action": [transfer.pk], "post": "yes", "note": "本村名额已满"}
    )
    transfer.refresh_from_db()
    assert (transfer.status, transfer.decision_note) == (TransferStatus.REJECTED, "本村名额已满")
    volunteer.refresh_from_db()
    assert volunteer.home_unit == tree.b1


# --- Privacy notices and the audit log ----------------------------------------------------------------


def test_a_county_admin_publishes_a_new_privacy_notice(client, tree, people):
    url = reverse("admin:volunteers_privacynotice_add")
    client.force_login(people.inst_a)
    assert client.get(url).status_code == 403
    client.force_login(people.county)
    data = {"version": "2027-1", "title": "隐私政策", "effective_from": "2027-01-01", "body": "正文"}
    assert client.post(url, data).status_code == 302
    assert PrivacyNotice.objects.filter(version="2027-1").exists()
    response = client.post(url, data)
    assert response.status_code == 200
    assert _form_errors(response) == {
        "version": [gettext("This version already exists; give the new notice a new version.")]
    }


def test_a_consented_notice_is_read_only(client, tree, people):
    volunteer = make_volunteer(tree.a1)
    notice = volunteer.privacy_notice
    client.force_login(people.county)
    url = reverse("admin:volunteers_privacynotice_change", args=[notice.pk])
    response = client.get(url)
    assert response.status_code == 200 and not response.context["has_change_permission"]
    before = (notice.title, notice.body)
    client.post(
        url, {"version": notice.version, "title": "改了", "effective_from": "2026-01-01", "body": "x"}
    )
    notice.refresh_from_db()
    assert (notice.title, notice.body) == before


def test_the_reveal_log_is_for_county_admins(client, tree, people):
    volunteer = make_volunteer(tree.a1)
    IdNumberReveal.objects.create(actor=people.county, volunteer=volunteer, purpose="detail")
    url = reverse("admin:volunteers_idnumberreveal_changelist")
    for who in ("inst_a", "station_a1", "viewer"):
        client.force_login(getattr(people, who))
        assert client.get(url).status_code in {302, 403}, who  # a viewer is no staff: the login page
    client.force_login(people.county)
    response = client.get(url)
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 1
    row = IdNumberReveal.objects.get()
    assert client.get(reverse("admin:volunteers_idnumberreveal_change", args=[row.pk])).status_code == 200


def test_another_countys_admin_sees_no_reveal_of_this_county(client, tree, people):
    from stations.models import UnitKind
    from stations.tests.factories import make_unit

    volunteer = make_volunteer(tree.a1)
    IdNumberReveal.objects.create(actor=people.county, volunteer=volunteer, purpose="detail")
    other = make_unit(UnitKind.CENTER, name="邻县中心")
    neighbour = make_user("neighbour", role=Role.COUNTY_ADMIN, unit=other)
    client.force_login(neighbour)
    response = client.get(reverse("admin:volunteers_idnumberreveal_changelist"))
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 0
    row = IdNumberReveal.objects.get()
    assert client.get(reverse("admin:volunteers_idnumberreveal_change", args=[row.pk])).status_code == 404
