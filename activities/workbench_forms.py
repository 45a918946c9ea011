"""The workbench's form: an activity's report. It checks the shape; services.report_submit the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kernel.forms import ServiceFormMixin


class ReportForm(ServiceFormMixin, forms.Form):
    text = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 8}))
    people_served = forms.IntegerField(label=_("People served"), min_value=0, max_value=1_000_000)
