"""The public honour rolls: a volunteer who chose so is shown by name and number, any other by a masked
name and no number; no ID number or phone reaches the page; a revoked award leaves it; the same queries
for 1 row and 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from awards import services
from awards.models import Award, AwardKind
from awards.selectors import mask_name
from kernel.errors import ApplicationError
from volunteers.models import Volunteer
from volunteers.services import volunteer_public_name_set
from volunteers.tests.factories import make_volunteer

pytestmark = pytest.mark.django_db


def test_mask_name():
    assert [mask_name(name) for name in ("林小明", "欧阳", "", "A")] == ["林**", "欧**", "**", "A**"]


def test_the_roll_shows_a_name_only_with_consent(client, honours):
    html = client.get(reverse("awards:year", args=[2026])).content.decode()
    assert "林小明" in html and honours.shown.number in html
    assert "王大力" not in html and "王**" in html and honours.masked.number not in html
    for secret in (*honours.id_numbers, *honours.phones, honours.shown.id_number_masked):
        assert secret not in html
    assert "<title>" in html and 'name="description"' in html


def test_the_index_shows_the_latest_year_and_links_the_others(client, honours):
    response = client.get(reverse("awards:honours"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "入户走访独居老人" in html and "甲一村志愿服务队" not in html  # 2025's is on its own page
    assert reverse("awards:year", args=[2025]) in html
    assert "甲一村志愿服务队" in client.get(reverse("awards:year", args=[2025])).content.decode()


def test_a_year_without_awards_is_404(client, honours):
    assert client.get(reverse("awards:year", args=[2019])).status_code == 404


def test_a_revoked_award_leaves_the_roll(client, people, honours):
    services.award_revoke(actor=people.county, award=honours.a, reason="事迹不实")
    assert "林小明" not in client.get(reverse("awards:year", args=[2026])).content.decode()


def test_opting_out_masks_the_name_on_the_next_visit(client, settings, honours):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    url = reverse("awards:year", args=[2026])
    assert "林小明" in client.get(url).content.decode()
    client.force_login(honours.shown.user)
    response = client.post(reverse("volunteers:me"), {"action": "public_name"})
    assert response.status_code == 302
    client.logout()
    client.cookies.clear()
    html = client.get(url).content.decode()
    assert "林小明" not in html and "林**" in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_rolls_read_the_same_queries_for_1_row_and_50(client, tree, honours):
    Award.objects.exclude(pk=honours.a.pk).delete()
    urls = [reverse("awards:honours"), reverse("awards:year", args=[2026])]
    _queries(client, urls[0])  # the county's name, cached after the first page
    one = [_queries(client, url) for url in urls]
    kinds = [
        AwardKind.objects.create(name=f"类别{n}", recipient_type="volunteer", order=100 + n)
        for n in range(10)
    ]
    volunteers = [make_volunteer(tree.a1, f"志愿{name}") for name in "甲乙丙丁戊"]
    Award.objects.bulk_create(
        Award(year=2026, kind=kind, volunteer=volunteer, giving_unit=tree.a)
        for kind in kinds
        for volunteer in volunteers
    )
    assert Award.objects.standing().filter(year=2026).count() == 51
    assert [_queries(client, url) for url in urls] == one


def test_only_the_volunteer_gives_or_takes_back_consent_to_show_their_name(people, honours):
    volunteer = Volunteer.objects.get(pk=honours.shown.pk)
    for actor in (people.county, None):
        with pytest.raises(ApplicationError):
            volunteer_public_name_set(actor=actor, volunteer=volunteer, shown=False)
        volunteer.refresh_from_db()
        assert volunteer.public_name is True
    volunteer_public_name_set(actor=volunteer.user, volunteer=volunteer, shown=False)
    volunteer.refresh_from_db()
    assert volunteer.public_name is False
