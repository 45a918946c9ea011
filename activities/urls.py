"""The activities pages, under /activities/: the list and an activity's page (public), signing up and
cancelling, the check-in scan, and the coordinators' workbench."""

from django.urls import path

from . import compliance_views, views, workbench

app_name = "activities"

urlpatterns: list = [
    path("", views.activity_list, name="list"),
    path("<int:activity_id>/", views.activity_detail, name="detail"),
    path("compliance/", compliance_views.compliance, name="compliance"),
    path("<int:activity_id>/signup/", views.signup, name="signup"),
    path("<int:activity_id>/signup/cancel/", views.signup_cancel, name="signup-cancel"),
    path("<int:activity_id>/scan/<str:token>/", views.scan, name="scan"),
    path("<int:activity_id>/location/", views.attendance_location, name="attendance-location"),
    path("mine/", views.mine, name="mine"),
    path("inbox/", views.inbox_page, name="inbox"),
    # The coordinators' workbench (activities/workbench.py).
    path("workbench/", workbench.workbench, name="workbench"),
    path("workbench/sw.js", workbench.service_worker, name="roster-sw"),
    path("workbench/<int:activity_id>/", workbench.roster, name="roster"),
    path("workbench/<int:activity_id>/sync/", workbench.roster_sync, name="roster-sync"),
    path("workbench/<int:activity_id>/qr/", workbench.qr, name="qr"),
    path("workbench/<int:activity_id>/qr/token/", workbench.qr_token, name="qr-token"),
    path("workbench/<int:activity_id>/report/", workbench.report, name="report"),
    path("workbench/<int:activity_id>/report/photos/", workbench.report_photo_stage, name="report-stage"),
    path(
        "workbench/<int:activity_id>/report/kept/<uuid:pk>/", workbench.report_kept_photo, name="report-kept"
    ),
]
