"""Service certificates (志愿服务证明): asking for one, issuing it (the Celery task's body), revoking it,
and verifying it from its QR code. Free of charge; whoever organised a service certifies it
(谁记录谁证明), so a volunteer asks the center of their county or a unit that organised their service.

Numbers: `<issuer code>-<year>-<sequence>`, e.g. `SC-2026-000042`: the sequence counts from 1 per issuing
unit and calendar year, six digits (more once a unit passes 999,999). A unit whose code is too long for
the column takes `U<unit id>` in its place. A number is taken in the same transaction that stores the
finished PDF, under the row lock of its `CertificateSequence`, so a certificate that fails to render gives
its number back and the numbers have no gaps.

Verification: the QR code holds `SITE_URL` + `/records/verify/<number>/<code>/`, the code a random one
stored with the certificate when it is issued (not derived from a key, so no key rotation ever breaks a
printed certificate); a made-up number or a wrong code reads "unknown". The page shows masked details
only: no ID number, no phone.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.locks import lock_keys
from stations.models import Unit
from stations.paths import root_id
from stations.scoping import scope_for
from volunteers.models import Volunteer

from . import pdf
from .capabilities import Capability
from .models import (
    Certificate,
    CertificateSequence,
    CertificateStatus,
    IssuerProfile,
    RecordEvent,
    ServiceRecord,
)

logger = logging.getLogger(__name__)

_NUMBER_LENGTH = Certificate._meta.get_field("number").max_length


# --- Reads -----------------------------------------------------------------------------------------


def certificate_issuers(volunteer: Volunteer) -> QuerySet[Unit]:
    """The units `volunteer` may ask a certificate from: the center of their county, and every active
    unit that organised one of their approved, current records; in tree order."""
    organisers = ServiceRecord.objects.of_volunteer(volunteer).approved_current().values("unit_id")
    center_id = root_id(volunteer.home_unit.path)
    return Unit.objects.filter(Q(pk=center_id) | Q(pk__in=organisers), is_active=True).order_by("path")


def _records_to_certify(volunteer_id: int, issuer: Unit, period_from, period_to) -> QuerySet[ServiceRecord]:
    records = ServiceRecord.objects.filter(volunteer_id=volunteer_id, unit__path__startswith=issuer.path)
    records = records.approved_current()
    if period_from is not None:
        records = records.filter(service_date__gte=period_from)
    if period_to is not None:
        records = records.filter(service_date__lte=period_to)
    return records


def certificate_records(certificate: Certificate) -> QuerySet[ServiceRecord]:
    """The records a certificate lists, in the order it prints them."""
    return certificate.records.select_related("unit").order_by("service_date", "started_at", "pk")


def certificate_for_download(user, certificate_id: int) -> Certificate | None:
    """An issued certificate with its PDF, for its volunteer or for staff who see its issuer; else None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    mine = Certificate.objects.filter(volunteer__user=user)
    return (
        (mine | Certificate.objects.visible_to(user))
        .issued()
        .exclude(pdf="")
        .filter(pk=certificate_id)
        .select_related("volunteer", "issuer")
        .first()
    )


# --- Asking for one --------------------------------------------------------------------------------


def _require_may_request(actor, volunteer: Volunteer, issuer: Unit) -> None:
    if actor is None or (volunteer.user_id is not None and volunteer.user_id == actor.pk):
        return
    if not scope_for(actor).contains(issuer, capability=Capability.CERTIFICATES_MANAGE):
        raise ApplicationError(
            _("You may ask for a certificate for yourself, or for a volunteer as staff of the issuing unit."),
            field="volunteer",
        )


def _check_period(period_from, period_to) -> None:
    today = timezone.localdate()
    if period_from is not None and period_to is not None and period_from > period_to:
        raise ApplicationError(_("The period must start on or before its last day."), field="period_to")
    for name, day in (("period_from", period_from), ("period_to", period_to)):
        if day is not None and day > today:
            raise ApplicationError(_("The period cannot lie in the future."), field=name)


