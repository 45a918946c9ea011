"""REST endpoints of activities, sign-ups and attendance, and a volunteer's own sign-ups.

An activity that is not a draft is public: any signed-in user reads it (a volunteer needs it to sign up);
a draft is read only by those whose scope holds it or who organise it. Planning, publishing, cancelling
and confirming the insurance take an activity the caller sees by scope, else a 404. Sign-ups and
attendance are read by those who run the activity. Every list is paginated by cursor and built from
`.values()` rows, so it costs the same queries at 1 row and at 50; the activity list walks the index
`activity_latest_first`. Every write calls the activities services, whose refusals answer as a 400 with
the field and the message. A volunteer is shown by id, volunteer number and name only.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel.api import CursorPagination, FilterBackend, ValuesListMixin, choice_labels, json_datetime
from kernel.errors import ApplicationError
from kernel.schema import with_error_responses
from kernel.validators import is_id
from projects.api import NewestFirstPagination, Writes
from records.filters import RecordOrdering
from stations.api_scoping import HeldSubtreeMixin, ScopedReadOnlyViewSet
from stations.scoping import scope_for
from volunteers.models import Volunteer

from . import services
from .filters import ActivityFilter, ActivityReportFilter, AttendanceFilter, SignupFilter
from .models import (
    Activity,
    ActivityOrganiser,
    ActivityReport,
    ActivityReportPhoto,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    Signup,
    SignupStatus,
)
from .querysets import ACTIVITY_RULE
from .serializers import (
    ActivityCancelSerializer,
    ActivityCreateSerializer,
    ActivityDetailSerializer,
    ActivityReportSerializer,
    ActivitySerializer,
    AttendanceSerializer,
    InsuranceSerializer,
    MySignupSerializer,
    ReportPhotoRemoveSerializer,
    ReportPhotoUploadSerializer,
    SignupSerializer,
)


class LatestFirstPagination(CursorPagination):
    ordering = ("-started_at", "-id")


def _own_volunteer(user) -> Volunteer | None:
    """The caller's volunteer, as signing up and cancelling name it."""
    return Volunteer.objects.of_user(user).only("id", "user_id").first()


def readable_activities(user):
    """Activities `user` reads: every one that is not a draft, and the drafts their scope holds or they
    organise."""
    return Activity.objects.filter(
        ~Q(status=ActivityStatus.DRAFT) | ACTIVITY_RULE.visible_q(scope_for(user), user)
    )


def _organiser_name(first: str, last: str, username: str) -> str:
    # A volunteer's login is their phone number: never shown, only the name on the account.
    name = f"{last}{first}".strip()
    return name or ("" if username.isdigit() else username)


# --- Activities ----------------------------------------------------------------------------------------

ACTIVITY_FIELDS = {
    "id": "id",
    "title": "title",
    "unit": "unit_id",
    "unit_name": "unit__name",
    "project": "project_id",
    "project_name": "project__name",
    "domain": "domain_id",
    "domain_name": "domain__name",
    "venue": "venue",
    "longitude": "longitude",
    "latitude": "latitude",
    "started_at": "started_at",
    "ended_at": "ended_at",
    "capacity": "capacity",
    "accepted_count": "accepted_count",
    "waitlisted_count": "waitlisted_count",
    "signup_opens_at": "signup_opens_at",
    "signup_closes_at": "signup_closes_at",
    "needs_insurance": "needs_insurance",
    "status": "status",
    "status_display": "status",
}
DETAIL_FIELDS = {
    "description": "description",
    "requirements": "requirements",
    "insurance_note": "insurance_note",
    "insurance_confirmed_at": "insurance_confirmed_at",
    "published_at": "published_at",
    "finished_at": "finished_at",
    "cancelled_at": "cancelled_at",
    "cancel_reason": "cancel_reason",
}
_WHEN = ("started_at", "ended_at", "signup_opens_at", "signup_closes_at")


