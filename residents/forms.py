"""The residents' public forms: a request (点单) and its rating (评单). They check the shape of the input;
the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from kernel.forms import ServiceFormMixin
from stations.models import Platform

from .services import requestable_units


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, unit):
        return f"{'　' * unit.depth}{unit.name}"


class _Styled:
    """Bootstrap's classes on the widgets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-lg")
            else:
                widget.attrs.setdefault("class", "form-control form-control-lg")


class RequestForm(_Styled, ServiceFormMixin, forms.Form):
    resident_name = forms.CharField(
        label=_("Your name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_("The team calls you on it. Only the dispatcher and the team serving you see it whole."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    unit = UnitChoiceField(
        label=_("Where the service is wanted"),
        queryset=requestable_units().order_by("path"),
        empty_label=_("Choose a center, institute, station or point"),
    )
    domain = forms.ModelChoiceField(
        label=_("Kind of service"),
        queryset=Platform.objects.filter(is_active=True).order_by("center", "order", "id"),
        required=False,
        empty_label=_("Not sure"),
    )
    description = forms.CharField(
        label=_("What do you need?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For example: a talk on the new medical insurance rules for the elderly of our village."),
    )
    # A field people never see: a form that fills it in is a robot's.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )


class RatingForm(_Styled, ServiceFormMixin, forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the service?"),
        choices=[
            (n, ngettext_lazy("%(count)d star", "%(count)d stars", "count") % {"count": n})
            for n in range(5, 0, -1)
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
