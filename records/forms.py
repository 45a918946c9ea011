"""Forms of the records' phone pages. They check the shape of what was typed (lengths, a date is a date);
the services check the rules, and their refusals come back on the field they name
(kernel.forms.ServiceFormMixin). Fields a service asks for are optional here, so that its message, not a
generic "required", is what the volunteer reads."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kernel.forms import ServiceFormMixin
from stations.models import Unit
from volunteers.forms import INDENT, UnitChoiceField
from volunteers.models import Team

from .models import ServiceRecord

PHOTO_TYPES = "image/jpeg,image/png,image/webp"


class PhoneDateTimeField(forms.SplitDateTimeField):
    """A moment as a phone's own date and time pickers; both empty is no value (the service says what
    is missing)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("require_all_fields", False)
        kwargs.setdefault(
            "widget",
            forms.SplitDateTimeWidget(
                # Two inputs under one label: each names its half (the page groups them under the
                # field's label, volunteers/_field.html).
                date_attrs={"type": "date", "class": "dt-date", "aria-label": _("Date")},
                time_attrs={"type": "time", "class": "dt-time", "aria-label": _("Time")},
                date_format="%Y-%m-%d",
                time_format="%H:%M",
            ),
        )
        super().__init__(**kwargs)

    def compress(self, data_list):
        if data_list and data_list[0] and not data_list[1]:
            raise forms.ValidationError(_("Give the time too."), code="incomplete")
        if data_list and data_list[1] and not data_list[0]:
            raise forms.ValidationError(_("Give the date too."), code="incomplete")
        return super().compress(data_list)


def local_initial(moment) -> list:
    """A stored moment as the initial [date, time] of a PhoneDateTimeField, in local time."""
    from django.utils import timezone

    if moment is None:
        return [None, None]
    local = timezone.localtime(moment)
    return [local.date(), local.time().replace(second=0, microsecond=0)]


class TeamLabelField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.unit.name}"


