"""Signing in from outside the admin's own login: API tokens for dashboards, and "forgot password"."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from kernel.auth import login_unlock
from kernel.schema import ErrorSerializer, with_error_responses


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("Username"), max_length=150)
    password = serializers.CharField(
        label=_("Password"), max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    def validate(self, attrs):
        # axes keeps its marks (the client IP, "locked out") on the request it is given, and its middleware
        # reads them on Django's HttpRequest: DRF's Request wrapper would keep them to itself, and a locked
        # pair would get the 400 of a wrong password instead of the lockout answer.
        request = self.context["request"]._request
        user = authenticate(request=request, username=attrs["username"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError(
                _("Unable to log in with provided credentials."), code="authorization"
            )
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class LockoutSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenObtainView(ObtainAuthToken):
    """POST a username and password, get the account's API token (made on first use)."""

    serializer_class = TokenRequestSerializer
    # No session or token is read here: a browser's session cookie must not make this a CSRF-checked call.
    authentication_classes = ()

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        request=TokenRequestSerializer,
        responses=with_error_responses(
            {
                200: TokenSerializer,
                400: OpenApiResponse(ErrorSerializer, description="Missing fields, or wrong credentials."),
                429: OpenApiResponse(
                    LockoutSerializer,
                    description="Too many failed logins for this username from this address: locked for a "
                    "while (LOGIN_LOCKOUT_MINUTES), even with the right password.",
                ),
            }
        ),
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class AdminPageMixin:
    """Django's auth views as admin pages: the admin's header, title and theme around them."""

    def get_context_data(self, **kwargs):
        context = {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}
        # Whoever resets a password is not signed in: no sidebar saying they may see nothing.
        context["is_nav_sidebar_enabled"] = False
        return context


class PasswordResetView(AdminPageMixin, auth_views.PasswordResetView):
    """Mails a link only to an active account with a usable password and that address; the page after it
    says the same whether or not one exists."""


class PasswordResetDoneView(AdminPageMixin, auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(AdminPageMixin, auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever holds the mailed link owns the account: a lockout from their own address ends with it.
        login_unlock(username=form.user.get_username())
        return response


class PasswordResetCompleteView(AdminPageMixin, auth_views.PasswordResetCompleteView):
    pass
