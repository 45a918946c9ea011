"""Test factories for the unit tree. Units are made through the service so their paths are right."""

import itertools

from django.contrib.auth import get_user_model

from stations import services
from stations.models import Checklist, ChecklistItem, Platform, Unit, UnitKind

_codes = itertools.count(1)


def make_unit(kind: str, parent: Unit | None = None, name: str | None = None, **fields) -> Unit:
    number = next(_codes)
    return services.unit_create(
        actor=None,
        kind=kind,
        name=name or f"{UnitKind(kind).label}{number}",
        code=fields.pop("code", f"T{number:06d}"),
        parent=parent,
        **fields,
    )


def make_user(username: str, *, role: str | None = None, unit: Unit | None = None, **fields):
    user = get_user_model().objects.create_user(username=username, password="pass-for-tests-1", **fields)
    if role:
        services.role_grant(actor=None, user=user, role=role, unit=unit)
    return user


def make_platform(center: Unit, code: str, name: str | None = None) -> Platform:
    return Platform.objects.create(
        center=center, code=code, name=name or code, responsible_department="宣传部"
    )


def make_checklist(
    center: Unit, kind: str = UnitKind.STATION, items=("有统一标识", "有固定场所", "有学习书籍")
):
    checklist = Checklist.objects.create(center=center, name=f"标准{next(_codes)}", unit_kind=kind)
    for order, text in enumerate(items):
        ChecklistItem.objects.create(checklist=checklist, order=order, text=text, weight=1)
    return checklist
