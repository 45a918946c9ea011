"""The forms of the activities' public pages: the list's filters."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from stations.models import Platform, Unit, UnitKind


class NamedChoices(forms.models.ModelChoiceIterator):
    """A choice field's options as (pk, name) pairs read in one plain query: no model per option and no
    server-side cursor (what the default iterator opens on PostgreSQL, three round trips)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list("pk", "name")


class PlainSelect(forms.Select):
    """A select whose options are written in Python, not through a template each: the list's two selects
    hold a county's domains and townships, a couple of hundred options on every load of a public page."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, " selected" if str(key) in selected else "", label) for key, label in self.choices),
        )
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs, options)


class NamedChoiceField(forms.ModelChoiceField):
    """A model choice of a queryset whose rows are named by their `name` (their `__str__`)."""

    iterator = NamedChoices
    widget = PlainSelect


class ActivityFilterForm(forms.Form):
    domain = NamedChoiceField(
        label=_("Service domain"), queryset=Platform.objects.order_by("name", "id"), required=False
    )
    # The centers and institutes (townships): a handful per county, where every unit would be thousands
    # of options on each load at city scale. An institute's activities include its stations' and points'.
    unit = NamedChoiceField(
        label=_("Unit"),
        queryset=Unit.objects.filter(kind__in=(UnitKind.CENTER, UnitKind.INSTITUTE))
        .order_by("path")
        .only("id", "name", "path"),
        required=False,
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    open = forms.BooleanField(label=_("Open for sign-up"), required=False)

    def filters(self) -> dict:
        """The valid filters (an invalid one is left out)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, False, "")}
