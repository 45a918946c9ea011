"""The form mixin that shows a service's refusal where it belongs, for pages of every app."""

import pytest
from django import forms
from django.utils import timezone

from kernel.errors import ApplicationError
from kernel.forms import ServiceFormMixin
from kernel.models import RunLock


class NameForm(ServiceFormMixin, forms.Form):
    name = forms.CharField()


def _write_then_refuse(*, name):
    now = timezone.now()
    RunLock.objects.create(key=name, owner="form-test", acquired_at=now, expires_at=now)  # a write to undo
    raise ApplicationError("名称已被占用。", field="name", extra={"non_field_errors": ["请换一个。"]})


@pytest.mark.django_db
def test_run_service_turns_a_refusal_into_form_errors_and_undoes_the_write():
    form = NameForm({"name": "甲"})
    assert form.is_valid()
    assert form.run_service(_write_then_refuse, name="甲") is None
    assert form.errors == {"name": ["名称已被占用。"], "__all__": ["请换一个。"]}
    assert not RunLock.objects.exists()


@pytest.mark.django_db
def test_run_service_returns_what_the_service_returns():
    form = NameForm({"name": "乙"})
    assert form.is_valid()
    assert form.run_service(lambda *, name: name * 2, name="乙") == "乙乙"
    assert not form.errors


def test_a_refusal_passed_in_shows_on_its_field():
    form = type("Refused", (NameForm,), {"service_error": ApplicationError("名称已被占用。", field="name")})
    bound = form({"name": "丙"})
    assert not bound.is_valid()
    assert bound.errors == {"name": ["名称已被占用。"]}
