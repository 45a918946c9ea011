from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Service records")

    def ready(self):
        from . import capabilities

        # Approving hours, trainings, evaluations, certificates and exports on the unit roles, and
        # approving and evaluating on the team-leader role.
        capabilities.register()
