from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class KernelConfig(AppConfig):
    default = True  # this module also holds the admin's config, which is named in INSTALLED_APPS
    name = "kernel"
    verbose_name = _("Kernel")

    def ready(self):
        from kernel.pii import install_log_record_factory

        # Every process that sets Django up (web, Celery worker and beat, manage.py, pytest) scrubs its logs.
        install_log_record_factory()


class PortalAxesConfig(AxesConfig):
    """django-axes (the login lockout), under a Chinese name in the admin."""

    verbose_name = _("Login security")


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the portal's admin site."""

    default = False
    default_site = "kernel.admin_site.PortalAdminSite"
