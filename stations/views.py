"""Pages of the stations app."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.storage import storages
from django.http import FileResponse, Http404
from django.shortcuts import render

from kernel.masking import mask_phone

from .models import InspectionPhoto
from .selectors import public_unit


@staff_member_required
def protected_file(request, path: str):
    """An evidence photo, to those whose scope holds the inspected unit; 404 to everyone else."""
    if not InspectionPhoto.objects.visible_to(request.user).filter(image=path).exists():
        raise Http404
    storage = storages["protected"]
    if not storage.exists(path):
        raise Http404
    response = FileResponse(storage.open(path, "rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def unit_page(request, unit_id: int):
    """The public page of an active institute or station: where it is, whom to call (phone masked),
    its recognition and highlight, and an institute's active stations."""
    unit = public_unit(unit_id=unit_id)
    if unit is None:
        raise Http404
    return render(
        request,
        "stations/unit_page.html",
        {"unit": unit, "masked_phone": mask_phone(unit.contact_phone), "stations": unit.active_stations},
    )
