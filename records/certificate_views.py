"""The certificate pages: the download of a certificate's PDF (its volunteer, or staff who see its
issuer) and the public verification page its QR code opens."""

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .certificates import Verification, certificate_for_download, certificate_verify
from .pdf import hours_text


@require_safe
def certificate_download(request, pk: int):
    """The PDF as an attachment; 404 to anyone but its volunteer and staff whose scope holds its issuer."""
    certificate = certificate_for_download(request.user, pk)
    if certificate is None or not certificate.pdf.storage.exists(certificate.pdf.name):
        raise Http404
    response = FileResponse(
        certificate.pdf.open("rb"),
        as_attachment=True,
        filename=f"{certificate.number}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def certificate_verify_page(request, number: str, token: str):
    """Public: whether the certificate is valid or revoked, with masked details; "unknown" otherwise."""
    result = certificate_verify(number, token)
    response = render(
        request,
        "records/certificate_verify.html",
        {
            "result": result,
            "total_hours": hours_text(result.total_hours) if result.total_hours is not None else "",
        },
        status=404 if result.status == Verification.UNKNOWN else 200,
    )
    # A revocation must show at the next scan, and the page is nothing for search engines.
    response["Cache-Control"] = "no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response
