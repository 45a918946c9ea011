"""The real URLs, plus the baselines the HTTP benches compare them with.

A baseline answers with the same rows as its endpoint, read by the same selector (so the same scoping
queries and the same session and user look-ups), as `.values()` through a plain JsonResponse: what a
list costs with no framework at all. Everything here lives under /api/bench/, because LocaleMiddleware
takes a different branch for /api/ paths and the pairs should differ only in the view.
"""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import include, path
from django.utils.module_loading import import_string
from rest_framework.response import Response
from rest_framework.views import APIView

from activities.api import ActivityReportViewSet, ActivityViewSet
from awards.api import AwardViewSet
from records.api import ServiceRecordViewSet
from records.models import ServiceRecord
from residents.api import ServiceRequestViewSet
from stations.api import PlatformViewSet, UnitViewSet
from volunteers.api import TeamMembershipViewSet, TeamViewSet, TransferViewSet
from volunteers.models import Team, TeamMembership, Transfer


def stored_columns(viewset) -> tuple[str, ...]:
    """The columns an endpoint reads."""
    return tuple(dict.fromkeys(viewset.values_fields.values()))


def model_columns(viewset) -> tuple[str, ...]:
    """The columns an endpoint reads that are stored: its annotations and list columns left out."""
    names = {name for field in viewset.model._meta.concrete_fields for name in (field.name, field.attname)}
    return tuple(column for column in stored_columns(viewset) if column.split("__")[0] in names)


UNIT_COLUMNS = stored_columns(UnitViewSet)
PLATFORM_COLUMNS = stored_columns(PlatformViewSet)

# One row per baseline: URL segment, the selector its endpoint uses (by dotted name, so a renamed selector
# breaks only this baseline, with an error in the gunicorn log, not every URL), its ordering, its columns.
BASELINES = [
    ("units", "stations.selectors.unit_list", ("path",), UNIT_COLUMNS),
    ("platforms", "stations.selectors.platform_list", ("center_id", "order", "id"), PLATFORM_COLUMNS),
]


def values_view(selector: str, ordering, columns):
    @login_required
    def view(request):
        size = int(request.GET.get("page_size", 50))
        rows = import_string(selector)(user=request.user).order_by(*ordering).values(*columns)[:size]
        return JsonResponse({"results": list(rows)})

    return view


def volunteer_values_view(request):
    """The volunteer list's baseline: its scope check of `subtree_of` (the unit must be one the caller
    sees, and then every volunteer under it is), then the same rows, newest first, as `.values()` of the
    stored columns (no labels, no masks, no domains)."""
    from stations.models import Unit
    from volunteers.models import Volunteer

    size = int(request.GET.get("page_size", 50))
    root = Unit.objects.visible_to(request.user).filter(pk=request.GET["subtree_of"]).values("path").get()
    rows = (
        Volunteer.objects.filter(home_unit__path__startswith=root["path"])
        .order_by("-id")
        .values(*VOLUNTEER_COLUMNS)[:size]
    )
    return JsonResponse({"results": list(rows)})


# The stored columns the volunteer endpoint reads: its annotations (birth year, domains) left out.
VOLUNTEER_COLUMNS = (
    "id",
    "number",
    "name",
    "id_number_masked",
    "gender",
    "birth_date",
    "phone",
    "political_status",
    "education",
    "home_unit_id",
    "home_unit__name",
    "status",
    "registered_on",
)


RECORD_COLUMNS = model_columns(ServiceRecordViewSet)


def record_values_view(request):
    """The service-record list's baseline: its scope check of `subtree_of` (the unit must be one the caller
    sees, and then every record organised under it is), then the same rows, latest service first, as
    `.values()` of the stored columns (no labels, and not the two flags per row: an open review flag, a
    correction superseding it)."""
    from stations.models import Unit

    size = int(request.GET.get("page_size", 50))
    root = Unit.objects.visible_to(request.user).filter(pk=request.GET["subtree_of"]).values("path").get()
    rows = (
        ServiceRecord.objects.filter(unit__path__startswith=root["path"])
        .order_by("-started_at", "-id")
        .values(*RECORD_COLUMNS)[:size]
    )
    return JsonResponse({"results": list(rows)})


def scoped_values_view(model, ordering, columns, subtree=None):
    """A baseline of a list in the volunteers app: the rows of `model.objects.visible_to(user)` (and, with
    `subtree`, the same scope check of `subtree_of` as the endpoint's filter, then its prefix match on that
    path), in the endpoint's order, as `.values()` of the stored columns (no labels, counts or lists)."""

    @login_required
    def view(request):
        from stations.models import Unit

        size = int(request.GET.get("page_size", 50))
        rows = model.objects.visible_to(request.user)
        if subtree:
            root = Unit.objects.visible_to(request.user).filter(pk=request.GET["subtree_of"])
            root = root.values("path").get()
            rows = rows.filter(**{f"{subtree}__startswith": root["path"]})
        return JsonResponse({"results": list(rows.order_by(*ordering).values(*columns)[:size])})

    return view


# The team, membership and transfer lists: URL segment, model, the endpoint's ordering (its cursor
# pagination's), its stored columns, and the unit path `subtree_of` filters on (None: no such filter).
SCOPED_BASELINES = [
    ("teams", Team, ("path",), model_columns(TeamViewSet), "unit__path"),
    ("memberships", TeamMembership, ("id",), model_columns(TeamMembershipViewSet), None),
    ("transfers", Transfer, ("-id",), model_columns(TransferViewSet), None),
]


class TrivialAPIView(APIView):
    """DRF with the project's default authentication, permissions, negotiation and rendering, and no work.
    A POST with a token is the sign-up burst's baseline (bench/signup_burst.py): the same token look-up and
    permission check as the sign-up, no CSRF (token authentication needs none), and nothing written."""

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


