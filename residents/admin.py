"""Admin of residents' requests, scoped by the request's rule: a township's staff see the requests of its
subtree (and a team leader those dispatched to its teams). Nothing is added, edited or deleted here: each
step (dispatch, accept, decline, link an activity, complete, cancel) is a button on the request's page
that opens a small form and calls the service, whose refusal shows on the form. The resident's phone is
masked unless the user dispatched or serves the request.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kernel.forms import ServiceFormMixin
from kernel.masking import mask_phone
from stations.admin import InstituteFilter
from stations.admin_scoping import ScopedModelAdmin, run_each
from stations.people import people_prefetch, person_label

from . import services
from .models import RequestStatus, ServiceRequest
from .selectors import phone_for

S = RequestStatus


class _StepForm(ServiceFormMixin, forms.Form):
    pass


class DispatchForm(_StepForm):
    team = forms.ModelChoiceField(label=_("team"), queryset=None)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class ReasonForm(_StepForm):
    reason = forms.CharField(label=_("reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class LinkForm(_StepForm):
    activity = forms.ModelChoiceField(label=_("activity"), queryset=None)

    def __init__(self, *args, activities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = activities


# step → (button label, the status it moves to, whether the serving side or the dispatcher acts)
STEPS = {
    "dispatch": (_("Dispatch to a team"), S.DISPATCHED, "dispatcher"),
    "accept": (_("Accept for the team"), S.ACCEPTED, "team"),
    "decline": (_("Decline, with the reason"), S.DECLINED, "team"),
    "link": (_("Link an activity that serves it"), S.SERVING, "team"),
    "complete": (_("Mark as completed"), S.COMPLETED, "team"),
    "cancel": (_("Cancel, with the reason"), S.CANCELLED, "dispatcher"),
}


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ScopedModelAdmin):
    list_display = (
        "reference",
        "status",
        "unit_short",
        "team",
        "resident_name",
        "phone_shown",
        "submitted_at",
        "due",
    )
    list_display_links = ("reference",)
    list_filter = ("status", InstituteFilter)
    search_fields = ("reference", "resident_name")
    search_help_text = _("Reference number, or the resident's name.")
    ordering = ("-submitted_at", "-id")
    actions = ("accept_selected", "complete_selected")
    fields = (
        "reference",
        "status",
        "resident_name",
        "phone_shown",
        "unit",
        "domain",
        "description",
        "team",
        "submitted_at",
        "dispatched_at",
        "accepted_at",
        "serving_at",
        "completed_at",
        "rated_at",
        "cancelled_at",
        "decline_reason",
        "cancel_reason",
        "rating",
        "rating_comment",
        "due",
        "steps",
    )

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).with_due().select_related("unit", "domain", "team")

    def has_add_permission(self, request):
        return False  # residents ask through the public form

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the steps are buttons, not edits

    def save_model(self, request, obj, form, change):
        """A request changes only through its step buttons, which call the services: a forged POST to its
        page saves nothing."""
        raise PermissionDenied

    def get_actions(self, request):
        return super().get_actions(request) if not self.scope(request).is_empty else {}

    @admin.display(description=_("unit"), ordering="unit__path")
    def unit_short(self, obj):
        return obj.unit.short_name

    @admin.display(description=_("phone"))
    def phone_shown(self, obj):
        return mask_phone(obj.phone)  # replaced, per request, by `_phone_column`

    @staticmethod
    def _phone_column(request):
        """The phone as this user may see it (admin instances are shared: the user goes in a closure)."""

        @admin.display(description=_("phone"))
        def phone_shown(obj):
            return phone_for(request.user, obj)

        return phone_shown

    def _with_phone(self, request, names):
        return tuple(self._phone_column(request) if name == "phone_shown" else name for name in names)

    def get_list_display(self, request):
        return self._with_phone(request, self.list_display)

    def get_fields(self, request, obj=None):
        return self._with_phone(request, self.fields)

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("due"), ordering="step_due_at")
    def due(self, obj):
        due = getattr(obj, "step_due_at", None) if hasattr(obj, "step_due_at") else obj.due_at
        if due is None:
            return "-"
        local = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
        if due < timezone.now():
            return format_html('<strong class="errornote">{} · {}</strong>', local, gettext("overdue"))
        return local

    @admin.display(description=_("steps"))
    def steps(self, obj):
        events = (
            obj.events.select_related("actor", "team")
            .prefetch_related(people_prefetch("actor"))
            .order_by("at", "id")
        )
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} · {} · {} {}</li>",
                (
                    (
                        timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
                        e.get_to_status_display(),
                        person_label(e.actor),
                        e.note,
                    )
                    for e in events
                ),
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        buttons = [
            (reverse("admin:residents_servicerequest_step", args=[obj.pk, name]), label)
            for name, (label, to, side) in STEPS.items()
            if services.transition_refusal(obj, to) is None and self._may(request, obj, side)
        ]
        extra_context = {**(extra_context or {}), "step_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _may(request, obj, side) -> bool:
        if side == "team":
            return services.serves(request.user, obj)
        from stations.scoping import can

        from .capabilities import Capability

        return can(request.user, Capability.REQUESTS_DISPATCH, obj.unit)

    # --- The steps ---------------------------------------------------------------------------------

    def step_view(self, request, object_id, step):
        if step not in STEPS:
            raise Http404
        obj = self.get_object(request, unquote(object_id))
        label, to, _side = STEPS[step]
        data = request.POST if request.method == "POST" else None
        actor = request.user
        if step == "dispatch":
            form = DispatchForm(
                data, teams=services.dispatch_teams(actor).select_related("unit").order_by("path")
            )
            run = lambda d: services.request_dispatch(actor=actor, request=obj, team=d["team"])  # noqa: E731
        elif step in ("decline", "cancel"):
            form = ReasonForm(data)
            service = services.request_decline if step == "decline" else services.request_cancel
            run = lambda d: service(actor=actor, request=obj, reason=d["reason"])  # noqa: E731
        elif step == "link":
            form = LinkForm(
                data,
                activities=services.linkable_activities(obj)
                .filter(ended_at__gte=obj.submitted_at - datetime.timedelta(days=30))
                .order_by("-started_at"),
            )
            run = lambda d: services.request_link_activity(actor=actor, request=obj, activity=d["activity"])  # noqa: E731
        else:
            form = _StepForm(data)
            service = services.request_accept if step == "accept" else services.request_complete
            run = lambda d: service(actor=actor, request=obj)  # noqa: E731
        if form.is_bound and form.is_valid():
            done = form.run_service(lambda: run(form.cleaned_data))
            if done is not None:
                self.log_change(request, obj, str(label))
                self.message_user(request, gettext("%(reference)s: done.") % {"reference": obj.reference})
                if self.get_queryset(request).filter(pk=obj.pk).exists():
                    return HttpResponseRedirect(
                        reverse("admin:residents_servicerequest_change", args=[obj.pk])
                    )
                return HttpResponseRedirect(reverse("admin:residents_servicerequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": label,
            "subtitle": str(obj),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "button": label,
            "refusal": services.transition_refusal(obj, to),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/residents/step.html", context)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/step/<str:step>/",
                self.admin_site.admin_view(self.step_view),
                name="residents_servicerequest_step",
            )
        ]
        return own + super().get_urls()

    # --- Bulk actions for the team's side ---------------------------------------------------------

    @admin.action(description=_("Accept the selected requests for the team"))
    def accept_selected(self, request, queryset):
        actor = request.user
        run_each(
            request,
            list(queryset),
            lambda r: services.request_accept(actor=actor, request=r),
            done=gettext("%(count)d requests accepted."),
        )

    @admin.action(description=_("Mark the selected requests as completed"))
    def complete_selected(self, request, queryset):
        actor = request.user
        run_each(
            request,
            list(queryset),
            lambda r: services.request_complete(actor=actor, request=r),
            done=gettext("%(count)d requests completed."),
        )
