"""The volunteers' pages, under /volunteer/."""

from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout_page, name="logout"),
    path("me/", views.me, name="me"),
    path("teams/", views.my_teams, name="my-teams"),
    path("teams/<int:team_id>/", views.team_page, name="team"),
    path("transfer/", views.transfer, name="transfer"),
]
