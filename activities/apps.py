from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from . import capabilities

        capabilities.register()

        from volunteers import navigation

        navigation.register("activities", _("Activities"), "activities:list", order=15)
        navigation.register("my-activities", _("My activities"), "activities:mine", order=16)
        navigation.register("inbox", _("Inbox"), "activities:inbox", order=60)

        from . import workbench

        navigation.register(
            "workbench",
            _("Workbench"),
            "activities:workbench",
            show=lambda request: workbench._runs_anything(request.user),
            order=45,
        )
        # The activities and sign-ups of seed_scale's data set: a phase after the service records'.
        from . import scale  # noqa: F401
