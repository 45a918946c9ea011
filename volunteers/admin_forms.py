"""The forms of the volunteers admin. They check the shape of what is typed; the services check the rules
(ID check digit, age and guardian, scope) and their refusals come back on these forms' fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from stations.admin_scoping import ScopedAdminForm

from .models import PrivacyNotice, Team, TeamMembership, Transfer, Volunteer


class VolunteerAddForm(ScopedAdminForm):
    """Staff register a volunteer on their behalf: the details, and the volunteer's consent, which the
    staff member confirms they were given."""

    id_number = forms.CharField(label=_("ID number"), max_length=32)
    guardian_consent = forms.BooleanField(
        label=_("The guardian agreed (volunteers aged 14 to 17)"), required=False
    )
    consent = forms.BooleanField(
        label=_("The volunteer agreed to the privacy notice"),
        required=False,  # the service refuses without it, with its own message on this field
    )

    class Meta:
        model = Volunteer
        fields = (
            "name",
            "id_type",
            "birth_date",
            "gender",
            "phone",
            "home_unit",
            "political_status",
            "education",
            "skills",
            "domains",
            "guardian_name",
            "guardian_phone",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("birth_date", "gender"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = _("Only for documents other than a resident identity card.")

    def validate_unique(self):
        # The service says "already registered" without telling whose: Django's unique check would not.
        pass


class VolunteerChangeForm(ScopedAdminForm):
    class Meta:
        model = Volunteer
        fields = ("name", "home_unit", "status", "political_status", "education", "skills", "domains")


class TeamAdminForm(ScopedAdminForm):
    class Meta:
        model = Team
        fields = ("kind", "name", "parent", "unit", "domain", "team_type", "description", "is_active")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MembershipAddForm(ScopedAdminForm):
    class Meta:
        model = TeamMembership
        fields = ("team", "volunteer", "role")


class TransferAddForm(ScopedAdminForm):
    class Meta:
        model = Transfer
        fields = ("volunteer", "kind", "to_unit", "to_team", "reason")


class TransferRejectForm(forms.Form):
    note = forms.CharField(
        label=_("Reason for the decision"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


class PrivacyNoticeAdminForm(ScopedAdminForm):
    class Meta:
        model = PrivacyNotice
        fields = ("version", "title", "effective_from", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}

    def validate_unique(self):
        pass  # the service refuses a repeated version with its own message
