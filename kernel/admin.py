"""Admins of data no scope divides: API tokens and the login lockout records belong to accounts, so only
system administrators see them."""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from .admin_accounts import PortalUserAdmin
from .admin_site import SuperuserOnlyAdmin

# Accounts: the kernel's admin, scoped by kernel.accounts; apps extend it (register_account_extension)
# rather than replacing it.
admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), PortalUserAdmin)

admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class PortalTokenAdmin(SuperuserOnlyAdmin, TokenAdmin):
    pass


class ReadOnlyRecordAdmin(SuperuserOnlyAdmin):
    """Records the login itself writes: a system administrator reads them and never edits them."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LogAdmin(ReadOnlyRecordAdmin):
    def has_delete_permission(self, request, obj=None):
        return False  # an audit trail: `manage.py axes_reset_logs` and `axes_reset_failure_logs` prune it


# axes registers its own admins when axes.admin is imported (above); these replace them.
admin.site.unregister([AccessAttempt, AccessLog, AccessFailureLog])


@admin.register(AccessAttempt)
class PortalAccessAttemptAdmin(ReadOnlyRecordAdmin, AccessAttemptAdmin):
    """Deleting an attempt unlocks its username at its address at once."""


@admin.register(AccessLog)
class PortalAccessLogAdmin(LogAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class PortalAccessFailureLogAdmin(LogAdmin, AccessFailureLogAdmin):
    pass
