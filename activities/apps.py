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
        # The activities and sign-ups of seed_scale's data set: a phase after the service records'; then
        # their reports (图文资料) with photo rows, a phase after the activities' (imported in this order).
        from . import scale, scale_reports  # noqa: F401
