"""Forms that show a service's refusal where it belongs: the admin, the workbench and the phone pages.

Forms check the shape of input; services check the rules and raise ApplicationError. A page runs the
service with `form.run_service(...)` and gets the refusal as a field error. The admin, which writes after
the form is valid, re-renders the same form with the refusal passed in as `service_error`.
"""

from __future__ import annotations

from django.db import transaction

from .errors import ApplicationError


class ServiceFormMixin:
    service_error: ApplicationError | None = None

    def add_service_error(self, error: ApplicationError) -> None:
        for field, message in error.field_errors():
            self.add_error(field if field in self.fields else None, message)

    def clean(self):
        cleaned = super().clean()
        if self.service_error is not None:
            self.add_service_error(self.service_error)
        return cleaned

    def run_service(self, service, /, **kwargs):
        """Call `service(**kwargs)` in a transaction; on refusal add it to the form and return None."""
        try:
            with transaction.atomic():
                return service(**kwargs)
        except ApplicationError as error:
            self.add_service_error(error)
            return None
