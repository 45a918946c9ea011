"""The public honour rolls, under /honours/."""

from django.urls import path

from . import views

app_name = "awards"

urlpatterns: list = [
    path("", views.honours, name="honours"),
    path("<int:year>/", views.honours_year, name="year"),
]
