"""REST API v1: one router for every app's read endpoints, and the token login for dashboards."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from kernel.auth_views import TokenObtainView
from stations.api import PlatformViewSet, UnitViewSet
from volunteers.api import TeamMembershipViewSet, TeamViewSet, TransferViewSet, VolunteerViewSet

router = DefaultRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("platforms", PlatformViewSet, basename="platform")
router.register("volunteers", VolunteerViewSet, basename="volunteer")
router.register("teams", TeamViewSet, basename="team")
router.register("memberships", TeamMembershipViewSet, basename="membership")
router.register("transfers", TransferViewSet, basename="transfer")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    *router.urls,
]
