"""The forms of the activities' public pages: the list's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from stations.models import Platform, Unit, UnitKind


class ActivityFilterForm(forms.Form):
    domain = forms.ModelChoiceField(
        label=_("Service domain"), queryset=Platform.objects.order_by("name", "id"), required=False
    )
    # The centers and institutes (townships): a handful per county, where every unit would be thousands
    # of options on each load at city scale. An institute's activities include its stations' and points'.
    unit = forms.ModelChoiceField(
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
