"""The projects pages, under /projects/: the project library and the yearly key-project list as a
12-month grid."""

from django.urls import path

from . import views

app_name = "projects"

urlpatterns: list = [
    path("", views.project_list, name="list"),
    path("<int:project_id>/", views.project_detail, name="detail"),
    path("key-lists/<int:plan_id>/", views.key_list, name="key-list"),
]
