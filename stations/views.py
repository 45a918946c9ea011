"""Pages of the stations app."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.storage import storages
from django.http import FileResponse, Http404

from .models import InspectionPhoto


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
