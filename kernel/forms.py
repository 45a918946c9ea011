"""Forms that show a service's refusal where it belongs: the admin, the workbench and the phone pages.

Forms check the shape of input; services check the rules and raise ApplicationError. A page runs the
service with `form.run_service(...)` and gets the refusal as a field error. The admin, which writes after
the form is valid, re-renders the same form with the refusal passed in as `service_error`.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several images picked at once; cleaned to a list of uploads (the image intake checks each)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleImageField, self).clean(upload, initial) for upload in files]


class KeptPhotosWidget(forms.Widget):
    """The photos kept from an earlier try, as thumbnails with a box to keep each."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])

    def render(self, name, value, attrs=None, renderer=None):
        ids = [str(item) for item in (value or [])]
        if not ids:
            return ""
        return format_html(
            '<div class="kept-photos">{}</div>',
            format_html_join(
                "",
                '<label class="kept-photo"><img src="{}" alt="" width="120" loading="lazy">'
                '<span><input type="checkbox" name="{}" value="{}" checked> {}</span></label>',
                ((reverse("staged-upload", args=[pk]), name, pk, _("keep")) for pk in ids),
            ),
        )


class KeptPhotosFormMixin(forms.Form):
    """A form with a `photos` field (several images at once) whose picks survive an error: each picked
    image is kept server-side (kernel.uploads) and shown again as a thumbnail; `cleaned_data["add_photos"]`
    is the list of kept uploads for the service to take over. The view sets `photo_owner`."""

    photo_owner = None

    class Media:
        css = {"all": ["css/admin-photos.css"]}

    add_photos = MultipleImageField(
        label=gettext_lazy("photos"),
        help_text=gettext_lazy("Pick several at once. They are kept if the form comes back with an error."),
    )
    kept_photos = forms.Field(
        label=gettext_lazy("photos picked before"), required=False, widget=KeptPhotosWidget
    )

    def clean(self):
        from .uploads import staged_upload_create, staged_uploads_of

        cleaned = super().clean()
        owner = self.photo_owner
        if owner is None:
            raise ImproperlyConfigured(f"{type(self).__name__}.photo_owner is not set")
        kept = staged_uploads_of(owner=owner, ids=cleaned.get("kept_photos") or [])
        for upload in cleaned.get("add_photos") or []:
            try:
                kept.append(staged_upload_create(owner=owner, upload=upload, field="add_photos"))
            except ApplicationError as error:
                self.add_error("add_photos", f"{upload.name}: {error.message}")
        # Shown again with the form if anything else is wrong: the data is what a widget renders from.
        data = self.data.copy()
        data.setlist(self.add_prefix("kept_photos"), [str(row.pk) for row in kept])
        self.data = data
        cleaned["add_photos"] = kept
        cleaned.pop("kept_photos", None)
        return cleaned
