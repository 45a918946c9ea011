"""The forms of the records admin. They check the shape of what is typed; the services check the rules
(scope, overlaps, the day cap, membership, who may export ID numbers) and their refusals come back on
these forms' fields."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stations.admin_scoping import ScopedAdminForm

from .models import Evaluation, IssuerProfile, NationalExport, ServiceRecord, Training


class RecordAddForm(ScopedAdminForm):
    """Staff record a service on a volunteer's behalf (as staff: no evidence needed, the record waits for
    another approver)."""

    class Meta:
        model = ServiceRecord
        fields = (
            "volunteer",
            "unit",
            "team",
            "content",
            "started_at",
            "ended_at",
            "evidence_photo",
            "evidence_note",
        )
        widgets = {"evidence_note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "unit" in self.fields:
            # A team leader names the team only: its unit is the team's.
            self.fields["unit"].required = False
            self.fields["unit"].help_text = _("Leave empty to take the team's unit.")


class TrainingAdminForm(ScopedAdminForm):
    class Meta:
        model = Training
        fields = ("volunteer", "unit", "title", "organiser", "date", "hours")


class EvaluationAdminForm(ScopedAdminForm):
    class Meta:
        model = Evaluation
        fields = ("volunteer", "team", "year", "grade", "comment")
        widgets = {"comment": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "year" in self.fields and not self.initial.get("year"):
            self.initial["year"] = timezone.localdate().year


class IssuerProfileAdminForm(ScopedAdminForm):
    class Meta:
        model = IssuerProfile
        fields = ("unit", "person_in_charge", "handler", "contact", "seal")
        # No "clear" box: a seal is replaced by uploading another.
        widgets = {"seal": forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"})}


def _last_month() -> tuple[datetime.date, datetime.date]:
    first_of_this = timezone.localdate().replace(day=1)
    last_of_previous = first_of_this - datetime.timedelta(days=1)
    return last_of_previous.replace(day=1), last_of_previous


class NationalExportAddForm(ScopedAdminForm):
    class Meta:
        model = NationalExport
        fields = ("unit", "period_from", "period_to", "format", "with_id_numbers")
        help_texts = {
            "with_id_numbers": _(
                "Only when the national system asks for them. Each export with full ID numbers is "
                "written to the audit log."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        first, last = _last_month()
        self.initial.setdefault("period_from", first)
        self.initial.setdefault("period_to", last)


class NoteForm(forms.Form):
    """The one text an action asks for before it runs: a reason, or a note."""

    note = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, label, required=True, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = label
        self.fields["note"].required = required
        self.fields["note"].help_text = help_text
