from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("Volunteers")

    def ready(self):
        from . import capabilities

        # Volunteer capabilities on the unit roles, and the team-leader role on the team tree.
        capabilities.register()
