"""Writes on volunteers: registration (by the volunteer or by staff for them), changes, and the audited reveal
of an ID number. Teams, membership and transfers are in volunteers.teams; the Excel import in
volunteers.imports; SMS login in volunteers.login.

`volunteer_prepare` checks and normalizes one volunteer's details without writing anything, so the form,
the API and the import all apply the same rules; `volunteer_register` saves what it prepared.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import pagecache
from kernel.accounts import validate_new_password
from kernel.errors import ApplicationError
from kernel.locks import lock_objects
from kernel.services import model_save, model_update, model_validate
from kernel.validators import validate_person_name
from stations.models import Platform, Unit
from stations.paths import root_id
from stations.scoping import Capability as StationCapability
from stations.scoping import require, scope_for

from . import crypto
from .capabilities import Capability
from .identity import Gender, IdType, age_on, mask_id_number, parse_resident_id, validate_id_number
from .models import (
    Education,
    IdNumberReveal,
    MembershipStatus,
    PoliticalStatus,
    PrivacyNotice,
    TeamMembership,
    Volunteer,
    VolunteerNumberSequence,
    VolunteerStatus,
)
from .validators import normalize_mobile, validate_mobile

MINIMUM_AGE = 14  # under this, nobody registers (a child's details are not collected here)
ADULT_AGE = 18  # from MINIMUM_AGE to this, a guardian's consent is needed
# The choices' values, built once: `.values` makes a new list on every call, and an import checks each row.
_ID_TYPES = frozenset(IdType.values)
_GENDERS = frozenset(Gender.values)
_POLITICAL_STATUSES = frozenset(PoliticalStatus.values)
_EDUCATIONS = frozenset(Education.values)


@dataclass
class PreparedVolunteer:
    """One volunteer's details, checked and normalized, ready to be saved."""

    name: str
    id_type: str
    id_number: str
    id_number_hash: str
    birth_date: datetime.date
    gender: str
    phone: str
    home_unit: Unit
    political_status: str = PoliticalStatus.MASSES
    education: str = ""
    skills: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""
    domains: list = field(default_factory=list)

    def as_model(self, **extra) -> Volunteer:
        return Volunteer(
            name=self.name,
            id_type=self.id_type,
            id_number_encrypted=crypto.encrypt(self.id_number),
            id_number_hash=self.id_number_hash,
            id_number_masked=mask_id_number(self.id_number),
            birth_date=self.birth_date,
            gender=self.gender,
            phone=self.phone,
            home_unit=self.home_unit,
            political_status=self.political_status,
            education=self.education,
            skills=self.skills,
            guardian_name=self.guardian_name,
            guardian_phone=self.guardian_phone,
            **extra,
        )


