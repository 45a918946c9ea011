"""The activities pages, under /activities/: the list and an activity's page (public), signing up and
cancelling, the check-in scan, and the coordinators' workbench."""

from django.urls import path

from . import views

app_name = "activities"

urlpatterns: list = [
    path("", views.activity_list, name="list"),
    path("<int:activity_id>/", views.activity_detail, name="detail"),
]
