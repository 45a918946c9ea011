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
        # The volunteers' menu: my service for volunteers, the approval queue for whoever decides records.
        from volunteers import navigation

        from . import views

        navigation.register("records", _("My service"), "records:mine", order=20)
        navigation.register(
            "approvals",
            _("Approvals"),
            "records:queue",
            show=lambda request: views.decides_records(request.user),
            order=40,
        )
        # The service records of seed_scale's data set: a phase after the volunteers'.
        from . import scale  # noqa: F401
