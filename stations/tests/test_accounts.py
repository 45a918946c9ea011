"""Staff accounts managed from one level up: the rule (kernel.accounts, stations.accounts), its services.

Messages that are new are compared with their catalogue entry (gettext of the English source), so the
tests hold before and after the Chinese is added; Django's and existing messages are compared in Chinese.
"""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.utils.translation import gettext as _

from kernel import accounts
from kernel.testing import assert_refused
from stations import accounts as staff
from stations.models import Role, RoleAssignment, UnitKind, short_unit_name
from stations.people import person_label, prefetch_people, roles_summary
from stations.tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Cun-zhan-2026!"
OUTSIDE = "This account is outside the accounts you manage."
BELOW_OWN = "You may only grant roles below your own level."
NOT_HERE = "您不能在该单位授予角色。"
KIND_STATION = _("A %(role)s is granted on a %(kind)s.") % {
    "role": Role.STATION_ADMIN.label,
    "kind": UnitKind.STATION.label,
}


def manageable(actor) -> set[str]:
    return set(accounts.manageable_accounts(actor).values_list("username", flat=True))


def create(actor, **changes):
    data = dict(
        username="a1_new",
        real_name="王小明",
        password=NEW_PASSWORD,
        role=Role.STATION_ADMIN,
        unit=None,
    )
    data.update(changes)
    return staff.staff_account_create(actor=actor, **data)


# --- Who manages whom -----------------------------------------------------------------------------


def test_an_institute_admin_manages_exactly_the_accounts_below_it(tree, people):
    assert manageable(people.inst_a) == {"station_a1"}
    assert manageable(people.inst_b) == set()
    # The county manages the township and village admins, not its own peers or the viewer on the center.
    assert manageable(people.county) == {"inst_a", "inst_b", "station_a1"}
    assert manageable(people.station_a1) == set() and not accounts.manages_accounts(people.station_a1)
    assert manageable(people.viewer) == set() and manageable(people.nobody) == set()


def test_an_account_with_a_role_elsewhere_is_nobody_s_below(tree, people):
    both = make_user("both", role=Role.STATION_ADMIN, unit=tree.a1)
    staff.services.role_grant(actor=None, user=both, role=Role.VIEWER, unit=tree.b1)
    assert "both" not in manageable(people.inst_a) | manageable(people.inst_b)
    assert "both" in manageable(people.county)
    # A role on the actor's own unit is beyond it as well: a peer is not managed.
    peer = make_user("peer", role=Role.STATION_ADMIN, unit=tree.a1)
    staff.services.role_grant(actor=None, user=peer, role=Role.VIEWER, unit=tree.a)
    assert "peer" not in manageable(people.inst_a)


