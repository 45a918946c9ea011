"""The records pages, under /records/: a volunteer's own records, stars, trainings and certificates, the
coordinators' approval queue, and the public verification of a certificate."""

from django.urls import path

from . import certificate_views, views

app_name = "records"

urlpatterns: list = [
    path("", views.mine, name="mine"),
    path("new/", views.record_new, name="new"),
    path("<int:record_id>/", views.record_page, name="record"),
    path("<int:record_id>/photo/", views.evidence_photo, name="evidence-photo"),
    path("queue/", views.queue, name="queue"),
    path("trainings/", views.trainings, name="trainings"),
    path("certificates/", views.certificates_page, name="certificates"),
    path(
        "certificates/<int:pk>/download/",
        certificate_views.certificate_download,
        name="certificate-download",
    ),
    path(
        "verify/<str:number>/<str:token>/",
        certificate_views.certificate_verify_page,
        name="certificate-verify",
    ),
]
