"""The records pages, under /records/: a volunteer's own records, stars, trainings and certificates, the
coordinators' approval queue, and the public verification of a certificate."""

from django.urls import path

app_name = "records"

urlpatterns: list = []
