"""REST API v1: one router for every app's endpoints, a volunteer's own rows, the token login."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from activities.api import ActivityViewSet, AttendanceViewSet, MySignupViewSet, SignupViewSet
from kernel.auth_views import TokenObtainView
from projects.api import KeyProjectListViewSet, ProjectViewSet
from records.api import (
    CertificateViewSet,
    CorrectionViewSet,
    EvaluationViewSet,
    MyServiceRecordViewSet,
    MyServiceTotalsView,
    RecordFlagViewSet,
    ServiceRecordViewSet,
    TrainingViewSet,
)
from stations.api import PlatformViewSet, UnitViewSet
from volunteers.api import TeamMembershipViewSet, TeamViewSet, TransferViewSet, VolunteerViewSet

router = DefaultRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("platforms", PlatformViewSet, basename="platform")
router.register("volunteers", VolunteerViewSet, basename="volunteer")
router.register("teams", TeamViewSet, basename="team")
router.register("memberships", TeamMembershipViewSet, basename="membership")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("service-records", ServiceRecordViewSet, basename="service-record")
router.register("corrections", CorrectionViewSet, basename="correction")
router.register("record-flags", RecordFlagViewSet, basename="record-flag")
router.register("trainings", TrainingViewSet, basename="training")
router.register("evaluations", EvaluationViewSet, basename="evaluation")
router.register("certificates", CertificateViewSet, basename="certificate")
router.register("projects", ProjectViewSet, basename="project")
router.register("key-project-lists", KeyProjectListViewSet, basename="key-project-list")
router.register("activities", ActivityViewSet, basename="activity")
router.register("signups", SignupViewSet, basename="signup")
router.register("attendance", AttendanceViewSet, basename="attendance")
# Activity reports and photos (activities.api).
from activities.api import ActivityReportViewSet  # noqa: E402

router.register("activity-reports", ActivityReportViewSet, basename="activity-report")
# Residents' requests (residents.api).
from residents.api import ServiceRequestViewSet  # noqa: E402

router.register("service-requests", ServiceRequestViewSet, basename="service-request")
# Awards (awards.api).
from awards.api import AwardViewSet  # noqa: E402

router.register("awards", AwardViewSet, basename="award")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    # The signed-in volunteer's own rows: not a scoped list, so not on the router.
    path(
        "me/service-records/", MyServiceRecordViewSet.as_view({"get": "list"}), name="my-service-record-list"
    ),
    path(
        "me/service-records/<int:pk>/",
        MyServiceRecordViewSet.as_view({"get": "retrieve"}),
        name="my-service-record-detail",
    ),
    path("me/service-totals/", MyServiceTotalsView.as_view(), name="my-service-totals"),
    path("me/signups/", MySignupViewSet.as_view({"get": "list"}), name="my-signup-list"),
    *router.urls,
]