class ServiceRecordForm(ServiceFormMixin, forms.Form):
    """A self-reported service (services.record_submit)."""

    unit = forms.ModelChoiceField(label=_("organising unit"), queryset=Unit.objects.none(), required=False)
    team = TeamLabelField(
        label=_("team"),
        queryset=Team.objects.none(),
        required=False,
        help_text=_("If you served with one of your teams; its unit is then taken as the organiser."),
    )
    content = forms.CharField(
        label=_("what you did"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. cleaning the village square")}),
    )
    started_at = PhoneDateTimeField(label=_("started at"))
    ended_at = PhoneDateTimeField(label=_("ended at"))
    evidence_photo = forms.FileField(
        label=_("photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_TYPES}),
        help_text=_("A photo of the service, or a note below: one of the two is needed."),
    )
    evidence_note = forms.CharField(
        label=_("note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who can confirm it, what you brought, anything the approver should know."),
    )

    def __init__(self, *args, units, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = UnitChoiceField(
            label=_("organising unit"),
            queryset=units,
            required=False,
            help_text=_("The institute, station or point that organised the service."),
        )
        self.fields["team"].queryset = teams

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "unit": data["unit"],
            "team": data["team"],
            "content": data["content"],
            "started_at": data["started_at"],
            "ended_at": data["ended_at"],
            "evidence_photo": data["evidence_photo"] or None,
            "evidence_note": data["evidence_note"],
        }


class CorrectionRequestForm(ServiceFormMixin, forms.Form):
    """What is wrong with a decided record, and what is right (services.correction_request). The
    values start as the record's; only those changed are sent."""

    reason = forms.CharField(
        label=_("what is wrong"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    content = forms.CharField(label=_("service"), max_length=200, required=False)
    started_at = PhoneDateTimeField(label=_("started at"))
    ended_at = PhoneDateTimeField(label=_("ended at"))

    def __init__(self, *args, record: ServiceRecord, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "content": record.content,
                "started_at": local_initial(record.started_at),
                "ended_at": local_initial(record.ended_at),
            },
        )
        super().__init__(*args, **kwargs)
        self.record = record

    def service_arguments(self) -> dict:
        data, record = self.cleaned_data, self.record
        content = (data["content"] or "").strip()
        return {
            "reason": data["reason"],
            "content": content if content and content != record.content else "",
            "started_at": _changed(data["started_at"], record.started_at),
            "ended_at": _changed(data["ended_at"], record.ended_at),
        }


def _changed(value, current):
    return value if value is not None and value != current else None


class CorrectionDecideForm(ServiceFormMixin, forms.Form):
    """The organiser's decision on a correction (services.correction_decide): a note (the reason, when
    refusing) and, when accepting, the values as they finally are."""

    note = forms.CharField(label=_("note"), max_length=300, required=False)
    content = forms.CharField(label=_("service"), max_length=200, required=False)
    started_at = PhoneDateTimeField(label=_("started at"))
    ended_at = PhoneDateTimeField(label=_("ended at"))

    def __init__(self, *args, correction, **kwargs):
        record = correction.record
        kwargs.setdefault(
            "initial",
            {
                "content": correction.content or record.content,
                "started_at": local_initial(correction.started_at or record.started_at),
                "ended_at": local_initial(correction.ended_at or record.ended_at),
            },
        )
        kwargs.setdefault("prefix", f"correction-{correction.pk}")
        super().__init__(*args, **kwargs)

    def service_arguments(self, *, accept: bool) -> dict:
        data = self.cleaned_data
        if not accept:
            return {"note": data["note"]}
        return {
            "note": data["note"],
            "content": data["content"] or None,
            "started_at": data["started_at"],
            "ended_at": data["ended_at"],
        }


class DecisionForm(ServiceFormMixin, forms.Form):
    """Approving (with an optional note) or rejecting (with the reason) one record."""

    note = forms.CharField(label=_("note"), max_length=300, required=False)
    reason = forms.CharField(label=_("reason for rejecting"), max_length=300, required=False)


def indented_units(units) -> list:
    """Units (ordered by path) as options indented by their depth below the shallowest of them."""
    units = list(units)
    top = min((unit.depth for unit in units), default=0)
    return [("", _("all")), *((unit.pk, INDENT * (unit.depth - top) + unit.name) for unit in units)]


class IndentedTeamField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return INDENT * obj.depth + obj.name


class QueueFilterForm(forms.Form):
    """The filters of the approval queue (a GET form): every choice is one the approver sees."""

    q = forms.CharField(
        label=_("volunteer"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("name or volunteer number"), "type": "search"}),
    )
    unit = forms.ModelChoiceField(label=_("unit"), queryset=Unit.objects.none(), required=False)
    team = IndentedTeamField(label=_("team"), queryset=Team.objects.none(), required=False)
    date_from = forms.DateField(
        label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    flagged = forms.ChoiceField(
        label=_("flagged for review"),
        required=False,
        choices=[("", _("all")), ("yes", _("flagged only")), ("no", _("not flagged"))],
    )

    def __init__(self, *args, units, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].choices = indented_units(units)
        self.fields["team"].queryset = teams
        self.fields["team"].empty_label = _("all")

    def filters(self):
        """RecordFilters of what was chosen (none when the form is not valid), and the search text."""
        from .selectors import RecordFilters

        if not self.is_bound or not self.is_valid():
            return RecordFilters(), ""
        data = self.cleaned_data
        flagged = {"yes": True, "no": False}.get(data["flagged"])
        filters = RecordFilters(
            unit=data["unit"],
            team_id=data["team"].pk if data["team"] else None,
            date_from=data["date_from"],
            date_to=data["date_to"],
            flagged=flagged,
        )
        return filters, data["q"].strip()

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())


class CertificateRequestForm(ServiceFormMixin, forms.Form):
    """Applying for a certificate (records.certificates.certificate_request)."""

    issuer = forms.ModelChoiceField(label=_("issuing unit"), queryset=Unit.objects.none(), required=False)
    period_from = forms.DateField(
        label=_("from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    period_to = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, issuers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = issuers
        choices = list(self.fields["issuer"].choices)
        if len(choices) == 2:  # the empty choice and one unit: chosen already
            self.fields["issuer"].initial = choices[1][0]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {"issuer": data["issuer"], "period_from": data["period_from"], "period_to": data["period_to"]}
