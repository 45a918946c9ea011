"""factory_boy factories for the unit tree. Units and roles are made through the services, so paths,
depths and staff flags are right; `make_*` are the short forms the tests use."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from stations import services
from stations.models import Checklist, ChecklistItem, Platform, Unit, UnitKind

TEST_PASSWORD = "pass-for-tests-1"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    kind = UnitKind.STATION
    name = factory.LazyAttributeSequence(lambda unit, n: f"{UnitKind(unit.kind).label}{n}")
    code = factory.Sequence(lambda n: f"T{n:06d}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        for key in ("longitude", "latitude"):
            if isinstance(kwargs.get(key), float):  # as a form would give it
                kwargs[key] = Decimal(str(kwargs[key]))
        return services.unit_create(actor=None, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(user, create, extracted, **kwargs):
        if create:
            user.save()


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform

    code = factory.Sequence(lambda n: f"platform{n}")
    name = factory.LazyAttribute(lambda platform: platform.code)
    responsible_department = "宣传部"


class ChecklistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChecklistItem

    order = factory.Sequence(int)
    text = factory.Sequence(lambda n: f"标准条目{n}")
    weight = 1


class ChecklistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Checklist

    name = factory.Sequence(lambda n: f"标准{n}")
    unit_kind = UnitKind.STATION


def make_unit(kind: str, parent: Unit | None = None, name: str | None = None, **fields) -> Unit:
    if name is not None:
        fields["name"] = name
    return UnitFactory(kind=kind, parent=parent, **fields)


def make_user(username: str, *, role: str | None = None, unit: Unit | None = None, **fields):
    user = UserFactory(username=username, **fields)
    if role:
        services.role_grant(actor=None, user=user, role=role, unit=unit)
    return user


def make_platform(center: Unit, code: str, name: str | None = None) -> Platform:
    return PlatformFactory(center=center, code=code, **({"name": name} if name else {}))


def make_checklist(
    center: Unit, kind: str = UnitKind.STATION, items=("有统一标识", "有固定场所", "有学习书籍")
):
    checklist = ChecklistFactory(center=center, unit_kind=kind)
    for order, text in enumerate(items):
        ChecklistItemFactory(checklist=checklist, order=order, text=text)
    return checklist