@login_required  # the same session and user look-ups as the DRF view's session authentication
def trivial_view(request):
    return JsonResponse({"ok": True})


def activity_values_view(request):
    """The activity list's baseline: the scope check of `subtree_of`, then every activity under that unit
    (drafts included: the caller holds the subtree), latest start first, as `.values()` of the stored
    columns (no labels, places left or open-for-sign-up flag)."""
    from activities.models import Activity
    from stations.models import Unit

    size = int(request.GET.get("page_size", 50))
    root = Unit.objects.visible_to(request.user).filter(pk=request.GET["subtree_of"]).values("path").get()
    rows = (
        Activity.objects.filter(unit__path__startswith=root["path"])
        .order_by("-started_at", "-id")
        .values(*ACTIVITY_COLUMNS)[:size]
    )
    return JsonResponse({"results": list(rows)})


def public_activity_values_view(request):
    """The public activity page's baseline: the rows of its first page, read by the same selector in the
    same order (those not ended first), as `.values()` of the columns a row shows through a JsonResponse:
    no template, no form, no count."""
    from activities import selectors
    from activities.views import PAGE_SIZE

    rows = selectors.public_activities().values(*selectors.PUBLIC_ROW_FIELDS)[:PAGE_SIZE]
    return JsonResponse({"results": list(rows)})


ACTIVITY_COLUMNS = model_columns(ActivityViewSet)


REPORT_COLUMNS = model_columns(ActivityReportViewSet)


def report_values_view(request):
    """The activity-report list's baseline: the reports of the activities the caller runs, newest first,
    as `.values()` of the stored columns (not the photos, which the endpoint reads in one more query for
    the page, nor the published flag)."""
    from activities.models import ActivityReport

    size = int(request.GET.get("page_size", 50))
    rows = ActivityReport.objects.visible_to(request.user).order_by("-id").values(*REPORT_COLUMNS)[:size]
    return JsonResponse({"results": list(rows)})


# The hidden columns the phone's masking reads, beside the stored columns shown.
REQUEST_MASK_COLUMNS = ("dispatched_by_id", "accepted_by_id", "team__path")
REQUEST_COLUMNS = (*model_columns(ServiceRequestViewSet), *REQUEST_MASK_COLUMNS)


def request_values_view(request):
    """The residents' request list's baseline: the requests the caller sees, newest first, as `.values()`
    of the stored columns, the resident's phone masked row by row as the endpoint does it (the same
    `sees_phone` and `mask_phone`); not the step's due time and overdue flag (worked out from the status
    and its times, the column read for them given as it is), nor the status label."""
    from kernel.masking import mask_phone
    from residents.models import ServiceRequest
    from residents.selectors import sees_phone

    size = int(request.GET.get("page_size", 50))
    rows = list(
        ServiceRequest.objects.visible_to(request.user).order_by("-id").values(*REQUEST_COLUMNS)[:size]
    )
    for row in rows:
        dispatched_by, accepted_by, team_path = (row.pop(column) for column in REQUEST_MASK_COLUMNS)
        if not sees_phone(
            request.user, dispatched_by_id=dispatched_by, accepted_by_id=accepted_by, team_path=team_path
        ):
            row["phone"] = mask_phone(row["phone"])
    return JsonResponse({"results": rows})


AWARD_COLUMNS = (*model_columns(AwardViewSet), *AwardViewSet.hidden_values)


def award_values_view(request):
    """The award list's baseline: the awards given in the caller's scope, newest first, as `.values()` of
    the stored columns, each recipient's name chosen and a volunteer's masked (`volunteer_public_label`)
    row by row as the endpoint does it; no other change to a row."""
    from awards.models import Award
    from awards.selectors import volunteer_public_label

    size = int(request.GET.get("page_size", 50))
    rows = list(Award.objects.visible_to(request.user).order_by("-id").values(*AWARD_COLUMNS)[:size])
    for row in rows:
        name, number = row.pop("team__name"), None
        volunteer = [
            row.pop(key) for key in ("volunteer__name", "volunteer__number", "volunteer__public_name")
        ]
        project, unit = row.pop("project__name"), row.pop("unit__name")
        if row["volunteer_id"] is not None:
            name, number = volunteer_public_label(*volunteer)
        elif row["project_id"] is not None:
            name = project
        elif row["unit_id"] is not None:
            name = unit
        row["recipient_name"], row["volunteer_number"] = name, number or None
    return JsonResponse({"results": rows})


def trivial_template_view(request):
    """The public pages' baseline (bench/public_pages.py): a tiny template through render(), no query, under
    the same middleware and the same (non-API) branch of LocaleMiddleware as the public pages."""
    from django.shortcuts import render

    return render(request, "public/bench_trivial.html", {"title": "ok"})


urlpatterns = [
    *(path(f"api/bench/{name}/", values_view(*spec)) for name, *spec in BASELINES),
    path("api/bench/volunteers/", login_required(volunteer_values_view)),
    path("api/bench/service-records/", login_required(record_values_view)),
    *(path(f"api/bench/{name}/", scoped_values_view(*spec)) for name, *spec in SCOPED_BASELINES),
    path("api/bench/activities/", login_required(activity_values_view)),
    path("api/bench/public-activities/", public_activity_values_view),
    path("api/bench/activity-reports/", login_required(report_values_view)),
    path("api/bench/service-requests/", login_required(request_values_view)),
    path("api/bench/awards/", login_required(award_values_view)),
    path("api/bench/drf-ok/", TrivialAPIView.as_view()),
    path("api/bench/django-ok/", trivial_view),
    path("bench/template-ok/", trivial_template_view),
    path("", include("practice_center.urls")),
]
