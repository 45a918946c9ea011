"""Forms of the volunteers' phone pages. They check the shape of what was typed; the services check the
rules, and their refusals come back next to the field they name (kernel.forms.ServiceFormMixin)."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from kernel.forms import ServiceFormMixin
from stations.models import Unit, UnitKind

from .identity import Gender, IdType
from .models import Education, PoliticalStatus, Team, TransferKind

INDENT = "\u3000"


def unit_choices(units) -> list:
    """Units as a select grouped by institute: the institute first, its stations and points indented
    under it (in tree order, so each point follows its station). `units` are ordered by path."""
    groups = []  # (institute's name, options, institute's path)
    for unit in units:
        if unit.kind == UnitKind.INSTITUTE:
            groups.append((unit.name, [(unit.pk, unit.name)], unit.path))
        elif groups and unit.path.startswith(groups[-1][2]):
            groups[-1][1].append((unit.pk, INDENT * max(unit.depth - 1, 0) + unit.name))
    return [("", "---------"), *((label, options) for label, options, _path in groups)]


def home_units():
    return (
        Unit.objects.active()
        .exclude(kind=UnitKind.CENTER)
        .order_by("path")
        .only("pk", "name", "kind", "path", "depth")
    )


class UnitChoiceField(forms.ModelChoiceField):
    """A unit from the tree, offered grouped by institute; works as a plain select without script."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset=queryset, **kwargs)
        self.choices = unit_choices(queryset)


class RegistrationForm(ServiceFormMixin, forms.Form):
    phone = forms.CharField(
        label=_("mobile phone"),
        max_length=20,
        help_text=_("You log in with this number; login codes are sent to it."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    code = forms.CharField(
        label=_("SMS code"),
        max_length=6,
        required=False,
        help_text=_("Tap “Get code” to have it texted to the number above."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )
    password = forms.CharField(
        label=_("password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    name = forms.CharField(
        label=_("full name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT)
    id_number = forms.CharField(
        label=_("ID number"), max_length=32, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    birth_date = forms.DateField(
        label=_("date of birth"),
        required=False,
        help_text=_("Only for documents other than the resident identity card, which carries it."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    gender = forms.ChoiceField(
        label=_("gender"), required=False, choices=[("", "---------"), *Gender.choices]
    )
    political_status = forms.ChoiceField(
        label=_("political status"), choices=PoliticalStatus.choices, initial=PoliticalStatus.MASSES
    )
    education = forms.ChoiceField(
        label=_("education"), required=False, choices=[("", "---------"), *Education.choices]
    )
    skills = forms.CharField(label=_("skills"), max_length=200, required=False)
    home_unit = UnitChoiceField(label=_("home unit"), queryset=Unit.objects.none(), required=False)
    domains = forms.ModelMultipleChoiceField(
        label=_("service domains"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    guardian_name = forms.CharField(label=_("guardian's name"), max_length=50, required=False)
    guardian_phone = forms.CharField(
        label=_("guardian's mobile phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    guardian_consent = forms.BooleanField(
        label=_("My guardian has read the privacy notice and agrees to my registration."), required=False
    )
    consent = forms.BooleanField(label=_("I have read the privacy notice and agree to it."), required=False)

    def __init__(self, *args, platforms, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked = True
        self.fields["home_unit"] = UnitChoiceField(
            label=_("home unit"),
            queryset=home_units(),
            required=False,
            help_text=_("The institute, station or point where you take part."),
        )
        self.fields["domains"].queryset = platforms

    def as_typed(self):
        """The form shown again as typed, nothing checked (the "get code" step): only errors added later
        show. The passwords are not shown again: their widgets never render a value."""
        self.checked = False
        return self

    def full_clean(self):
        if self.checked:
            return super().full_clean()
        self._errors = ErrorDict()
        self.cleaned_data = {}
        return None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords are not the same."))
        if "code" in cleaned and not cleaned["code"]:
            self.add_error("code", _("Enter the code from the text message."))
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        other_document = data["id_type"] != IdType.RESIDENT
        # A resident ID carries the birth date and gender; whatever the hidden fields held is ignored.
        return {
            "password": data["password"],
            "consent": data["consent"],
            "name": data["name"],
            "id_type": data["id_type"],
            "id_number": data["id_number"],
            "birth_date": data["birth_date"] if other_document else None,
            "gender": data["gender"] if other_document else "",
            "phone": data["phone"],
            "political_status": data["political_status"],
            "education": data["education"],
            "skills": data["skills"],
            "home_unit": data["home_unit"],
            "domains": list(data["domains"]),
            "guardian_name": data["guardian_name"],
            "guardian_phone": data["guardian_phone"],
            "guardian_consent": data["guardian_consent"],
        }


class PasswordLoginForm(forms.Form):
    phone = forms.CharField(
        label=_("mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SmsLoginForm(ServiceFormMixin, forms.Form):
    phone = forms.CharField(
        label=_("mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    code = forms.CharField(
        label=_("SMS code"),
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )


class TeamJoinForm(forms.Form):
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.none())

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return INDENT * obj.depth + obj.name


class TransferRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("move to"), choices=TransferKind.choices, widget=forms.RadioSelect)
    to_unit = UnitChoiceField(label=_("to unit"), queryset=Unit.objects.none(), required=False)
    to_team = TeamChoiceField(label=_("to team"), queryset=Team.objects.none(), required=False)
    reason = forms.CharField(
        label=_("reason"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, units, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"] = UnitChoiceField(label=_("to unit"), queryset=units, required=False)
        self.fields["to_team"].queryset = teams

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == TransferKind.UNIT and not cleaned.get("to_unit"):
            self.add_error("to_unit", _("Choose the unit to move to."))
        if kind == TransferKind.TEAM and not cleaned.get("to_team"):
            self.add_error("to_team", _("Choose the team to move to."))
        return cleaned
