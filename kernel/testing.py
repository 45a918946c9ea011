"""Helpers for the tests of every app."""

import pytest

from .errors import ApplicationError


def refusal(call, /, *args, **kwargs) -> ApplicationError:
    """The ApplicationError that `call(*args, **kwargs)` raises (the test fails if it raises none)."""
    with pytest.raises(ApplicationError) as caught:
        call(*args, **kwargs)
    return caught.value


def assert_refused(call, /, *args, field: str | None, message: str, **kwargs) -> ApplicationError:
    """`call(*args, **kwargs)` is refused on `field` with exactly `message` (as the user reads it)."""
    error = refusal(call, *args, **kwargs)
    actual = (error.field, str(error.message))
    assert actual == (field, message), f"refused with {actual!r}, expected {(field, message)!r}"
    return error


def assert_refused_unchanged(snapshot, call, /, *args, field: str | None, message: str, **kwargs):
    """`assert_refused`, and `snapshot()` (the rows the call could touch) reads the same after it."""
    before = snapshot()
    error = assert_refused(call, *args, field=field, message=message, **kwargs)
    assert snapshot() == before, "a refused call changed what it must leave alone"
    return error


def messages_of(response) -> list[str]:
    """The messages (django.contrib.messages) a response's request left, as text."""
    from django.contrib.messages import get_messages

    return [str(message) for message in get_messages(response.wsgi_request)]


def changelist_pks(client, url: str, **query) -> set[int]:
    """The ids an admin change list at `url` shows for `query` (a 200 is asserted)."""
    response = client.get(url, query)
    assert response.status_code == 200, (url, query)
    return {row.pk for row in response.context["cl"].result_list}
