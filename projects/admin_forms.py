"""The forms of the projects admin. They check the shape of what is typed; the services check the rules
(scope, the lifecycle, the closing report, which projects and units a month may name) and their refusals
come back on these forms' fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kernel.forms import ServiceFormMixin
from stations.admin_scoping import ScopedAdminForm

from .models import KeyProjectList, KeyProjectMonth, Project

# What project_update takes; the unit is chosen once, when the project is added.
PROJECT_FIELDS = ("name", "domain", "description", "is_brand")
MONTH_FIELDS = ("theme", "key_dates", "note", "projects", "responsible_units")


class ProjectAdminForm(ScopedAdminForm):
    class Meta:
        model = Project
        fields = ("unit", *PROJECT_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def _get_validation_exclusions(self):
        # A name taken in the unit is refused by the service, with its message on the name; the model's
        # own constraint check would say it less clearly, and on no field.
        return super()._get_validation_exclusions() | {"name"}


class ProjectCloseForm(ServiceFormMixin, forms.Form):
    """The closing report (结项报告): its field names are the ones `project_transition` refuses on."""

    closing_report = forms.CharField(
        label=_("closing report"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the project did, for whom, and what came of it."),
    )
    people_served = forms.IntegerField(label=_("people served"), min_value=0)
    volunteers = forms.IntegerField(label=_("volunteers taking part"), min_value=0, required=False)
    hours = forms.DecimalField(
        label=_("service hours"), min_value=0, max_digits=10, decimal_places=1, required=False
    )


class KeyProjectListAdminForm(ScopedAdminForm):
    class Meta:
        model = KeyProjectList
        fields = ("unit", "year", "title", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "title" in self.fields:
            self.fields["title"].required = False
            self.fields["title"].help_text = _("Leave empty to name it after the unit and the year.")

    def _get_validation_exclusions(self):
        # A second list for the unit's year, or a year out of range, is refused by the service, with its
        # message on the year (the model's constraint checks would say it on no field).
        return super()._get_validation_exclusions() | {"year"}


class KeyProjectMonthForm(forms.ModelForm):
    """One month of a list on its page. The admin sets the choices once per page (`project_choices`,
    `unit_choices`: querysets of what the list may name), so twelve rows read them once."""

    project_choices = None
    unit_choices = None
    # The service's refusal of one month, when the page is shown again after it (a MonthRefusal).
    month_refusal = None

    class Meta:
        model = KeyProjectMonth
        fields = MONTH_FIELDS
        widgets = {
            "key_dates": forms.TextInput(attrs={"size": 20}),
            "note": forms.TextInput(attrs={"size": 20}),
            "projects": forms.SelectMultiple(attrs={"size": 4}),
            "responsible_units": forms.SelectMultiple(attrs={"size": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in (("projects", self.project_choices), ("responsible_units", self.unit_choices)):
            if name in self.fields and choices is not None:
                self.fields[name].queryset = choices["queryset"]
                self.fields[name].widget.choices = choices["options"]

    def clean(self):
        cleaned = super().clean()
        refusal = self.month_refusal
        if refusal is not None and self.instance.pk == refusal.month_id:
            for field, message in refusal.field_errors():
                self.add_error(field if field in self.fields else None, message)
        return cleaned


class KeyListImportForm(ServiceFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
        help_text=_("The workbook exported from this list, filled in; at most 2 MB."),
    )
