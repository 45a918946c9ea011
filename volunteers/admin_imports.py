"""The admin's Excel import of volunteers: upload, the template, a job's preview and its progress.

`import_urls(wrap)` gives the paths, each wrapped by the admin site's `admin_view`; VolunteerAdmin puts
them under its change list. Only staff who register volunteers somewhere see these pages, and a job
only its uploader. The pages are thin: the rules are in volunteers.imports.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.admin_export import xlsx_response
from kernel.errors import ApplicationError
from kernel.forms import ServiceFormMixin

from . import imports
from .models import ImportJob, Volunteer

RECENT_JOBS = 10


class ImportUploadForm(ServiceFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + imports.XLSX_CONTENT_TYPE}),
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "My unit holds each volunteer's consent to the current privacy notice, and a guardian's "
            "consent for every volunteer under 18."
        ),
        required=True,
    )


def _require_importer(request) -> None:
    """The import pages are for those the import service accepts: others get a 403."""
    try:
        imports.require_importer(request.user)
    except ApplicationError:
        raise PermissionDenied from None


def _job_of(request, job_id: int) -> ImportJob:
    job = ImportJob.objects.visible_to(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


def _context(request, title: str, **extra) -> dict:
    return {
        **admin.site.each_context(request),
        "title": title,
        "opts": Volunteer._meta,
        **extra,
    }


def upload_view(request):
    _require_importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = form.run_service(
            imports.import_upload,
            actor=request.user,
            upload=form.cleaned_data["file"],
            consent=form.cleaned_data["consent"],
        )
        if job is not None:
            return redirect("admin:volunteers_volunteer_import_job", job_id=job.pk)
    recent = ImportJob.objects.visible_to(request.user).order_by("-created_at")[:RECENT_JOBS]
    context = _context(
        request,
        _("Import volunteers from Excel"),
        form=form,
        recent_jobs=recent,
        inline_rows=imports.inline_rows(),
        max_mb=imports.settings.VOLUNTEER_IMPORT_MAX_MB,
    )
    return TemplateResponse(request, "admin/volunteers/import.html", context)


def template_view(request):
    _require_importer(request)
    return xlsx_response(
        lambda file: imports.import_template(actor=request.user, file=file), filename="志愿者导入模板.xlsx"
    )


def job_view(request, job_id: int):
    _require_importer(request)
    job = _job_of(request, job_id)
    if request.method == "POST":
        try:
            job = imports.import_start(actor=request.user, job=job)
        except ApplicationError as refusal:
            messages.error(request, str(refusal.message))
        else:
            if job.status == ImportJob.Status.DONE:
                messages.success(
                    request, _("%(count)d volunteers were imported.") % {"count": job.imported_count}
                )
        return redirect("admin:volunteers_volunteer_import_job", job_id=job.pk)
    running = job.status in (ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING)
    context = _context(
        request,
        _("Volunteer import: %(name)s") % {"name": job.original_name},
        job=job,
        running=running,
        progress=imports.progress_of(job) if running else None,
        more_errors=max(0, job.error_count - len(job.errors)),
        progress_url=reverse("admin:volunteers_volunteer_import_progress", args=[job.pk]),
        upload_url=reverse("admin:volunteers_volunteer_import"),
    )
    return TemplateResponse(request, "admin/volunteers/import_job.html", context)


def progress_view(request, job_id: int):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    _require_importer(request)
    return JsonResponse(imports.progress_of(_job_of(request, job_id)))


def import_urls(wrap) -> list:
    return [
        path("import/", wrap(upload_view), name="volunteers_volunteer_import"),
        path("import/template/", wrap(template_view), name="volunteers_volunteer_import_template"),
        path("import/<int:job_id>/", wrap(job_view), name="volunteers_volunteer_import_job"),
        path(
            "import/<int:job_id>/progress/",
            wrap(progress_view),
            name="volunteers_volunteer_import_progress",
        ),
    ]
