from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kernel import auth_views
from kernel.views import healthz, staged_upload_file
from stations.views import protected_file, unit_page

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("uploads/kept/<uuid:pk>/", staged_upload_file, name="staged-upload"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("news/", views.news_list, name="news"),
    path("news/<int:report_id>/", views.news_detail, name="news-detail"),
    path("feed/", views.feed, name="feed"),
    path("sitemap.xml", views.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", views.sitemap_section, name="sitemap-section"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("units/<int:unit_id>/", unit_page, name="public-unit"),
    path("volunteer/", include("volunteers.urls")),
    path("records/", include("records.urls")),
    path("activities/", include("activities.urls")),
    path("projects/", include("projects.urls")),
    path("requests/", include("residents.urls")),
    path("honours/", include("awards.urls")),
    # The language switch sets one cookie and nothing else: exempt from CSRF (the worst a forged post can
    # do is switch a visitor's language), so the form in base.html carries no token and the public pages
    # around it can be shared from the page cache (kernel.pagecache).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    # "Forgotten your password?": the admin's login page links to it once admin_password_reset resolves.
    path("admin/password_reset/", auth_views.PasswordResetView.as_view(), name="admin_password_reset"),
    path(
        "admin/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "admin/password_reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "admin/password_reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path(f"{settings.PROTECTED_MEDIA_URL.strip('/')}/<path:path>", protected_file, name="protected-file"),
    path("api/v1/", include("practice_center.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.SERVE_MEDIA:
    # Uploaded evidence photos; behind a real web server these are served by it instead.
    urlpatterns += [
        path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})
    ]
