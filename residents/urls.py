"""residents pages: the public request form and the private status page."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "residents"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="residents:new", permanent=False), name="index"),
    path("new/", views.request_new, name="new"),
    path("status/<str:token>/", views.request_status, name="status"),
]
