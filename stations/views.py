"""Pages of the stations app."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.storage import storages
from django.http import FileResponse, Http404

from .models import InspectionPhoto
from .scoping import scope_for


@staff_member_required
def protected_file(request, path: str):
    """An evidence photo, to those whose scope holds the inspected unit; 404 to everyone else."""
    photo = InspectionPhoto.objects.select_related("inspection__unit").filter(image=path).first()
    if photo is None or not scope_for(request.user).contains(photo.inspection.unit):
        raise Http404
    storage = storages["protected"]
    if not storage.exists(path):
        raise Http404
    response = FileResponse(storage.open(path, "rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