def _check_name(name: str, field_name: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Enter the name."), field=field_name)
    try:
        validate_person_name(name)
    except Exception as error:  # a ValidationError with a translated message
        raise ApplicationError(error.messages[0], field=field_name) from None
    return name


def check_mobile(phone: str, field_name: str = "phone") -> str:
    phone = normalize_mobile(phone)
    if not phone:
        raise ApplicationError(_("Enter the mobile number."), field=field_name)
    try:
        validate_mobile(phone)
    except Exception as error:
        raise ApplicationError(error.messages[0], field=field_name) from None
    return phone


def check_age(
    birth_date: datetime.date,
    *,
    guardian_name: str = "",
    guardian_phone: str = "",
    guardian_consent: bool = False,
    today: datetime.date | None = None,
) -> tuple[str, str]:
    """Under 14 is refused; 14 to 17 needs a guardian's name, mobile and consent. The guardian's details."""
    today = today or timezone.localdate()
    age = age_on(birth_date, today)
    if age < MINIMUM_AGE:
        raise ApplicationError(
            _("Children under %(age)d cannot register as volunteers.") % {"age": MINIMUM_AGE},
            field="id_number",
        )
    if age >= ADULT_AGE:
        return "", ""
    if not (guardian_name or "").strip():
        raise ApplicationError(
            _("A volunteer under 18 needs a guardian: enter the guardian's name."), field="guardian_name"
        )
    name = _check_name(guardian_name, "guardian_name")
    phone = check_mobile(guardian_phone, "guardian_phone")
    if not guardian_consent:
        raise ApplicationError(
            _("A volunteer under 18 needs the guardian's consent: tick the box once the guardian agrees."),
            field="guardian_consent",
        )
    return name, phone


def check_identity(
    *, id_type: str, id_number: str, birth_date: datetime.date | None = None, gender: str = ""
) -> tuple[str, datetime.date, str]:
    """(normalized number, birth date, gender). A resident ID carries the last two; other documents
    need them given."""
    if id_type not in _ID_TYPES:
        raise ApplicationError(_("Choose the type of ID document."), field="id_type")
    if id_type == IdType.RESIDENT:
        resident = parse_resident_id(id_number)
        return resident.number, resident.birth_date, resident.gender
    number = validate_id_number(id_type, id_number)
    if birth_date is None:
        raise ApplicationError(_("Enter the date of birth."), field="birth_date")
    if gender not in _GENDERS:
        raise ApplicationError(_("Choose the gender."), field="gender")
    return number, birth_date, gender


def _check_home_unit(home_unit: Unit | None) -> Unit:
    if home_unit is None:
        raise ApplicationError(_("Choose the unit you belong to."), field="home_unit")
    if not home_unit.is_active:
        raise ApplicationError(_("This unit is no longer active; choose another."), field="home_unit")
    return home_unit


def _check_domains(domains, home_unit: Unit) -> list:
    domains = list(domains or [])
    center_id = root_id(home_unit.path)
    if any(platform.center_id != center_id or not platform.is_active for platform in domains):
        raise ApplicationError(_("Choose service domains of your own county."), field="domains")
    return domains


def volunteer_prepare(
    *,
    name: str,
    id_type: str = IdType.RESIDENT,
    id_number: str,
    phone: str,
    home_unit: Unit | None,
    birth_date: datetime.date | None = None,
    gender: str = "",
    political_status: str = PoliticalStatus.MASSES,
    education: str = "",
    skills: str = "",
    domains=(),
    guardian_name: str = "",
    guardian_phone: str = "",
    guardian_consent: bool = False,
    today: datetime.date | None = None,
) -> PreparedVolunteer:
    """Check one volunteer's details (no query beyond what the arguments hold): the first problem is
    raised as an ApplicationError naming its field."""
    name = _check_name(name)
    number, birth_date, gender = check_identity(
        id_type=id_type, id_number=id_number, birth_date=birth_date, gender=gender
    )
    guardian_name, guardian_phone = check_age(
        birth_date,
        guardian_name=guardian_name,
        guardian_phone=guardian_phone,
        guardian_consent=guardian_consent,
        today=today,
    )
    phone = check_mobile(phone)
    if guardian_phone and guardian_phone == phone:
        raise ApplicationError(_("The guardian's mobile must be the guardian's own."), field="guardian_phone")
    home_unit = _check_home_unit(home_unit)
    if political_status not in _POLITICAL_STATUSES:
        raise ApplicationError(_("Choose the political status."), field="political_status")
    if education and education not in _EDUCATIONS:
        raise ApplicationError(_("Choose the education."), field="education")
    return PreparedVolunteer(
        name=name,
        id_type=id_type,
        id_number=number,
        id_number_hash=crypto.id_hash(id_type, number),
        birth_date=birth_date,
        gender=gender,
        phone=phone,
        home_unit=home_unit,
        political_status=political_status,
        education=education,
        skills=(skills or "").strip(),
        guardian_name=guardian_name,
        guardian_phone=guardian_phone,
        domains=_check_domains(domains, home_unit),
    )


def id_number_taken_message() -> str:
    # Says nothing of who holds the number, or where.
    return _(
        "This ID number is already registered. If it is yours, log in, or ask your unit's admin for help."
    )


def phone_taken_message() -> str:
    return _("This mobile number is already registered; log in with it, or use another number.")


def volunteer_numbers_reserve(count: int) -> list[str]:
    """`count` new unified volunteer numbers, in order. Locks the sequence row until the transaction ends,
    so numbers never repeat; a rolled-back registration gives its number back."""
    from django.conf import settings

    if count <= 0:
        return []
    with transaction.atomic():
        sequence = VolunteerNumberSequence.objects.select_for_update().filter(pk=1).first()
        if sequence is None:
            VolunteerNumberSequence.objects.get_or_create(pk=1)
            sequence = VolunteerNumberSequence.objects.select_for_update().get(pk=1)
        first = sequence.last + 1
        sequence.last += count
        sequence.save(update_fields=["last"])
    prefix = settings.VOLUNTEER_NUMBER_PREFIX
    return [f"{prefix}{n:010d}" for n in range(first, first + count)]


def current_privacy_notice() -> PrivacyNotice:
    notice = PrivacyNotice.objects.filter(effective_from__lte=timezone.localdate()).first()
    if notice is None:
        raise ApplicationError(
            _("No privacy notice is in force; registration is closed until one is published.")
        )
    return notice


@transaction.atomic
def volunteer_register(
    *,
    actor,
    privacy_notice: PrivacyNotice,
    consent: bool,
    password: str | None = None,
    **details,
) -> Volunteer:
    """Register a volunteer. `actor` None is the volunteer registering themselves (the page makes their
    account with the phone as login and `password`); staff register for them inside their scope, and the
    volunteer logs in later by SMS code. One ID number, and one phone, register once."""
    if not consent:
        raise ApplicationError(_("Read the privacy notice and agree to it to register."), field="consent")
    prepared = volunteer_prepare(**details)
    if actor is not None:
        require(actor, Capability.VOLUNTEERS_CHANGE, prepared.home_unit, field="home_unit")
    if Volunteer.objects.filter(id_number_hash=prepared.id_number_hash).exists():
        raise ApplicationError(id_number_taken_message(), field="id_number")
    if Volunteer.objects.filter(phone=prepared.phone).exists():
        raise ApplicationError(phone_taken_message(), field="phone")
    user = _volunteer_account(phone=prepared.phone, name=prepared.name, password=password)
    now = timezone.now()
    volunteer = prepared.as_model(
        user=user,
        number=volunteer_numbers_reserve(1)[0],
        status=VolunteerStatus.ACTIVE,
        registered_on=timezone.localdate(),
        registered_by=actor,
        privacy_notice=privacy_notice,
        consented_at=now,
        guardian_consented_at=now if prepared.guardian_name else None,
    )
    model_validate(volunteer, exclude=["id_number_hash", "phone", "number", "user"])
    try:
        with transaction.atomic():
            volunteer.save()
    except IntegrityError as error:
        # Two registrations of the same number or phone at once: the loser gets the same message.
        if Volunteer.objects.filter(id_number_hash=prepared.id_number_hash).exists():
            raise ApplicationError(id_number_taken_message(), field="id_number") from error
        raise ApplicationError(phone_taken_message(), field="phone") from error
    if prepared.domains:
        volunteer.domains.set(prepared.domains)
    return volunteer


def _volunteer_account(*, phone: str, name: str, password: str | None):
    """The volunteer's login: the phone number as username. A password only when the volunteer chose one;
    otherwise they log in by SMS code."""
    model = get_user_model()
    if model._default_manager.filter(username__iexact=phone).exists():
        raise ApplicationError(phone_taken_message(), field="phone")
    user = model(username=phone, first_name=name)
    if password:
        validate_new_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


VOLUNTEER_FIELDS = ("name", "political_status", "education", "skills", "home_unit", "status")


# The public pages that show volunteers' names (the honour rolls, awards.services.HONOURS_PAGES): a change
# of consent drops them from the page cache at once. A name, not an import: awards sits above this app.
PUBLIC_NAME_PAGES = "awards:honours"


def volunteer_public_name_set(*, actor, volunteer: Volunteer, shown: bool) -> None:
    """The volunteer's own consent (PIPL) to their name and number on public pages: theirs alone to
    give or take back, so staff cannot give it for them."""
    if actor is None or volunteer.user_id != actor.pk:
        raise ApplicationError(_("Only the volunteer decides whether their name is shown."))
    Volunteer.objects.filter(pk=volunteer.pk).update(public_name=shown, updated_at=timezone.now())
    volunteer.public_name = shown
    pagecache.invalidate(PUBLIC_NAME_PAGES)


@transaction.atomic
def volunteer_update(*, actor, volunteer: Volunteer, domains=None, **fields) -> Volunteer:
    """Staff change a volunteer of their scope (a move to another unit also needs that unit in scope);
    a volunteer changes their own skills and domains (`actor` is their account)."""
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    own = actor is not None and volunteer.user_id == actor.pk
    if own:
        if set(fields) - {"skills", "education", "political_status"}:
            raise ApplicationError(_("Ask your unit's admin to change these details."))
    else:
        require(actor, Capability.VOLUNTEERS_CHANGE, volunteer.home_unit)
        if "home_unit" in fields and fields["home_unit"].pk != volunteer.home_unit_id:
            require(actor, Capability.VOLUNTEERS_CHANGE, fields["home_unit"], field="home_unit")
            _check_home_unit(fields["home_unit"])
    if "name" in fields:
        fields["name"] = _check_name(fields["name"])
    leaving = fields.get("status") == VolunteerStatus.LEFT and volunteer.status != VolunteerStatus.LEFT
    volunteer, _changed = model_update(instance=volunteer, fields=VOLUNTEER_FIELDS, data=fields)
    if domains is not None:
        volunteer.domains.set(_check_domains(domains, volunteer.home_unit))
    if leaving:
        # A volunteer who leaves leaves every team too (asked-for joins are withdrawn).
        today = timezone.localdate()
        for membership in lock_objects(TeamMembership.objects.open().filter(volunteer=volunteer)):
            membership.status = MembershipStatus.LEFT
            membership.left_on = today
            model_save(membership, update_fields=["status", "left_on", "updated_at"])
    return volunteer


def volunteer_find_by_id_number(*, actor, id_type: str, id_number: str):
    """Exact-number search: the volunteer with this number, if the actor sees them (else None)."""
    number = validate_id_number(id_type, id_number)
    return Volunteer.objects.visible_to(actor).filter(id_number_hash=crypto.id_hash(id_type, number)).first()


@transaction.atomic
def id_number_reveal(*, actor, volunteer: Volunteer, ip_address: str | None = None) -> str:
    """The full ID number, for a role that needs it; each reveal is written to the audit log."""
    require(
        actor,
        Capability.VOLUNTEERS_VIEW_ID_NUMBER,
        volunteer.home_unit,
        message=_("Your role does not show full ID numbers."),
    )
    IdNumberReveal.objects.create(
        actor=actor, volunteer=volunteer, purpose=IdNumberReveal.Purpose.DETAIL, ip_address=ip_address
    )
    return crypto.decrypt(volunteer.id_number_encrypted)


def platforms_for(unit: Unit):
    """The service domains a volunteer of `unit` may choose: its county's active platforms."""
    return Platform.objects.filter(center_id=root_id(unit.path), is_active=True)


@transaction.atomic
def id_numbers_export_audit(*, actor, count: int, ip_address: str | None = None) -> IdNumberReveal:
    """The audit row of an export holding full ID numbers: who, when, from where, and how many."""
    scope = scope_for(actor)
    if not scope.has(Capability.VOLUNTEERS_VIEW_ID_NUMBER):
        raise ApplicationError(_("Your role does not show full ID numbers."))
    return IdNumberReveal.objects.create(
        actor=actor, purpose=IdNumberReveal.Purpose.EXPORT, count=count, ip_address=ip_address
    )


# --- Privacy notices -------------------------------------------------------------------------------

PRIVACY_NOTICE_FIELDS = ("version", "title", "body", "effective_from")


def privacy_notice_may_publish(actor) -> bool:
    """System administrators and county admins (a role on a center) publish privacy notices."""
    if actor is None:
        return True
    scope = scope_for(actor)
    return scope.is_global or bool(scope.center_ids(StationCapability.REFERENCE_CHANGE))


def privacy_notice_in_use(notice: PrivacyNotice) -> bool:
    return Volunteer.objects.filter(privacy_notice=notice).exists()


def _require_privacy_publisher(actor) -> None:
    if not privacy_notice_may_publish(actor):
        raise ApplicationError(_("Only a county admin publishes privacy notices."))


@transaction.atomic
def privacy_notice_publish(*, actor, version: str, title: str, body: str, effective_from) -> PrivacyNotice:
    """A new version of the privacy notice; registrations from `effective_from` consent to it."""
    _require_privacy_publisher(actor)
    version = (version or "").strip()
    if PrivacyNotice.objects.filter(version=version).exists():
        raise ApplicationError(
            _("This version already exists; give the new notice a new version."), field="version"
        )
    notice = PrivacyNotice(
        version=version, title=(title or "").strip(), body=body or "", effective_from=effective_from
    )
    model_validate(notice)
    model_save(notice)
    return notice


@transaction.atomic
def privacy_notice_update(*, actor, notice: PrivacyNotice, **fields) -> PrivacyNotice:
    """Correct a notice nobody has consented to yet; one consented to stays as it was consented to."""
    _require_privacy_publisher(actor)
    notice = PrivacyNotice.objects.select_for_update().get(pk=notice.pk)
    if privacy_notice_in_use(notice):
        raise ApplicationError(
            _("Volunteers have consented to this version: publish a new version instead of changing it.")
        )
    notice, _changed = model_update(instance=notice, fields=PRIVACY_NOTICE_FIELDS, data=fields)
    return notice
