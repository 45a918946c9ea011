"""REST plumbing shared by every app: pagination, strict filters, the fast list path, the error format."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.db.models import OuterRef
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import BooleanFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, filters, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError

MAX_ID = 2**63 - 1  # the largest bigint: a larger id is refused before it reaches the database


@extend_schema_field(OpenApiTypes.INT)
class IdField(serializers.PrimaryKeyRelatedField):
    """An id among the rows `queryset_for(user)` holds: any other is refused as one that does not exist,
    with the same message, so an answer never tells a row outside the caller's scope from a missing one."""

    def __init__(self, queryset_for, **kwargs):
        self.queryset_for = queryset_for
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.queryset_for(request.user) if request is not None else None

    def to_internal_value(self, data):
        if isinstance(data, bool) or not str(data).isdigit() or int(data) > MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def json_datetime(moment) -> str:
    """A datetime as the API writes it everywhere (DRF's encoder: UTC as "Z"), made while the rows are
    built rather than in the encoder's fallback, once per value."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class StrictPageSize:
    """`page_size` is a whole number within the limit, or a 400: never silently the default."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        name = self.page_size_query_param
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {name: [_("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}]}
            )
        return int(raw)


class Pagination(StrictPageSize, pagination.PageNumberPagination):
    """Numbered pages with a total: for small lists (reference data) where counting costs nothing."""


class CursorPagination(StrictPageSize, pagination.CursorPagination):
    """For lists that grow with the county: no COUNT over the whole scope, a stable walk in `ordering`
    (a unique column), the same cost for the first page and the thousandth."""


class StrictBooleanField(forms.Field):
    """true/false (also 1/0); anything else is an error, not "no filter"."""

    values = {"true": True, "1": True, "false": False, "0": False}
    default_error_messages = {"invalid": gettext_lazy("Give true or false.")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.values[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanFilter(BooleanFilter):
    field_class = StrictBooleanField


class OrderingFilter(filters.OrderingFilter):
    """An `ordering` the endpoint does not offer is a 400 naming what it does, not a silent default."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            terms = [term.strip() for term in params.split(",")]
            valid = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
            if any(term.lstrip("-") not in valid for term in terms):
                offered = ", ".join(sorted(valid))
                raise exceptions.ValidationError(
                    {self.ordering_param: [_("Order by one of: %(fields)s.") % {"fields": offered}]}
                )
        return super().get_ordering(request, queryset, view)


class FilterBackend(DjangoFilterBackend):
    """django-filter builds a whole FilterSet (a deep copy of every filter and its form field) for each
    request; a request that names none of the filters skips that and reads the list as it is."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not request.query_params.keys() & filterset_class.base_filters.keys():
            return queryset
        return super().filter_queryset(request, queryset, view)


def choice_labels(choices: type[models.Choices]) -> dict:
    """Value → label in the active language, made once per response instead of once per row."""
    return {value: str(label) for value, label in choices.choices}


class ValuesListMixin:
    """List and detail answers built from `.values()` rows: no model instances and no per-field
    serializer calls, choice labels looked up in a dict made once per response.

    `values_fields` maps each output key to its `.values()` path, in output order; `labels` maps an output
    key to (the output key holding the value, the choices); `converters` maps an output key to a function
    for its non-null values (a Decimal coordinate to a float, which the JSON encoder then writes without
    its slow fallback). `hidden_values` are read for the pagination or
    `row_transform` but not shown. The view's `serializer_class` documents the same shape for the schema,
    and a test holds the two together.
    """

    values_fields: dict[str, str] = {}
    labels: dict[str, tuple[str, type[models.Choices]]] = {}
    converters: dict[str, Callable] = {}
    hidden_values: tuple[str, ...] = ()

    def row_transform(self):
        """A per-response callable(row, item) that may change an output item (e.g. mask a phone)."""
        return None

    def values_queryset(self, queryset):
        return queryset.values(*dict.fromkeys([*self.values_fields.values(), *self.hidden_values]))

    def build_rows(self, rows) -> list[dict]:
        pairs = list(self.values_fields.items())
        label_maps = [(key, source, choice_labels(choices)) for key, (source, choices) in self.labels.items()]
        converters = list(self.converters.items())
        transform = self.row_transform()
        items = []
        for row in rows:
            item = {key: row[source] for key, source in pairs}
            for key, convert in converters:
                if item[key] is not None:
                    item[key] = convert(item[key])
            for key, source, mapping in label_maps:
                item[key] = mapping.get(item[source], item[source])
            if transform is not None:
                transform(row, item)
            items.append(item)
        return items

    def list(self, request, *args, **kwargs):
        queryset = self.values_queryset(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.build_rows(page))
        return Response(self.build_rows(queryset))

    def retrieve(self, request, *args, **kwargs):
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        row = self.values_queryset(self.get_queryset()).filter(**{self.lookup_field: lookup}).first()
        if row is None:
            raise Http404
        return Response(self.build_rows([row])[0])


class ListColumnsMixin:
    """Columns holding a list per row (a volunteer's domains, a team's leaders). On PostgreSQL each is an
    ARRAY(subquery) in the list's own query; elsewhere one more query for the whole page fills them.
    Either way the number of queries does not grow with the rows.

    `list_columns` maps an output key to a function of no arguments returning (a queryset of the related
    rows, the field pointing back at this row, the value shown), ordered as shown.
    """

    list_columns: dict = {}

    @staticmethod
    def _in_one_query() -> bool:
        return connection.vendor == "postgresql"

    def values_queryset(self, queryset):
        if self._in_one_query():
            from django.contrib.postgres.expressions import ArraySubquery

            queryset = queryset.annotate(
                **{
                    f"_list_{key}": ArraySubquery(related.filter(**{link: OuterRef("pk")}).values(value))
                    for key, (related, link, value) in ((k, f()) for k, f in self.list_columns.items())
                }
            )
        fields = {key: source for key, source in self.values_fields.items() if key not in self.list_columns}
        if self._in_one_query():
            fields.update({key: f"_list_{key}" for key in self.list_columns})
        return queryset.values(*dict.fromkeys([*fields.values(), *self.hidden_values, "id"]))

    def build_rows(self, rows) -> list[dict]:
        rows = list(rows)
        if not self._in_one_query() and rows:
            ids = [row["id"] for row in rows]
            for key, make in self.list_columns.items():
                related, link, value = make()
                found: dict[int, list] = {}
                for owner, item in related.filter(**{f"{link}__in": ids}).values_list(link, value):
                    found.setdefault(owner, []).append(item)
                for row in rows:
                    row[f"_list_{key}"] = found.get(row["id"], [])
        return super().build_rows(rows)


def exception_handler(exc, context):
    """Our ApplicationError and Django's ValidationError become a 400 with field messages, never a 500."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=400)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return drf_exception_handler(exc, context)
