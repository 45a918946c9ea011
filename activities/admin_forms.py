"""The forms of the activities admin. They check the shape of what is typed; the services check the rules
(scope, the times, the project and platform of the county, who may organise) and their refusals come back
on these forms' fields."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kernel.forms import KeptPhotosFormMixin
from stations.admin_scoping import ScopedAdminForm
from stations.people import real_name

from .models import Activity, ActivityReport

# What activity_update takes; the organisers go beside them.
ACTIVITY_FIELDS = (
    "title",
    "venue",
    "description",
    "requirements",
    "capacity",
    "started_at",
    "ended_at",
    "signup_opens_at",
    "signup_closes_at",
    "project",
    "domain",
    "longitude",
    "latitude",
    "needs_insurance",
    "insurance_note",
    "report_days",
)


class OrganiserField(forms.ModelMultipleChoiceField):
    """Organisers by name, with the volunteer number of those who are volunteers (never a phone)."""

    def label_from_instance(self, obj):
        volunteer = getattr(obj, "volunteer", None)
        name = real_name(obj)
        return f"{volunteer.name}（{volunteer.number}）" if volunteer is not None else name


class ActivityAdminForm(ScopedAdminForm):
    # Set per request by the admin: the users this admin may name (the service checks each for the unit).
    organiser_choices = None

    organisers = OrganiserField(
        label=_("organisers"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_(
            "Staff of the unit or active volunteers of the county. Leave empty to organise it yourself."
        ),
    )

    class Meta:
        model = Activity
        fields = ("unit", *ACTIVITY_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "requirements": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.organiser_choices is not None:
            self.fields["organisers"].queryset = self.organiser_choices
        for name in ("signup_opens_at", "signup_closes_at"):
            if name in self.fields and self.instance.pk is None:
                self.fields[name].required = False
        if "report_days" in self.fields:
            # Left empty, the activity takes settings.ACTIVITY_REPORT_DAYS (activities.services).
            self.fields["report_days"].required = False
            self.fields["report_days"].help_text = _("Leave empty for the county's usual number of days.")
        if "signup_opens_at" in self.fields and self.instance.pk is None:
            self.fields["signup_opens_at"].help_text = _("Leave empty to open sign-up now.")
            self.fields["signup_closes_at"].help_text = _("Leave empty to close sign-up at the start.")
        if self.instance.pk is not None:
            self.initial.setdefault(
                "organisers",
                list(self.instance.organiser_links.order_by("id").values_list("user_id", flat=True)),
            )


class ActivityReportAdminForm(KeptPhotosFormMixin, ScopedAdminForm):
    class Meta:
        model = ActivityReport
        fields = ("activity", "text", "people_served")
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}
