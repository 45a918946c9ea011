"""The workbench's form: an activity's report. It checks the shape; services.report_submit the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kernel.forms import MultipleImageField, MultipleImageInput, ServiceFormMixin


class KeptIdsField(forms.Field):
    """The ids of photos already staged (by the page's script, or by an earlier try of the form)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return [str(item) for item in value or []]


class ReportForm(ServiceFormMixin, forms.Form):
    text = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 8}))
    people_served = forms.IntegerField(label=_("People served"), min_value=0, max_value=1_000_000)
    # accept="image/*" lets a phone offer its camera and gallery; the image intake decides what is an image.
    photos = MultipleImageField(
        label=_("Photos"),
        help_text=_("Pick several at once: JPEG, PNG or WebP."),
        widget=MultipleImageInput(attrs={"accept": "image/*", "multiple": True}),
    )
    kept_photos = KeptIdsField(required=False)
    remove_photos = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, stored=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remove_photos"].choices = [(photo.pk, str(photo.pk)) for photo in stored]