def certificate_request(
    *,
    actor,
    volunteer: Volunteer,
    issuer: Unit,
    period_from: datetime.date | None = None,
    period_to: datetime.date | None = None,
) -> Certificate:
    """Ask `issuer` for a certificate of `volunteer`'s approved service (in the period, if given). Free
    of charge. The PDF is made by the Celery task `records.certificate_issue` once this commits."""
    _require_may_request(actor, volunteer, issuer)
    if issuer is None or not certificate_issuers(volunteer).filter(pk=issuer.pk).exists():
        raise ApplicationError(
            _(
                "This unit cannot certify your service: ask the practice center of your county or a unit "
                "that organised your service."
            ),
            field="issuer",
        )
    _check_period(period_from, period_to)
    if not _records_to_certify(volunteer.pk, issuer, period_from, period_to).exists():
        raise ApplicationError(
            _("%(unit)s has no approved service of yours to certify in this period.") % {"unit": issuer},
            field="period_from" if period_from or period_to else "issuer",
        )
    with transaction.atomic():
        # Two clicks at once: the second waits here, then finds the first.
        lock_keys(f"certificate:request:{volunteer.pk}:{issuer.pk}")
        waiting = Certificate.objects.filter(
            volunteer=volunteer, issuer=issuer, status=CertificateStatus.REQUESTED
        )
        if waiting.exists():
            raise ApplicationError(
                _("A certificate from %(unit)s is already being prepared; it will be ready shortly.")
                % {"unit": issuer},
                field="issuer",
            )
        certificate = Certificate.objects.create(
            volunteer=volunteer,
            issuer=issuer,
            requested_by=actor,
            period_from=period_from,
            period_to=period_to,
        )
        from .tasks import certificate_issue as issue_task

        issue_task.delay_on_commit(certificate.pk)
    return certificate


# --- Issuing (the task) ----------------------------------------------------------------------------


def _number(issuer: Unit, year: int, sequence: int) -> str:
    number = f"{issuer.code}-{year}-{sequence:06d}"
    if len(number) > _NUMBER_LENGTH:
        number = f"U{issuer.pk}-{year}-{sequence:06d}"
    return number


def _issuer_details(issuer: Unit) -> tuple[str, str, str, IssuerProfile | None]:
    """(person in charge, handler, contact, profile): the issuer's profile, else its contact person."""
    profile = IssuerProfile.objects.filter(unit=issuer).first()
    if profile is not None:
        return profile.person_in_charge, profile.handler, profile.contact, profile
    return issuer.contact_person, issuer.contact_person, issuer.contact_phone, None


def _read_seal(profile: IssuerProfile | None) -> bytes | None:
    if profile is None or not profile.seal:
        return None
    with profile.seal.open("rb") as seal:
        return seal.read()


def _document(
    certificate: Certificate, records: list[ServiceRecord], seal: bytes | None
) -> pdf.CertificateDocument:
    volunteer = certificate.volunteer
    return pdf.CertificateDocument(
        number=certificate.number,
        issued_on=timezone.localdate(certificate.issued_at),
        name=volunteer.name,
        id_type=volunteer.id_type,
        id_number_masked=volunteer.id_number_masked,
        volunteer_number=volunteer.number,
        period_from=certificate.period_from,
        period_to=certificate.period_to,
        rows=[pdf.RecordRow(r.service_date, r.content, r.hours, r.unit.name) for r in records],
        total_hours=certificate.total_hours,
        issuer=certificate.issuer.name,
        person_in_charge=certificate.person_in_charge,
        handler=certificate.handler,
        contact=certificate.contact,
        verify_url=verify_absolute_url(certificate),
        seal=seal,
    )


def _issue(certificate_id: int) -> Certificate | None:
    certificate = (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("volunteer", "issuer")
        .filter(pk=certificate_id)
        .first()
    )
    if certificate is None or certificate.status != CertificateStatus.REQUESTED:
        return certificate  # gone, or done by an earlier run: nothing to do
    issuer = certificate.issuer
    records = list(
        _records_to_certify(certificate.volunteer_id, issuer, certificate.period_from, certificate.period_to)
        .select_related("unit")
        .order_by("service_date", "started_at", "pk")
    )
    if not records:
        raise ApplicationError(_("No approved service is left to certify in this period."))
    person_in_charge, handler, contact, profile = _issuer_details(issuer)
    seal = _read_seal(profile)

    issued_at = timezone.now()
    year = timezone.localdate(issued_at).year
    # The one place a number is taken: under this lock, numbers of (issuer, year) are given one at a time.
    sequence_row, _created = CertificateSequence.objects.get_or_create(issuer=issuer, year=year)
    sequence_row = CertificateSequence.objects.select_for_update().get(pk=sequence_row.pk)
    sequence_row.last += 1
    sequence_row.save(update_fields=["last"])

    certificate.year, certificate.sequence = year, sequence_row.last
    certificate.number = _number(issuer, year, sequence_row.last)
    certificate.verify_code = secrets.token_urlsafe(12)
    certificate.issued_at = issued_at
    certificate.total_hours = sum((record.hours for record in records), Decimal(0))
    certificate.person_in_charge = person_in_charge
    certificate.handler = handler
    certificate.contact = contact
    content = pdf.render_certificate(_document(certificate, records, seal))
    certificate.pdf.save(f"{certificate.number}.pdf", ContentFile(content), save=False)
    try:
        certificate.status = CertificateStatus.READY
        certificate.error = ""
        certificate.save()
        certificate.records.set(records)
        # The audit trail of each record says it was certified: one INSERT for all of them.
        RecordEvent.objects.bulk_create(
            RecordEvent(
                record=record,
                action=RecordEvent.Action.CERTIFIED,
                actor=None,
                actor_name=_("system"),
                note=certificate.number,
            )
            for record in records
        )
    except BaseException:
        certificate.pdf.storage.delete(certificate.pdf.name)  # the row that names it rolls back
        raise
    return certificate


