"""API tokens belong to accounts, which no scope divides: only system administrators manage them."""

from django.contrib import admin
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from .admin_site import SuperuserOnlyAdmin

admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class PortalTokenAdmin(SuperuserOnlyAdmin, TokenAdmin):
    pass
