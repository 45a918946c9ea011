"""The awards admin: scoped by the giving unit. Township B's admin does not see township A's awards (404),
cannot give an award to A's volunteer (the form says why and nothing is saved), and an award is given and
revoked through the services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from awards.models import Award
from awards.tests.factories import kind
from kernel.testing import changelist_pks
from stations.scoping import forget_scope

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:awards_award_changelist")
ADD = reverse("admin:awards_award_add")


def change_url(award):
    return reverse("admin:awards_award_change", args=[award.pk])


def _form(giving_unit, **recipient):
    data = {
        "giving_unit": giving_unit.pk,
        "year": 2026,
        "kind": kind("五星志愿者").pk,
        "citation": "时长超过1500小时",
    }
    data.update({name: value.pk for name, value in recipient.items()})
    return data


@pytest.mark.parametrize(
    ("who", "expected"),
    [("county", {"a", "b", "team_award"}), ("inst_a", {"a", "team_award"}), ("inst_b", {"b"})],
)
def test_the_list_is_the_scope(client, people, honours, who, expected):
    client.force_login(getattr(people, who))
    assert changelist_pks(client, CHANGELIST) == {getattr(honours, name).pk for name in expected}


def test_another_townships_award_is_404(client, people, honours):
    client.force_login(people.inst_b)
    assert client.get(change_url(honours.a)).status_code == 404
    assert client.post(change_url(honours.a), {"citation": "改", "revoke_reason": "x"}).status_code == 404
    honours.a.refresh_from_db()
    assert (honours.a.citation, honours.a.revoked_at) == ("入户走访独居老人", None)


def test_another_townships_volunteer_is_refused(client, tree, people, honours):
    client.force_login(people.inst_b)
    before = Award.objects.count()
    response = client.post(ADD, _form(tree.b, volunteer=honours.shown))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "volunteer": [_("Choose a volunteer inside the giving unit's area.")]
    }
    assert Award.objects.count() == before


def test_giving_from_another_townships_unit_is_refused(client, tree, people, honours):
    client.force_login(people.inst_b)
    response = client.post(ADD, _form(tree.a, volunteer=honours.shown))
    assert response.status_code == 200
    assert "giving_unit" in response.context["adminform"].form.errors
    assert not Award.objects.filter(kind__name="五星志愿者").exists()


def test_an_award_is_given_and_revoked_in_the_admin(client, tree, people, honours):
    client.force_login(people.inst_a)
    response = client.post(ADD, _form(tree.a, volunteer=honours.shown))
    assert response.status_code == 302, response.context["adminform"].form.errors
    award = Award.objects.get(kind__name="五星志愿者")
    assert (award.volunteer, award.giving_unit, award.created_by) == (honours.shown, tree.a, people.inst_a)
    assert client.get(change_url(award)).status_code == 200
    response = client.post(change_url(award), {"citation": "时长超过1500小时", "revoke_reason": "重复申报"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert (award.revoke_reason, award.revoked_by) == ("重复申报", people.inst_a)


def test_the_volunteer_is_picked_by_search(client, people, honours):
    client.force_login(people.inst_a)
    html = client.get(ADD).content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in html
    assert "王大力" not in html  # no list of every volunteer in the page


def test_award_kinds_are_for_county_admins(client, people, honours):
    url = reverse("admin:awards_awardkind_changelist")
    client.force_login(people.inst_a)
    assert client.get(url).status_code == 403
    client.force_login(people.county)
    assert client.get(url).status_code == 200


def test_the_changelist_takes_the_same_queries_for_1_and_50_rows(client, tree, people, honours):
    Award.objects.exclude(pk=honours.a.pk).delete()
    client.force_login(people.inst_a)

    def count():
        forget_scope(people.inst_a)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST)
            assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    count()  # the first page of a session also reads the county's name, which is then cached
    few, few_rows = count()
    assert few_rows == 1
    # Every kind of recipient, so each column's lookups are on the page.
    recipients = [
        {"volunteer": honours.shown},
        {"team": honours.team_award.team},
        {"unit": tree.a1},
    ]
    Award.objects.bulk_create(
        Award(year=2030 + n, kind=honours.a.kind, giving_unit=tree.a1, **recipients[n % 3]) for n in range(60)
    )
    many, many_rows = count()
    assert many_rows == 50
    assert many == few, (few, many)
