from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardsConfig(AppConfig):
    """Awards by year and kind to volunteers, teams, projects and units, and the public honour rolls."""

    name = "awards"
    verbose_name = _("Awards")

    def ready(self):
        from . import capabilities

        capabilities.register()
