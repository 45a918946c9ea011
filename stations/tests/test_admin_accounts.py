"""The account admin, scoped: an institute admin manages the staff accounts of its township and no others."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from kernel import accounts
from stations import services
from stations.models import Role, RoleAssignment, UnitKind
from stations.tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Cun-zhan-2026!"
# Django's own messages, as the catalogue words them.
INVALID_CHOICE = _("Select a valid choice. That choice is not one of the available choices.")
REQUIRED = _("This field is required.")


def url(view, user=None):
    if view in ("changelist", "add"):
        return reverse(f"admin:auth_user_{view}")
    if view == "password":
        return reverse("admin:auth_user_password_change", args=[user.pk])
    return reverse(f"admin:auth_user_{view}", args=[user.pk])


def listed(client, **params) -> set[str]:
    response = client.get(url("changelist"), params)
    assert response.status_code == 200
    return {user.username for user in response.context["cl"].result_list}


def add_data(unit, **changes):
    data = {
        "username": "a1_new",
        "first_name": "王小明",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "role": Role.STATION_ADMIN,
        "unit": unit.pk if unit is not None else "",
        "_save": "1",
    }
    data.update(changes)
    return data


def change_data(user, *, new_roles=(), delete=(), **changes):
    """The change form as a scoped admin posts it: its fields, the roles inline (existing rows read-only,
    each deletable), and new role rows."""
    roles = list(RoleAssignment.objects.filter(user=user).order_by("pk"))
    data = {
        "first_name": user.first_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "roles-TOTAL_FORMS": str(len(roles) + len(new_roles)),
        "roles-INITIAL_FORMS": str(len(roles)),
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
    }
    for index, role in enumerate(roles):
        data[f"roles-{index}-id"] = str(role.pk)
        data[f"roles-{index}-user"] = str(user.pk)
        if role in delete:
            data[f"roles-{index}-DELETE"] = "on"
    for offset, (role, unit) in enumerate(new_roles):
        index = len(roles) + offset
        data.update({f"roles-{index}-role": role, f"roles-{index}-unit": str(unit.pk)})
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


# --- Who sees which accounts ---------------------------------------------------------------------------


def test_the_account_list_is_exactly_the_accounts_one_manages(client, tree, people, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    services.role_grant(actor=None, user=root, role=Role.STATION_ADMIN, unit=tree.a2)
    client.force_login(people.inst_a)
    assert listed(client) == {"station_a1"}
    client.force_login(people.inst_b)
    assert listed(client) == set()
    client.force_login(people.county)
    assert listed(client) == {"inst_a", "inst_b", "station_a1"}  # never a superuser, never oneself
    client.force_login(root)
    assert listed(client) == {"root", "county", "inst_a", "inst_b", "station_a1", "viewer", "nobody"}


def test_a_station_admin_has_no_account_admin(client, tree, people):
    client.force_login(people.station_a1)
    assert client.get(url("changelist")).status_code == 403
    assert client.get(url("add")).status_code == 403
    index = client.get(reverse("admin:index"))
    assert reverse("admin:auth_user_changelist") not in index.content.decode()


@pytest.mark.parametrize("view", ["change", "history", "delete", "password"])
def test_the_other_township_cannot_open_or_change_an_account(client, tree, people, view):
    client.force_login(people.inst_b)
    target = people.station_a1
    assert client.get(url(view, target)).status_code == 404
    post = {
        "change": change_data(target, first_name="改", new_roles=[(Role.VIEWER, tree.b1)]),
        "history": {},
        "delete": {"post": "yes"},
        "password": {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    }[view]
    assert client.post(url(view, target), post).status_code == 404
    target.refresh_from_db()
    assert target.first_name == "" and target.check_password(TEST_PASSWORD)
    assert list(target.roles.values_list("unit", flat=True)) == [tree.a1.pk]


def test_a_superuser_is_a_404_to_every_scoped_admin(client, tree, people, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    services.role_grant(actor=None, user=root, role=Role.STATION_ADMIN, unit=tree.a1)
    for who in ("inst_a", "county"):
        client.force_login(getattr(people, who))
        for view in ("change", "password", "history"):
            assert client.get(url(view, root)).status_code == 404, (who, view)


def test_an_admin_cannot_open_its_own_account_in_the_account_admin(client, tree, people):
    client.force_login(people.inst_a)
    assert client.get(url("change", people.inst_a)).status_code == 404


def test_search_and_filters_of_the_account_list(client, tree, people):
    accounts.account_update(actor=None, user=people.station_a1, first_name="张三")
    make_user("a2_viewer", role=Role.VIEWER, unit=tree.a2, first_name="李四")
    client.force_login(people.inst_a)
    assert listed(client) == {"station_a1", "a2_viewer"}
    assert listed(client, q="张") == {"station_a1"}
    assert listed(client, q="a2_") == {"a2_viewer"}
    assert listed(client, role=Role.VIEWER) == {"a2_viewer"}
    assert listed(client, role="no_such_role") == set()
    accounts.account_deactivate(actor=None, user=people.station_a1)
    assert listed(client, is_active__exact="0") == {"station_a1"}
    response = client.get(url("changelist"))
    html = response.content.decode()
    assert "张三" in html and "文明实践站管理员：甲一村站" in html and "数据查看员：甲二村站" in html


def test_the_account_list_takes_the_same_queries_for_1_and_50_accounts(client, tree, people):
    client.force_login(people.inst_a)

    last = []

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("changelist")).status_code == 200
        last[:] = queries.captured_queries
        return len(queries)

    count()  # the first request fills Django's caches (content types)
    few = count()
    for i in range(49):
        user = make_user(f"many{i}", role=Role.STATION_ADMIN, unit=tree.a1 if i % 2 else tree.a2)
        if i % 3 == 0:
            services.role_grant(actor=None, user=user, role=Role.VIEWER, unit=tree.a2)
    assert len(listed(client)) == 50
    many = count()
    assert many == few, "\n".join(q["sql"][:300] for q in last)


# --- Creating an account ----------------------------------------------------------------------------


def test_an_institute_admin_creates_a_station_admin_account(client, tree, people, django_user_model):
    client.force_login(people.inst_a)
    form = client.get(url("add")).context["adminform"].form
    assert [value for value, _label in form.fields["role"].choices] == ["", Role.STATION_ADMIN, Role.VIEWER]
    assert set(form.fields["unit"].queryset) == {tree.a1, tree.a2}
    assert "is_superuser" not in form.fields and "usable_password" not in form.fields
    response = client.post(url("add"), add_data(tree.a1))
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = django_user_model.objects.get(username="a1_new")
    assert (user.first_name, user.is_staff, user.is_superuser) == ("王小明", True, False)
    assert list(user.roles.values_list("role", "unit")) == [(Role.STATION_ADMIN, tree.a1.pk)]
    assert LogEntry.objects.filter(object_id=str(user.pk), user=people.inst_a).exists()


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"unit": "a"}, {"unit": [INVALID_CHOICE]}),  # its own unit is not offered
        ({"unit": "b1"}, {"unit": [INVALID_CHOICE]}),  # nor the other township
        (
            {"unit": "a1", "role": Role.INSTITUTE_ADMIN},
            {
                "role": [
                    _("Select a valid choice. %(value)s is not one of the available choices.")
                    % {"value": Role.INSTITUTE_ADMIN}
                ]
            },
        ),
        ({"unit": "a1", "first_name": ""}, {"first_name": [REQUIRED]}),
    ],
)
def test_a_new_account_outside_the_rule_is_a_form_error(
    client, tree, people, django_user_model, changes, errors
):
    client.force_login(people.inst_a)
    unit = getattr(tree, changes.pop("unit"))
    response = client.post(url("add"), add_data(unit, **changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == errors
    assert not django_user_model.objects.filter(username="a1_new").exists()


def test_a_refusal_only_the_service_sees_is_shown_on_the_creation_form(client, tree, people):
    """A viewer may sit on a station, but a station admin not on an institute: the form cannot tell."""
    client.force_login(people.county)
    response = client.post(url("add"), add_data(tree.a, role=Role.STATION_ADMIN))
    assert response.status_code == 200
    message = _("A %(role)s is granted on a %(kind)s.") % {
        "role": Role.STATION_ADMIN.label,
        "kind": UnitKind.STATION.label,
    }
    assert response.context["adminform"].form.errors == {"unit": [message]}


# --- Editing, the roles inline, the password ----------------------------------------------------------


def test_the_managing_admin_edits_the_account_but_not_its_powers(client, tree, people):
    client.force_login(people.inst_a)
    target = people.station_a1
    form = client.get(url("change", target)).context["adminform"].form
    assert set(form.fields) == {"password", "first_name", "email", "is_active"}
    data = change_data(target, first_name="李四", email="lisi@example.org", is_superuser="on", is_staff="")
    response = client.post(url("change", target), data)
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.first_name, target.email, target.is_superuser, target.is_staff) == (
        "李四",
        "lisi@example.org",
        False,
        True,
    )


def test_deactivating_in_the_form_and_by_the_action(client, tree, people):
    client.force_login(people.inst_a)
    target = people.station_a1
    assert client.post(url("change", target), change_data(target, is_active="")).status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    response = client.post(
        url("changelist"),
        {"action": "reactivate_accounts", "_selected_action": [target.pk, people.inst_b.pk]},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    people.inst_b.refresh_from_db()
    assert target.is_active and people.inst_b.is_active


def test_an_action_never_reaches_an_account_outside(client, tree, people):
    client.force_login(people.inst_b)
    response = client.post(
        url("changelist"), {"action": "deactivate_accounts", "_selected_action": [people.station_a1.pk]}
    )
    assert response.status_code in (200, 302)
    people.station_a1.refresh_from_db()
    assert people.station_a1.is_active


def test_roles_are_granted_and_revoked_on_the_account_page(client, tree, people):
    client.force_login(people.inst_a)
    target = people.station_a1
    inline = client.get(url("change", target)).context["inline_admin_formsets"][0]
    empty = inline.formset.empty_form
    assert [value for value, _label in empty.fields["role"].choices] == ["", Role.STATION_ADMIN, Role.VIEWER]
    assert set(empty.fields["unit"].queryset) == {tree.a1, tree.a2}
    first = RoleAssignment.objects.get(user=target)
    # Replace the station role by a viewer role in one save: the new one is granted first.
    response = client.post(
        url("change", target), change_data(target, new_roles=[(Role.VIEWER, tree.a2)], delete=[first])
    )
    assert response.status_code == 302
    assert list(target.roles.values_list("role", "unit", "granted_by")) == [
        (Role.VIEWER, tree.a2.pk, people.inst_a.pk)
    ]
    target.refresh_from_db()
    assert not target.is_staff  # the staff flag follows the admin roles


def test_the_last_role_is_not_revoked_on_the_account_page(client, tree, people):
    client.force_login(people.inst_a)
    target = people.station_a1
    only = RoleAssignment.objects.get(user=target)
    response = client.post(url("change", target), change_data(target, first_name="改", delete=[only]))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        _("This is the account's last role; deactivate the account instead.")
    ]
    target.refresh_from_db()
    assert target.first_name == "" and RoleAssignment.objects.filter(pk=only.pk).exists()


@pytest.mark.parametrize("unit", ["a", "b1", "center"])
def test_granting_on_one_s_own_unit_or_the_other_township_is_refused(client, tree, people, unit):
    client.force_login(people.inst_a)
    target = people.station_a1
    response = client.post(
        url("change", target), change_data(target, new_roles=[(Role.VIEWER, getattr(tree, unit))])
    )
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[1] == {"unit": [INVALID_CHOICE]}
    assert target.roles.count() == 1


def test_the_managing_admin_resets_the_password_on_django_s_page(client, tree, people):
    client.force_login(people.inst_a)
    target = people.station_a1
    page = client.get(url("password", target))
    assert page.status_code == 200 and "usable_password" not in page.context["form"].fields
    response = client.post(url("password", target), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    response = client.post(url("password", target), {"password1": "password", "password2": "password"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"password2": ["该密码过于常见。"]}


# --- People by name and unit ---------------------------------------------------------------------------


def test_the_history_names_who_changed_an_account_by_name_and_unit(client, tree, people):
    accounts.account_update(actor=None, user=people.inst_a, first_name="张三")
    client.force_login(people.inst_a)
    client.post(url("change", people.station_a1), change_data(people.station_a1, first_name="李四"))
    client.force_login(people.county)
    html = client.get(url("history", people.station_a1)).content.decode()
    assert "张三（甲镇所）" in html and ">inst_a<" not in html


def test_role_assignments_name_people_by_name_and_unit(client, tree, people):
    accounts.account_update(actor=None, user=people.station_a1, first_name="王五")
    accounts.account_update(actor=None, user=people.inst_a, first_name="张三")
    services.role_grant(actor=people.inst_a, user=people.station_a1, role=Role.VIEWER, unit=tree.a2)
    client.force_login(people.inst_a)
    html = client.get(reverse("admin:stations_roleassignment_changelist")).content.decode()
    assert "王五（甲一村站）" in html and "张三（甲镇所）" in html


def test_a_role_is_revoked_from_the_role_list_by_the_rule(client, tree, people):
    only = RoleAssignment.objects.get(user=people.station_a1)
    delete = reverse("admin:stations_roleassignment_delete", args=[only.pk])
    client.force_login(people.inst_a)
    response = client.post(delete, {"post": "yes"}, follow=True)
    assert _("This is the account's last role; deactivate the account instead.") in response.content.decode()
    assert RoleAssignment.objects.filter(pk=only.pk).exists()
    services.role_grant(actor=None, user=people.station_a1, role=Role.VIEWER, unit=tree.a2)
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not RoleAssignment.objects.filter(pk=only.pk).exists()
    client.force_login(people.inst_b)
    other = RoleAssignment.objects.get(user=people.station_a1)
    assert (
        client.post(
            reverse("admin:stations_roleassignment_delete", args=[other.pk]), {"post": "yes"}
        ).status_code
        == 404
    )


def test_a_role_of_an_account_beyond_is_not_revocable_from_the_role_list(client, tree, people):
    both = make_user("both", role=Role.STATION_ADMIN, unit=tree.a1)
    services.role_grant(actor=None, user=both, role=Role.VIEWER, unit=tree.b1)
    row = RoleAssignment.objects.get(user=both, unit=tree.a1)
    client.force_login(people.inst_a)
    assert (
        client.post(
            reverse("admin:stations_roleassignment_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert RoleAssignment.objects.filter(pk=row.pk).exists()


def test_the_inspection_list_names_the_inspector_by_name_and_unit(client, tree, people, reference):
    accounts.account_update(actor=None, user=people.inst_a, first_name="张三")
    services.inspection_record(
        actor=people.inst_a, unit=tree.a1, checklist=reference.checklist, inspected_on="2026-11-02"
    )
    client.force_login(people.county)
    html = client.get(reverse("admin:stations_inspection_changelist")).content.decode()
    assert "张三（甲镇所）" in html
