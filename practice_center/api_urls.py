"""REST API v1: one router for every app's read endpoints."""

from rest_framework.routers import DefaultRouter

from stations.api import PlatformViewSet, UnitViewSet

router = DefaultRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("platforms", PlatformViewSet, basename="platform")

urlpatterns = router.urls
