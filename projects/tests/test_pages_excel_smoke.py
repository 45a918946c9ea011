"""Smoke tests of the projects pages and the key-list Excel round trip (written late; to be split)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import gettext

from kernel.errors import ApplicationError
from projects import excel, services


@pytest.mark.django_db
def test_pages_and_round_trip(client, tree, people):
    project = services.project_create(actor=people.inst_a, unit=tree.a, name="红马甲")
    draft = services.project_create(actor=people.inst_a, unit=tree.a, name="草稿项目")
    services.project_transition(actor=people.inst_a, project=project, to="published")
    body = client.get(reverse("projects:list")).content.decode()
    assert f'id="project-{project.pk}"' in body and f'id="project-{draft.pk}"' not in body
    assert client.get(reverse("projects:detail", args=[draft.pk])).status_code == 404
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    month = plan.months.get(month=3)
    services.key_month_update(
        actor=people.inst_a,
        month=month,
        theme="学雷锋志愿服务月",
        projects=[project],
        responsible_units=[tree.a1],
    )
    page = client.get(reverse("projects:key-list", args=[plan.pk])).content.decode()
    assert "学雷锋志愿服务月" in page and "红马甲" in page
    # The library links the lists, latest year first.
    older = services.key_list_create(actor=people.inst_b, unit=tree.b, year=2025)
    links = client.get(reverse("projects:list")).content.decode()
    listed = [reverse("projects:key-list", args=[pk]) for pk in (plan.pk, older.pk)]
    assert 'id="key-lists"' in links and links.index(listed[0]) < links.index(listed[1])
    data = excel.key_list_export(plan)
    other = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2027)
    excel.key_list_import(actor=people.inst_a, plan=other, upload=SimpleUploadedFile("l.xlsx", data))
    imported = other.months.get(month=3)
    assert imported.theme == "学雷锋志愿服务月"
    assert list(imported.projects.all()) == [project] and list(imported.responsible_units.all()) == [tree.a1]
    with pytest.raises(ApplicationError) as refused:
        excel.key_list_import(actor=people.inst_a, plan=other, upload=SimpleUploadedFile("l.csv", b"x"))
    assert refused.value.field == "file"
    with pytest.raises(ApplicationError):
        excel.key_list_import(actor=people.inst_b, plan=other, upload=SimpleUploadedFile("l.xlsx", data))


@pytest.mark.django_db
def test_bad_row_refuses_whole_file(tree, people):
    from openpyxl import Workbook

    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    book = Workbook()
    book.active.append(excel.HEADERS)
    for month in range(1, 13):
        book.active.append([month, f"主题{month}", "", "不存在的项目" if month == 5 else "", "", ""])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ApplicationError) as refused:
        excel.key_list_import(
            actor=people.inst_a, plan=plan, upload=SimpleUploadedFile("l.xlsx", out.getvalue())
        )
    # The bad row is the sixth of the file: the message starts with the row's number.
    row_part = gettext("Row %(row)d, column %(column)s: %(message)s").split("%(column)s")[0] % {"row": 6}
    assert refused.value.extra["rows"][0].startswith(row_part)
    assert not plan.months.exclude(theme="").exists()


def _published(people, unit, name):
    project = services.project_create(actor=people.inst_a, unit=unit, name=name)
    return services.project_transition(actor=people.inst_a, project=project, to="published")


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 30])
def test_the_library_and_the_grid_take_the_same_queries_for_1_and_30_projects(
    client, tree, people, count, django_assert_num_queries
):
    projects = [_published(people, tree.a, f"项目{number}") for number in range(count)]
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    for month in plan.months.all():
        services.key_month_update(
            actor=people.inst_a, month=month, theme="主题", projects=projects, responsible_units=[tree.a1]
        )
    # the count, the county's name, the key-project lists, the domains, the page's projects
    with django_assert_num_queries(5):
        body = client.get(reverse("projects:list")).content.decode()
    assert body.count('id="project-') == count
    with django_assert_num_queries(4):
        grid = client.get(reverse("projects:key-list", args=[plan.pk])).content.decode()
    assert grid.count("项目0") == 12
