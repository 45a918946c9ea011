from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("Practice network")

    def ready(self):
        from kernel.accounts import register_account_extension

        from .admin_accounts import StationsAccountAdmin

        # Roles on units decide who manages which staff account (stations.accounts).
        register_account_extension(StationsAccountAdmin())
