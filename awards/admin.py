"""Admin of the awards. Awards are listed by the giving unit's scope; a township's admin gives awards only
from a unit of its own subtree to a recipient inside that unit's subtree (award_create checks both), picks
volunteers, teams, projects and units by search (there are hundreds of thousands of volunteers), and
revokes an award with a reason on its page (award_revoke). Nothing is deleted. Award kinds are the county's
configuration, for system and county administrators.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kernel.admin_site import ServiceRefusalAdminMixin, SuperuserOnlyAdmin
from kernel.forms import ServiceFormMixin
from stations.admin_scoping import ScopedAdminForm, ScopedModelAdmin
from stations.models import Unit
from stations.people import person_label
from stations.scoping import scope_for

from . import services
from .capabilities import Capability
from .models import RECIPIENT_FIELDS, Award, AwardKind

_ADD_FIELDS = ("giving_unit", "year", "kind", *RECIPIENT_FIELDS, "citation")
_RECORD_FIELDS = ("created_by_label", "created_at", "revoked_at", "revoked_by_label")


class AwardAdminForm(ScopedAdminForm):
    class Meta:
        model = Award
        fields = (*_ADD_FIELDS, "revoke_reason")
        widgets = {"citation": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "revoke_reason" in self.fields:
            self.fields["revoke_reason"].help_text = _(
                "Fill in to revoke this award; it then leaves the honour rolls."
            )

    def _get_validation_exclusions(self):
        # The service refuses a second award, a wrong or missing recipient, with its message on the field.
        return super()._get_validation_exclusions() | {"year", *RECIPIENT_FIELDS}

    def validate_constraints(self):
        pass  # award_create and award_revoke check these, each refusal on its field


@admin.register(Award)
class AwardAdmin(ScopedModelAdmin):
    form = AwardAdminForm
    list_display = ("year", "kind", "recipient_label", "giving_unit", "standing")
    list_display_links = ("year", "kind")
    list_filter = ("year", "kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("volunteer__name", "volunteer__number", "team__name", "project__name", "unit__name")
    search_help_text = _("Name or volunteer number of the recipient.")
    ordering = ("-year", "kind__order", "-id")
    autocomplete_fields = ("volunteer", "team", "project", "unit", "giving_unit")
    list_select_related = ("kind", "volunteer", "team", "project", "unit", "giving_unit")

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related(*self.list_select_related)

    @admin.display(description=_("recipient"))
    def recipient_label(self, obj):
        recipient = obj.recipient
        if obj.volunteer_id is not None:
            return f"{recipient.name}（{recipient.number}）"
        return getattr(recipient, "name", "-")

    @admin.display(description=_("standing"), boolean=True)
    def standing(self, obj):
        return obj.revoked_at is None

    @admin.display(description=_("created by"))
    def created_by_label(self, obj):
        return person_label(obj.created_by) or "-"

    @admin.display(description=_("revoked by"))
    def revoked_by_label(self, obj):
        return person_label(obj.revoked_by) or "-"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": _ADD_FIELDS})]
        return [
            (None, {"fields": _ADD_FIELDS}),
            (_("record"), {"fields": (*_RECORD_FIELDS, "revoke_reason")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("giving_unit", "year", "kind", *RECIPIENT_FIELDS, *_RECORD_FIELDS)
        return (*fixed, "citation", "revoke_reason") if obj.revoked_at is not None else fixed

    def get_autocomplete_fields(self, request):
        return self.autocomplete_fields

    def unit_choices(self, request, db_field):
        # The giving unit, and a unit awarded: where the user may give awards.
        return Unit.objects.filter(
            scope_for(request.user).q(capability=Capability.AWARDS_GIVE), is_active=True
        )

    def save_model(self, request, obj, form, change):
        data = self.submitted(form, exclude=("revoke_reason",))
        if not change:
            self.adopt(obj, services.award_create(actor=request.user, **data))
            return
        if "citation" in form.changed_data:
            self.adopt(obj, services.award_update(actor=request.user, award=obj, citation=data["citation"]))
        reason = form.cleaned_data.get("revoke_reason")
        if reason:
            self.adopt(obj, services.award_revoke(actor=request.user, award=obj, reason=reason))


class AwardKindAdminForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = AwardKind
        fields = ("name", "recipient_type", "order", "is_active")

    def _get_validation_exclusions(self):
        return super()._get_validation_exclusions() | {"name"}


@admin.register(AwardKind)
class AwardKindAdmin(ServiceRefusalAdminMixin, SuperuserOnlyAdmin, admin.ModelAdmin):
    """The kinds of award a county gives: system administrators and county admins."""

    form = AwardKindAdminForm
    list_display = ("name", "recipient_type", "order", "is_active")
    ordering = ("order", "id")

    def _superuser(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_staff and services.award_kinds_may_change(user)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = self.service_refusal(request)
        if refusal is not None:
            form = type(form.__name__, (form,), {"service_error": refusal})
        return form

    def save_model(self, request, obj, form, change):
        saved = services.award_kind_save(
            actor=request.user, kind=obj if change else None, **form.cleaned_data
        )
        ScopedModelAdmin.adopt(obj, saved)