def test_nobody_but_a_superuser_manages_a_superuser(tree, people, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    staff.services.role_grant(actor=None, user=root, role=Role.STATION_ADMIN, unit=tree.a1)
    assert "root" not in manageable(people.inst_a) | manageable(people.county)
    assert not accounts.may_manage(people.county, root)
    other_root = django_user_model.objects.create_superuser("root2", password=TEST_PASSWORD)
    assert accounts.may_manage(other_root, root) and "root" in manageable(other_root)


def test_an_inactive_admin_manages_nothing(tree, people):
    accounts.account_deactivate(actor=people.county, user=people.inst_a)
    people.inst_a.refresh_from_db()
    assert manageable(people.inst_a) == set() and not accounts.manages_accounts(people.inst_a)


def test_the_roles_one_may_grant_are_below_one_s_own_level(tree, people):
    assert staff.grantable_roles(actor=people.inst_a) == [Role.STATION_ADMIN, Role.VIEWER]
    assert staff.grantable_roles(actor=people.county) == [
        Role.INSTITUTE_ADMIN,
        Role.STATION_ADMIN,
        Role.VIEWER,
    ]
    assert staff.grantable_roles(actor=people.station_a1) == []
    assert set(staff.grantable_units(actor=people.inst_a)) == {tree.a1, tree.a2}  # no points, not A


# --- Creating an account with its first role ---------------------------------------------------------


def test_an_institute_admin_creates_a_station_admin_with_its_role(tree, people):
    user = create(people.inst_a, unit=tree.a1)
    assert (user.first_name, user.is_staff, user.is_superuser) == ("王小明", True, False)
    assert list(user.roles.values_list("role", "unit", "granted_by")) == [
        (Role.STATION_ADMIN, tree.a1.pk, people.inst_a.pk)
    ]
    assert authenticate(username="a1_new", password=NEW_PASSWORD) == user
    assert "a1_new" in manageable(people.inst_a) and "a1_new" not in manageable(people.inst_b)


@pytest.mark.parametrize(
    ("who", "changes", "field", "message"),
    [
        ("inst_a", {"role": Role.INSTITUTE_ADMIN, "unit": "a"}, "role", _(BELOW_OWN)),
        ("inst_a", {"role": Role.VIEWER, "unit": "a"}, "unit", NOT_HERE),  # its own unit
        ("inst_a", {"unit": "b1"}, "unit", NOT_HERE),  # the other township
        ("inst_b", {"unit": "a1"}, "unit", NOT_HERE),
        ("inst_a", {"unit": "a"}, "unit", KIND_STATION),
        ("station_a1", {"role": Role.VIEWER, "unit": "a1a"}, "role", _(BELOW_OWN)),
        ("county", {"role": Role.COUNTY_ADMIN, "unit": "center"}, "role", _(BELOW_OWN)),
        (
            "inst_a",
            {"role": None, "unit": None},
            "role",
            _("Choose the role of the new account and its unit."),
        ),
        ("inst_a", {"unit": "a1", "real_name": "  "}, "first_name", _("Enter the person's real name.")),
        ("inst_a", {"unit": "a1", "username": "station_a1"}, "username", "该账号已存在。"),
        ("inst_a", {"unit": "a1", "username": "Station_A1"}, "username", "该账号已存在。"),
        ("inst_a", {"unit": "a1", "password": "12345678"}, "password", "该密码过于常见。"),
    ],
)
def test_creating_an_account_is_refused_outside_the_rule(tree, people, who, changes, field, message):
    if isinstance(changes.get("unit"), str):
        changes["unit"] = getattr(tree, changes["unit"])
    before = get_user_model().objects.count()
    assert_refused(create, getattr(people, who), field=field, message=message, **changes)
    assert get_user_model().objects.count() == before


def test_only_a_system_administrator_creates_an_account_without_a_role(tree, people, django_user_model):
    message = _("Only a system administrator may create an account without a role.")
    assert_refused(
        accounts.account_create,
        field=None,
        message=message,
        actor=people.inst_a,
        username="loose",
        real_name="散户",
        password=NEW_PASSWORD,
    )
    root = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    user = create(root, username="loose", role=None, unit=None)
    assert not user.roles.exists()


# --- Editing, deactivating, resetting the password -------------------------------------------------------


def test_the_managing_admin_edits_the_real_name_and_email(tree, people):
    accounts.account_update(
        actor=people.inst_a, user=people.station_a1, first_name="李四", email="lisi@example.org"
    )
    people.station_a1.refresh_from_db()
    assert (people.station_a1.first_name, people.station_a1.email) == ("李四", "lisi@example.org")


@pytest.mark.parametrize(
    ("who", "target", "fields", "field", "message"),
    [
        ("inst_b", "station_a1", {"first_name": "改"}, None, _(OUTSIDE)),
        ("inst_a", "inst_a", {"first_name": "改"}, None, _(OUTSIDE)),  # not oneself
        ("inst_a", "inst_b", {"email": "x@example.org"}, None, _(OUTSIDE)),
        ("station_a1", "station_a1", {"first_name": "改"}, None, _(OUTSIDE)),
        (
            "inst_a",
            "station_a1",
            {"is_superuser": True},
            "is_superuser",
            _("Only a system administrator may change this."),
        ),
        (
            "inst_a",
            "station_a1",
            {"is_staff": False},
            "is_staff",
            _("Only a system administrator may change this."),
        ),
        (
            "inst_a",
            "station_a1",
            {"username": "x"},
            "username",
            _("Only a system administrator may change this."),
        ),
        ("inst_a", "station_a1", {"groups": []}, "groups", _("Only a system administrator may change this.")),
        ("inst_a", "station_a1", {"first_name": " "}, "first_name", _("Enter the person's real name.")),
        ("inst_a", "station_a1", {"email": "not-an-email"}, "email", "请输入有效的电子邮箱地址。"),
    ],
)
def test_editing_an_account_is_refused_outside_the_rule(tree, people, who, target, fields, field, message):
    user = getattr(people, target)
    assert_refused(
        accounts.account_update, field=field, message=message, actor=getattr(people, who), user=user, **fields
    )
    user.refresh_from_db()
    assert not user.is_superuser and user.first_name == "" and user.email == ""


def test_deactivating_stops_the_login_and_reactivating_restores_it(tree, people, client):
    accounts.account_deactivate(actor=people.inst_a, user=people.station_a1)
    assert not client.login(username="station_a1", password=TEST_PASSWORD)
    assert "station_a1" in manageable(people.inst_a)  # still inst_a's, to reactivate
    accounts.account_reactivate(actor=people.inst_a, user=people.station_a1)
    assert client.login(username="station_a1", password=TEST_PASSWORD)
    assert people.station_a1.roles.count() == 1


@pytest.mark.parametrize("service", [accounts.account_deactivate, accounts.account_reactivate])
@pytest.mark.parametrize(
    ("who", "target"), [("inst_b", "station_a1"), ("inst_a", "inst_a"), ("inst_a", "county")]
)
def test_deactivating_is_refused_outside_the_rule(tree, people, service, who, target):
    user = getattr(people, target)
    assert_refused(service, field=None, message=_(OUTSIDE), actor=getattr(people, who), user=user)
    user.refresh_from_db()
    assert user.is_active


def test_the_managing_admin_resets_the_password(tree, people, client):
    accounts.account_password_set(actor=people.inst_a, user=people.station_a1, password=NEW_PASSWORD)
    assert client.login(username="station_a1", password=NEW_PASSWORD)


@pytest.mark.parametrize(
    ("who", "password", "field", "message"),
    [
        ("inst_b", NEW_PASSWORD, None, _(OUTSIDE)),
        ("county", NEW_PASSWORD, None, _(OUTSIDE)),  # the county does not reach the viewer on its center
        ("inst_a", "password", "password1", "该密码过于常见。"),
        ("inst_a", None, "password1", _("Only a system administrator may change this.")),
    ],
)
def test_resetting_a_password_is_refused_outside_the_rule(tree, people, who, password, field, message):
    target = people.viewer if who == "county" else people.station_a1
    assert_refused(
        accounts.account_password_set,
        field=field,
        message=message,
        actor=getattr(people, who),
        user=target,
        password=password,
    )
    target.refresh_from_db()
    assert target.check_password(TEST_PASSWORD)


# --- Granting and revoking roles ----------------------------------------------------------------------


def test_granting_and_revoking_roles_on_an_account_one_manages(tree, people):
    second = staff.staff_role_grant(
        actor=people.inst_a, user=people.station_a1, role=Role.VIEWER, unit=tree.a2
    )
    assert second.granted_by == people.inst_a
    first = RoleAssignment.objects.get(user=people.station_a1, role=Role.STATION_ADMIN)
    staff.staff_role_revoke(actor=people.inst_a, assignment=first)
    people.station_a1.refresh_from_db()
    assert list(people.station_a1.roles.values_list("role", flat=True)) == [Role.VIEWER]
    assert not people.station_a1.is_staff  # the staff flag follows the admin roles


@pytest.mark.parametrize(
    ("who", "target", "role", "unit", "field", "message"),
    [
        ("inst_a", "station_a1", Role.VIEWER, "a", "unit", NOT_HERE),  # its own unit
        ("inst_a", "station_a1", Role.VIEWER, "b1", "unit", NOT_HERE),  # the other township
        ("inst_a", "station_a1", Role.INSTITUTE_ADMIN, "a", "role", _(BELOW_OWN)),
        ("inst_b", "station_a1", Role.VIEWER, "b1", "user", _(OUTSIDE)),  # not inst_b's account
        ("inst_a", "nobody", Role.VIEWER, "a1", "user", _(OUTSIDE)),  # nobody's account, not inst_a's
        ("inst_a", "inst_b", Role.VIEWER, "a1", "user", _(OUTSIDE)),
        ("county", "inst_a", Role.COUNTY_ADMIN, "center", "role", _(BELOW_OWN)),
        ("station_a1", "station_a1", Role.VIEWER, "a1a", "user", _(OUTSIDE)),
    ],
)
def test_granting_is_refused_outside_the_rule(tree, people, who, target, role, unit, field, message):
    user = getattr(people, target)
    before = user.roles.count()
    assert_refused(
        staff.staff_role_grant,
        field=field,
        message=message,
        actor=getattr(people, who),
        user=user,
        role=role,
        unit=getattr(tree, unit),
    )
    assert user.roles.count() == before


def test_an_account_s_last_role_stays_deactivate_it_instead(tree, people, django_user_model):
    only = RoleAssignment.objects.get(user=people.station_a1)
    assert_refused(
        staff.staff_role_revoke,
        field=None,
        message=_("This is the account's last role; deactivate the account instead."),
        actor=people.inst_a,
        assignment=only,
    )
    assert_refused(
        staff.staff_role_revoke, field="user", message=_(OUTSIDE), actor=people.inst_b, assignment=only
    )
    assert RoleAssignment.objects.filter(pk=only.pk).exists()
    # A system administrator may leave an account without roles.
    root = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    staff.staff_role_revoke(actor=root, assignment=only)
    assert not RoleAssignment.objects.filter(pk=only.pk).exists()


def test_a_revoke_of_a_row_gone_meanwhile_is_a_refusal(tree, people):
    second = staff.staff_role_grant(
        actor=people.inst_a, user=people.station_a1, role=Role.VIEWER, unit=tree.a2
    )
    RoleAssignment.objects.filter(pk=second.pk).delete()
    assert_refused(
        staff.staff_role_revoke,
        field=None,
        message="该记录已不存在，请刷新页面。",
        actor=people.inst_a,
        assignment=second,
    )


# --- People as the portal shows them --------------------------------------------------------------------


def test_a_person_is_shown_by_real_name_and_the_unit_of_the_highest_role(tree, people):
    assert short_unit_name("双溪街道新时代文明实践所") == "双溪街道所"
    assert person_label(people.inst_a) == "inst_a（甲镇所）"  # no real name yet: the login name
    accounts.account_update(actor=None, user=people.station_a1, first_name="张三")
    staff.services.role_grant(actor=None, user=people.station_a1, role=Role.INSTITUTE_ADMIN, unit=tree.b)
    staff.services.role_grant(actor=None, user=people.station_a1, role=Role.VIEWER, unit=tree.center)
    user = get_user_model().objects.get(pk=people.station_a1.pk)
    prefetch_people([user])
    assert person_label(user) == "张三（乙镇所）"  # an admin role before a viewer's, the higher first
    assert (
        roles_summary(user) == "文明实践所管理员：乙镇所；文明实践站管理员：甲一村站；数据查看员：顺昌县中心"
    )
    assert person_label(people.nobody) == "nobody" and person_label(None) == ""


def test_labels_of_many_people_take_one_query(tree, people, django_assert_num_queries):
    users = list(get_user_model().objects.all())
    with django_assert_num_queries(1):
        prefetch_people(users)
        labels = {person_label(user) for user in users}
    assert "county（顺昌县中心）" in labels