@extend_schema_view(retrieve=extend_schema(responses=with_error_responses({200: ActivityDetailSerializer})))
class ActivityViewSet(HeldSubtreeMixin, Writes, ScopedReadOnlyViewSet):
    """Activities (志愿服务活动): every published, running, finished or cancelled one, and the drafts the
    caller plans or organises; latest start first (`ordering=started_at` for the soonest first). Staff
    plan one (POST) as a draft, confirm the volunteers' insurance, publish and cancel it; a volunteer
    signs up for it and cancels their sign-up."""

    model = Activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    pagination_class = LatestFirstPagination
    filter_backends = (FilterBackend, RecordOrdering)
    ordering_fields = ("started_at", "id")
    ordering = ("-started_at", "-id")
    values_fields = ACTIVITY_FIELDS
    labels = {"status_display": ("status", ActivityStatus)}
    converters = {
        "longitude": float,
        "latitude": float,
        **dict.fromkeys(_WHEN, json_datetime),
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        activities = self.held_subtree() if self.action == "list" else None
        if activities is None:
            activities = readable_activities(self.request.user)
        return activities.order_by("-started_at", "-id")

    def row_transform(self):
        now = timezone.now()
        published = ActivityStatus.PUBLISHED

        def computed(row, item):
            item["places_left"] = max(row["capacity"] - row["accepted_count"], 0)
            item["open_for_signup"] = (
                row["status"] == published and row["signup_opens_at"] <= now < row["signup_closes_at"]
            )

        return computed

    def detail_of(self, pk) -> dict:
        """An activity's row with its description, insurance, organisers and the caller's sign-up: two
        queries more, whatever the number of organisers."""
        row = (
            readable_activities(self.request.user)
            .filter(pk=pk)
            .values(*ACTIVITY_FIELDS.values(), *DETAIL_FIELDS.values())
            .first()
        )
        if row is None:
            raise Http404
        item = self.build_rows([row])[0]
        for key in DETAIL_FIELDS:
            value = row[key]
            item[key] = json_datetime(value) if key.endswith("_at") and value is not None else value
        item["insurance_confirmed"] = item.pop("insurance_confirmed_at") is not None
        item["map_url"] = Activity(
            longitude=row["longitude"], latitude=row["latitude"], venue=row["venue"], title=row["title"]
        ).map_url()
        item["organisers"] = [
            {"id": user_id, "name": _organiser_name(first, last, username)}
            for user_id, first, last, username in ActivityOrganiser.objects.filter(activity_id=pk)
            .order_by("id")
            .values_list("user_id", "user__first_name", "user__last_name", "user__username")
        ]
        own = (
            Signup.objects.filter(activity_id=pk, volunteer__user_id=self.request.user.pk)
            .values("id", "status")
            .first()
        )
        if own is not None:
            own["status_display"] = choice_labels(SignupStatus).get(own["status"], own["status"])
        item["my_signup"] = own
        return item

    def retrieve(self, request, *args, **kwargs):
        return Response(self.detail_of(kwargs["pk"]))

    def _planned(self, pk) -> Activity:
        """An activity the caller sees by scope (or organises), else a 404."""
        return self.listed(pk, Activity.objects.visible_to(self.request.user))

    @extend_schema(
        request=ActivityCreateSerializer, responses=with_error_responses({201: ActivityDetailSerializer})
    )
    def create(self, request, *args, **kwargs):
        """Plan an activity of a unit in the caller's scope, as a draft; the caller organises it unless
        other accounts are named."""
        data = self.read_input(ActivityCreateSerializer)
        ids = list(dict.fromkeys(data.pop("organisers")))
        organisers = list(get_user_model()._default_manager.filter(pk__in=ids, is_active=True))
        if len(organisers) != len(ids):
            # An account that does not exist is refused as one that may not organise: no ids revealed.
            raise ApplicationError(
                gettext("An organiser is a staff member of this unit or an active volunteer of this county."),
                field="organisers",
            )
        activity = services.activity_create(actor=request.user, organisers=organisers, **data)
        return Response(self.detail_of(activity.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=with_error_responses({200: ActivityDetailSerializer}))
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Open a draft to the public and to sign-ups (its insurance confirmed first, if it needs it)."""
        activity = self._planned(pk)
        services.activity_publish(actor=request.user, activity=activity)
        return Response(self.detail_of(activity.pk))

    @extend_schema(
        request=ActivityCancelSerializer, responses=with_error_responses({200: ActivityDetailSerializer})
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call the activity off, with the reason: every sign-up is cancelled and each volunteer told."""
        activity = self._planned(pk)
        data = self.read_input(ActivityCancelSerializer)
        services.activity_cancel(actor=request.user, activity=activity, reason=data["reason"])
        return Response(self.detail_of(activity.pk))

    @extend_schema(
        request=InsuranceSerializer, responses=with_error_responses({200: ActivityDetailSerializer})
    )
    @action(detail=True, methods=["post"], url_path="confirm-insurance")
    def confirm_insurance(self, request, pk=None):
        """Confirm that the volunteers are insured (条例 art. 17), naming the insurer or the policy."""
        activity = self._planned(pk)
        data = self.read_input(InsuranceSerializer)
        services.activity_confirm_insurance(
            actor=request.user, activity=activity, note=data["insurance_note"]
        )
        return Response(self.detail_of(activity.pk))

    def _volunteer(self) -> Volunteer:
        volunteer = _own_volunteer(self.request.user)
        if volunteer is None:
            raise ApplicationError(
                gettext("Sign in with your volunteer account to sign up."), field="volunteer"
            )
        return volunteer

    @extend_schema(
        request=None,
        responses=with_error_responses({200: MySignupSerializer, 201: MySignupSerializer}),
    )
    @action(detail=True, methods=["post"])
    def signup(self, request, pk=None):
        """Sign the caller up: accepted while places are left, else on the waitlist. 201 the first time;
        200 with the same sign-up when already signed up (nothing changes)."""
        if not is_id(pk):
            raise Http404
        volunteer = _own_volunteer(request.user)
        if volunteer is None:
            self.listed(pk, readable_activities(request.user))  # a 404 before the missing volunteer
            self._volunteer()
        try:
            signup = services.signup_create(actor=request.user, activity=int(pk), volunteer=volunteer)
        except ApplicationError:
            # Refused: a 404 where the caller reads no such activity (none, or another unit's draft),
            # else the refusal's message. The scope is read only here, off the burst's path.
            self.listed(pk, readable_activities(request.user))
            raise
        return Response(
            my_signup_row(signup.pk), status=status.HTTP_201_CREATED if signup.made else status.HTTP_200_OK
        )

    @extend_schema(request=None, responses=with_error_responses({200: MySignupSerializer}))
    @action(detail=True, methods=["post"], url_path="cancel-signup")
    def cancel_signup(self, request, pk=None):
        """Cancel the caller's own sign-up (until the configured time before the start); a place freed
        goes to the first on the waitlist. Cancelling again changes nothing."""
        activity = self.listed(pk, readable_activities(request.user))
        volunteer = self._volunteer()
        signup = Signup.objects.filter(activity=activity, volunteer=volunteer).first()
        if signup is None:
            raise ApplicationError(gettext("You have not signed up for this activity."), field="signup")
        services.signup_cancel(actor=request.user, signup=signup.pk)
        return Response(my_signup_row(signup.pk))


# --- Sign-ups ------------------------------------------------------------------------------------------

SIGNUP_CONVERTERS = dict.fromkeys(
    ("activity_started_at", "activity_ended_at", "queued_at", "promoted_at", "cancelled_at"), json_datetime
)


class SignupViewSet(Writes, ScopedReadOnlyViewSet):
    """Sign-ups for the activities the caller runs (their units' staff, the activity's organisers),
    newest first; filter by `activity` for its roster. An organiser cancels one until the start."""

    model = Signup
    serializer_class = SignupSerializer
    filterset_class = SignupFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "activity": "activity_id",
        "activity_title": "activity__title",
        "activity_started_at": "activity__started_at",
        "volunteer": "volunteer_id",
        "volunteer_number": "volunteer__number",
        "volunteer_name": "volunteer__name",
        "status": "status",
        "status_display": "status",
        "queued_at": "queued_at",
        "promoted_at": "promoted_at",
        "cancelled_at": "cancelled_at",
    }
    labels = {"status_display": ("status", SignupStatus)}
    converters = {key: convert for key, convert in SIGNUP_CONVERTERS.items() if key != "activity_ended_at"}

    def get_queryset(self):
        return super().get_queryset().order_by("-id")

    @extend_schema(request=None, responses=with_error_responses({200: SignupSerializer}))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a volunteer's sign-up (the organiser, until the start); the waitlist moves up."""
        signup = self.listed(pk)
        services.signup_cancel(actor=request.user, signup=signup.pk)
        return Response(self.row(signup.pk))


class MySignupViewSet(ValuesListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in volunteer's own sign-ups, newest first, with their activities' times and status.
    Empty for an account that is no volunteer."""

    serializer_class = MySignupSerializer
    pagination_class = NewestFirstPagination
    filter_backends = ()
    values_fields = {
        "id": "id",
        "activity": "activity_id",
        "activity_title": "activity__title",
        "activity_venue": "activity__venue",
        "activity_started_at": "activity__started_at",
        "activity_ended_at": "activity__ended_at",
        "activity_status": "activity__status",
        "unit_name": "activity__unit__name",
        "status": "status",
        "status_display": "status",
        "queued_at": "queued_at",
        "promoted_at": "promoted_at",
        "cancelled_at": "cancelled_at",
    }
    labels = {"status_display": ("status", SignupStatus)}
    converters = SIGNUP_CONVERTERS

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Signup.objects.none()
        user = self.request.user
        return Signup.objects.filter(volunteer__user_id=user.pk).order_by("-id")


def my_signup_row(pk: int) -> dict:
    """A sign-up as the volunteer's own list shows it."""
    view = MySignupViewSet()
    row = view.values_queryset(Signup.objects.filter(pk=pk)).get()
    return view.build_rows([row])[0]


# --- Attendance ----------------------------------------------------------------------------------------


class AttendanceViewSet(ScopedReadOnlyViewSet):
    """Check-ins and check-outs (签到签退) at the activities the caller runs, newest first: how each was
    made, whether it arrived late from the offline roster, a missed check-out, and the service record it
    made. Where a volunteer checked in is never shown."""

    model = Attendance
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "activity": "activity_id",
        "activity_title": "activity__title",
        "volunteer": "volunteer_id",
        "volunteer_number": "volunteer__number",
        "volunteer_name": "volunteer__name",
        "checked_in_at": "checked_in_at",
        "checked_out_at": "checked_out_at",
        "in_method": "in_method",
        "in_method_display": "in_method",
        "out_method": "out_method",
        "out_method_display": "out_method",
        "in_arrived_late": "in_arrived_late",
        "out_arrived_late": "out_arrived_late",
        "missed_checkout": "missed_checkout",
        "location_shared": "location_consented_at",
        "record": "record_id",
    }
    labels = {
        "in_method_display": ("in_method", AttendanceMethod),
        "out_method_display": ("out_method", AttendanceMethod),
    }
    converters = {"checked_in_at": json_datetime, "checked_out_at": json_datetime}

    def get_queryset(self):
        return super().get_queryset().order_by("-id")

    def row_transform(self):
        def shared(row, item):
            item["location_shared"] = item["location_shared"] is not None

        return shared


# --- Reports -------------------------------------------------------------------------------------------


def _file_url(name: str) -> str | None:
    from django.core.files.storage import default_storage

    return default_storage.url(name) if name else None


class ActivityReportViewSet(Writes, ScopedReadOnlyViewSet):
    """Activity reports (图文资料) of the activities the caller runs (their units' staff, the activity's
    organisers), newest first, with their photos and thumbnails; `published=true|false` for the news
    published or not. The staff of the activity's unit or above publish and unpublish one; whoever runs
    the activity adds and removes photos (each through the one image intake)."""

    model = ActivityReport
    serializer_class = ActivityReportSerializer
    filterset_class = ActivityReportFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "activity": "activity_id",
        "activity_title": "activity__title",
        "unit": "activity__unit_id",
        "unit_name": "activity__unit__name",
        "activity_ended_at": "activity__ended_at",
        "text": "text",
        "people_served": "people_served",
        "published": "published_at",
        "published_at": "published_at",
        "created_at": "created_at",
        "updated_at": "updated_at",
    }
    converters = {
        key: json_datetime for key in ("activity_ended_at", "published_at", "created_at", "updated_at")
    }

    def get_queryset(self):
        return super().get_queryset().order_by("-id")

    def build_rows(self, rows) -> list[dict]:
        items = super().build_rows(rows)
        # The photos of the whole page in one query, however many reports and photos it holds.
        photos: dict[int, list] = {item["id"]: [] for item in items}
        for photo in (
            ActivityReportPhoto.objects.filter(report_id__in=list(photos))
            .order_by("position", "id")
            .values("id", "report_id", "image", "thumbnail", "width", "height", "caption", "position")
        ):
            photos[photo.pop("report_id")].append(
                {**photo, "image": _file_url(photo["image"]), "thumbnail": _file_url(photo["thumbnail"])}
            )
        for item in items:
            item["published"] = item["published"] is not None
            item["photos"] = photos[item["id"]]
        return items

    @extend_schema(request=None, responses=with_error_responses({200: ActivityReportSerializer}))
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Show the report as news on the public pages (staff of the activity's unit or above)."""
        report = self.listed(pk)
        services.report_publish(actor=request.user, report=report.pk)
        return Response(self.row(report.pk))

    @extend_schema(request=None, responses=with_error_responses({200: ActivityReportSerializer}))
    @action(detail=True, methods=["post"])
    def unpublish(self, request, pk=None):
        """Take the report off the public pages (staff of the activity's unit or above)."""
        report = self.listed(pk)
        services.report_unpublish(actor=request.user, report=report.pk)
        return Response(self.row(report.pk))

    @extend_schema(
        request={"multipart/form-data": ReportPhotoUploadSerializer},
        responses=with_error_responses({200: ActivityReportSerializer}),
    )
    @action(detail=True, methods=["post"], url_path="photos")
    def add_photo(self, request, pk=None):
        """Add a photo (multipart `image`, optional `caption`): checked and cleaned by the image intake,
        which refuses anything but a real JPEG, PNG or WebP within its pixel limit."""
        report = self.listed(pk)
        data = self.read_input(ReportPhotoUploadSerializer)
        services.report_photo_add(
            actor=request.user, report=report.pk, image=data["image"], caption=data["caption"]
        )
        return Response(self.row(report.pk))

    @extend_schema(
        request=ReportPhotoRemoveSerializer, responses=with_error_responses({200: ActivityReportSerializer})
    )
    @action(detail=True, methods=["post"], url_path="remove-photo")
    def remove_photo(self, request, pk=None):
        """Remove one of the report's photos."""
        report = self.listed(pk)
        data = self.read_input(ReportPhotoRemoveSerializer)
        if not ActivityReportPhoto.objects.filter(pk=data["photo"], report_id=report.pk).exists():
            raise ApplicationError(gettext("There is no such photo."), field="photo")
        services.report_photo_remove(actor=request.user, photo=data["photo"])
        return Response(self.row(report.pk))
