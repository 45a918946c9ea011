from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    """Residents' requests for a service (点单 › 派单 › 接单 › 评单), served by teams through activities."""

    name = "residents"
    verbose_name = _("Residents' requests")

    def ready(self):
        from . import capabilities

        capabilities.register()

        # The requests of seed_scale's data set: a phase after the activities'.
        from . import scale  # noqa: F401