def certificate_issue(certificate_id: int) -> Certificate | None:
    """Number, render and store a requested certificate. A second run of an issued one does nothing. A
    failure to render marks it failed with the error, and its number is not used up. Database errors
    propagate, for the task to retry."""
    try:
        with transaction.atomic():
            return _issue(certificate_id)
    except DatabaseError:
        raise
    except Exception as error:
        logger.exception("certificate %s could not be issued", certificate_id)
        text = (
            str(error.message) if isinstance(error, ApplicationError) else f"{type(error).__name__}: {error}"
        )
        with transaction.atomic():
            Certificate.objects.filter(pk=certificate_id, status=CertificateStatus.REQUESTED).update(
                status=CertificateStatus.FAILED, error=text[:300], updated_at=timezone.now()
            )
        return Certificate.objects.filter(pk=certificate_id).first()


# --- Revoking --------------------------------------------------------------------------------------


def certificate_revoke(*, actor, certificate: Certificate, reason: str) -> Certificate:
    """Revoke an issued certificate, with the reason: staff with certificates.manage on its issuer. The
    PDF stays; its verification page says "revoked" from now on."""
    reason = (reason or "").strip()
    with transaction.atomic():
        allowed = Certificate.objects.all() if actor is None else Certificate.objects.changeable_by(actor)
        locked = allowed.select_for_update(of=("self",)).filter(pk=certificate.pk).first()
        if locked is None:
            raise ApplicationError(_("This certificate is outside the area you administer."))
        if not reason:
            raise ApplicationError(_("Give the reason for revoking."), field="reason")
        if locked.status != CertificateStatus.READY:
            raise ApplicationError(
                _("Only an issued certificate can be revoked (this one: %(status)s).")
                % {"status": locked.get_status_display()}
            )
        locked.status = CertificateStatus.REVOKED
        locked.mark_revoked(actor=actor, reason=reason, also=("status",))
    return locked


# --- Verifying -------------------------------------------------------------------------------------


def verify_url(certificate: Certificate) -> str:
    """The path of the certificate's public verification page (what its QR code opens)."""
    return reverse("records:certificate-verify", args=[certificate.number, certificate.verify_code])


def verify_absolute_url(certificate: Certificate) -> str:
    return settings.SITE_URL + verify_url(certificate)


def mask_name(name: str) -> str:
    """张三 → 张*, 张志愿 → 张*愿, 欧阳小明 → 欧**明: enough to recognise, not to identify."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class Verification:
    status: str  # VALID, REVOKED or UNKNOWN
    number: str = ""
    masked_name: str = ""
    volunteer_number: str = ""
    issuer: str = ""
    total_hours: Decimal | None = None
    issued_on: datetime.date | None = None
    revoked_on: datetime.date | None = None

    VALID = "valid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"

    @property
    def is_valid(self) -> bool:
        return self.status == self.VALID

    @property
    def is_revoked(self) -> bool:
        return self.status == self.REVOKED


def certificate_verify(number: str, token: str) -> Verification:
    """What the public page says of `number`: valid or revoked, with masked details; unknown for a
    number that was never issued or a token that does not match it."""
    certificate = (
        Certificate.objects.issued().filter(number=number).select_related("volunteer", "issuer").first()
    )
    if certificate is not None and not (
        certificate.verify_code
        and secrets.compare_digest(certificate.verify_code.encode(), (token or "").encode())
    ):
        certificate = None
    if certificate is None:
        return Verification(Verification.UNKNOWN)
    revoked = certificate.status == CertificateStatus.REVOKED
    return Verification(
        status=Verification.REVOKED if revoked else Verification.VALID,
        number=certificate.number,
        masked_name=mask_name(certificate.volunteer.name),
        volunteer_number=certificate.volunteer.number,
        issuer=certificate.issuer.name,
        total_hours=certificate.total_hours,
        issued_on=timezone.localdate(certificate.issued_at),
        revoked_on=timezone.localdate(certificate.revoked_at) if revoked else None,
    )
