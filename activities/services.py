"""Every write of the activities app: planning and publishing activities, sign-ups with their waitlist,
check-in and check-out, the organiser's offline roster, and reports. One function per use case, each in
a transaction, refusing with an `ApplicationError` that names the field.

Locks are taken in one order everywhere, so two requests never wait on each other in a circle: the
activity row first, then the volunteer's row (records.services takes the same volunteer lock when the
attendance record is made). Whatever is counted against a limit is counted under the activity's lock,
and the database refuses the impossible state behind it (activities.models).
"""

from __future__ import annotations

import datetime
import io
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from PIL import Image

from kernel import pagecache
from kernel.errors import ApplicationError
from kernel.files import delete_file_on_commit
from kernel.images import IntakeImage, image_intake, image_thumbnail
from kernel.inbox import notify
from kernel.models import StagedUpload
from kernel.uploads import staged_upload_take
from projects.models import Project, ProjectStatus
from records import rules as record_rules
from records import services as records
from records.models import FlagKind, RecordSource
from stations.models import Platform, Unit
from stations.paths import root_id
from stations.scoping import require, scope_for
from volunteers.models import Volunteer, VolunteerStatus

from . import checkin
from .capabilities import Capability
from .models import (
    Activity,
    ActivityOrganiser,
    ActivityReport,
    ActivityReportPhoto,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    OfflineAction,
    OfflineEntry,
    OfflineOutcome,
    Signup,
    SignupStatus,
)
from .querysets import ACTIVITY_RULE, RUN_RULE

# The public activity list's name in the page cache: what a service changes on a listed activity drops it.
LIST_PAGE = "activities:list"

logger = logging.getLogger(__name__)

# --- Settings read where they are used -----------------------------------------------------------------


def cancel_deadline(activity: Activity) -> datetime.datetime:
    """Until when a volunteer may cancel their own sign-up."""
    return activity.started_at - datetime.timedelta(hours=settings.ACTIVITY_CANCEL_HOURS_BEFORE)


def checkin_opens(activity: Activity) -> datetime.datetime:
    return activity.started_at - datetime.timedelta(minutes=settings.ACTIVITY_CHECKIN_EARLY_MINUTES)


def checkin_closes(activity: Activity) -> datetime.datetime:
    """The last moment a check-in or check-out is taken; after it, missed check-outs are closed."""
    return activity.ended_at + datetime.timedelta(minutes=settings.ACTIVITY_CHECKOUT_GRACE_MINUTES)


def _span(activity: Activity) -> str:
    start = timezone.localtime(activity.started_at)
    end = timezone.localtime(activity.ended_at)
    end_format = "H:i" if start.date() == end.date() else "Y-m-d H:i"
    return f"{date_format(start, 'Y-m-d H:i')}–{date_format(end, end_format)}"


# --- Planning --------------------------------------------------------------------------------------------

_TEXT_LIMITS = {"title": 100, "venue": 200, "requirements": 500, "insurance_note": 200}


def _text(value, field: str, *, required: bool = False) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not value:
        messages = {
            "title": _("Give the activity a title."),
            "venue": _("Say where the activity takes place."),
        }
        raise ApplicationError(messages.get(field, _("This field is required.")), field=field)
    limit = _TEXT_LIMITS.get(field)
    if limit and len(value) > limit:
        raise ApplicationError(_("At most %(limit)d characters.") % {"limit": limit}, field=field)
    return value


def _coordinate(value, field: str, low: int, high: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise ApplicationError(_("Give a number."), field=field) from None
    if not low <= number <= high:
        raise ApplicationError(
            _("Give a number from %(low)d to %(high)d.") % {"low": low, "high": high}, field=field
        )
    return number


def _capacity(value) -> int:
    try:
        capacity = int(str(value).strip())
    except (TypeError, ValueError):
        raise ApplicationError(_("Give the number of places as a whole number."), field="capacity") from None
    if not 1 <= capacity <= 100_000:
        raise ApplicationError(_("Give from 1 to 100,000 places."), field="capacity")
    return capacity


def _report_days(value) -> int:
    """The days after the end a report is due: settings.ACTIVITY_REPORT_DAYS unless given."""
    if value in (None, ""):
        return settings.ACTIVITY_REPORT_DAYS
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise ApplicationError(_("Give a whole number of days."), field="report_days") from None
    if not 0 <= days <= 90:
        raise ApplicationError(_("Give a whole number of days from 0 to 90."), field="report_days")
    return days


def _check_times(started_at, ended_at, opens_at, closes_at) -> None:
    for field, value in (
        ("started_at", started_at),
        ("ended_at", ended_at),
        ("signup_opens_at", opens_at),
        ("signup_closes_at", closes_at),
    ):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            raise ApplicationError(_("Give a date and time."), field=field)
    if started_at.year < 2000:
        raise ApplicationError(_("An activity starts in the year 2000 or later."), field="started_at")
    if ended_at <= started_at:
        raise ApplicationError(_("The end must be after the start."), field="ended_at")
    if ended_at - started_at > datetime.timedelta(days=settings.ACTIVITY_MAX_DAYS):
        raise ApplicationError(
            _("An activity lasts at most %(days)d days: plan a longer one as several.")
            % {"days": settings.ACTIVITY_MAX_DAYS},
            field="ended_at",
        )
    if closes_at <= opens_at:
        raise ApplicationError(_("Sign-up must close after it opens."), field="signup_closes_at")
    if closes_at > ended_at:
        raise ApplicationError(
            _("Sign-up closes at the end of the activity at the latest."), field="signup_closes_at"
        )


def _check_project(project: Project | None, unit: Unit) -> None:
    if project is None:
        return
    if root_id(project.unit.path) != root_id(unit.path):
        raise ApplicationError(_("Choose a project of this county."), field="project")
    if project.status not in (ProjectStatus.PUBLISHED, ProjectStatus.RUNNING):
        raise ApplicationError(_("Choose a project that is published or running."), field="project")


def _check_domain(domain: Platform | None, unit: Unit) -> None:
    if domain is not None and (domain.center_id != root_id(unit.path) or not domain.is_active):
        raise ApplicationError(_("Choose a service platform of this unit's county."), field="domain")


def may_organise(user, unit: Unit) -> bool:
    """Who may be named an organiser of an activity of `unit`: an active account that is staff whose
    scope holds the unit, or an active volunteer of the same county."""
    if user is None or not user.is_active:
        return False
    if scope_for(user).contains(unit):
        return True
    return Volunteer.objects.filter(
        user=user, status=VolunteerStatus.ACTIVE, home_unit__path__startswith=unit.path[:9]
    ).exists()


def _check_organisers(organisers, unit: Unit) -> list:
    users = list(dict.fromkeys(organisers))
    for user in users:
        if not may_organise(user, unit):
            raise ApplicationError(
                _("An organiser is a staff member of this unit or an active volunteer of this county."),
                field="organisers",
            )
    return users


def activity_create(
    *,
    actor,
    unit: Unit,
    title: str,
    venue: str,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    capacity,
    signup_opens_at: datetime.datetime | None = None,
    signup_closes_at: datetime.datetime | None = None,
    project: Project | None = None,
    domain: Platform | None = None,
    description: str = "",
    requirements: str = "",
    longitude=None,
    latitude=None,
    needs_insurance: bool = False,
    insurance_note: str = "",
    organisers=(),
    report_days=None,
) -> Activity:
    """A new activity, a draft until it is published. Sign-up opens now and closes at the start unless
    told otherwise; whoever plans it organises it unless others are named."""
    require(actor, Capability.ACTIVITIES_CHANGE, unit, field="unit")
    if not unit.is_active:
        raise ApplicationError(_("This unit is no longer active."), field="unit")
    title = _text(title, "title", required=True)
    venue = _text(venue, "venue", required=True)
    opens_at, closes_at = signup_opens_at, signup_closes_at or started_at
    if opens_at is None and isinstance(started_at, datetime.datetime):
        opens_at = min(timezone.now(), started_at - datetime.timedelta(days=1))
    _check_times(started_at, ended_at, opens_at, closes_at)
    capacity = _capacity(capacity)
    _check_project(project, unit)
    _check_domain(domain if domain is not None else None, unit)
    if domain is None and project is not None:
        domain = project.domain
    users = _check_organisers(organisers or ([actor] if actor is not None else []), unit)
    with transaction.atomic():
        activity = Activity.objects.create(
            unit=unit,
            project=project,
            domain=domain,
            title=title,
            description=(description or "").strip(),
            venue=venue,
            longitude=_coordinate(longitude, "longitude", -180, 180),
            latitude=_coordinate(latitude, "latitude", -90, 90),
            started_at=started_at,
            ended_at=ended_at,
            capacity=capacity,
            signup_opens_at=opens_at,
            signup_closes_at=closes_at,
            requirements=_text(requirements, "requirements"),
            needs_insurance=bool(needs_insurance),
            insurance_note=_text(insurance_note, "insurance_note"),
            report_days=_report_days(report_days),
            created_by=actor,
        )
        ActivityOrganiser.objects.bulk_create(
            ActivityOrganiser(activity=activity, user=user) for user in users
        )
    return activity


def _locked(activity: Activity | int) -> Activity:
    """The activity, read again under its row lock, with its unit (which is not locked)."""
    pk = activity.pk if isinstance(activity, Activity) else activity
    try:
        return Activity.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pk)
    except Activity.DoesNotExist:
        raise ApplicationError(_("There is no such activity."), field="activity") from None


def _require_change(actor, activity: Activity, field: str = "activity") -> None:
    if actor is not None and not ACTIVITY_RULE.can_change(actor, activity):
        raise ApplicationError(_("This activity is outside the area you administer."), field=field)


def _require_run(actor, activity: Activity, field: str = "activity") -> None:
    if actor is not None and not RUN_RULE.can_change(actor, activity):
        raise ApplicationError(_("You do not organise this activity."), field=field)


@transaction.atomic
def activity_update(*, actor, activity: Activity, organisers=None, **fields) -> Activity:
    """Change a draft or published activity. Once anyone signed up, its times stay (the volunteers
    planned around them: cancel and plan anew instead), and its places never drop below those taken."""
    activity = _locked(activity)
    _require_change(actor, activity)
    if activity.status not in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        raise ApplicationError(_("Only a draft or published activity is changed."), field="status")
    unknown = set(fields) - {
        "title", "venue", "description", "requirements", "capacity", "started_at", "ended_at",
        "signup_opens_at", "signup_closes_at", "project", "domain", "longitude", "latitude",
        "needs_insurance", "insurance_note", "report_days",
    }  # fmt: skip
    if unknown:
        raise TypeError(f"activity_update got unknown fields {sorted(unknown)}")
    times = ("started_at", "ended_at", "signup_opens_at", "signup_closes_at")
    has_signups = activity.accepted_count or activity.waitlisted_count
    if has_signups and any(name in fields and fields[name] != getattr(activity, name) for name in times[:2]):
        raise ApplicationError(
            _("Volunteers have signed up: the time stays. Cancel the activity and plan a new one."),
            field="started_at",
        )
    for name in ("title", "venue"):
        if name in fields:
            setattr(activity, name, _text(fields[name], name, required=True))
    for name in ("requirements", "insurance_note"):
        if name in fields:
            setattr(activity, name, _text(fields[name], name))
    if "description" in fields:
        activity.description = (fields["description"] or "").strip()
    for name in times:
        if name in fields:
            setattr(activity, name, fields[name])
    _check_times(activity.started_at, activity.ended_at, activity.signup_opens_at, activity.signup_closes_at)
    if "capacity" in fields:
        capacity = _capacity(fields["capacity"])
        if capacity < activity.accepted_count:
            raise ApplicationError(
                _("%(count)d volunteers are accepted already: give at least that many places.")
                % {"count": activity.accepted_count},
                field="capacity",
            )
        activity.capacity = capacity
    if "project" in fields:
        _check_project(fields["project"], activity.unit)
        activity.project = fields["project"]
    if "domain" in fields:
        _check_domain(fields["domain"], activity.unit)
        activity.domain = fields["domain"]
    if "longitude" in fields:
        activity.longitude = _coordinate(fields["longitude"], "longitude", -180, 180)
    if "latitude" in fields:
        activity.latitude = _coordinate(fields["latitude"], "latitude", -90, 90)
    if "report_days" in fields:
        activity.report_days = _report_days(fields["report_days"])
    if "needs_insurance" in fields:
        if (
            activity.status != ActivityStatus.DRAFT
            and bool(fields["needs_insurance"]) != activity.needs_insurance
        ):
            raise ApplicationError(
                _("Whether insurance is needed is settled before publishing."), field="needs_insurance"
            )
        activity.needs_insurance = bool(fields["needs_insurance"])
    activity.save()
    pagecache.invalidate(LIST_PAGE)
    if organisers is not None:
        users = _check_organisers(organisers, activity.unit)
        if not users:
            raise ApplicationError(_("An activity has at least one organiser."), field="organisers")
        ActivityOrganiser.objects.filter(activity=activity).exclude(user__in=users).delete()
        known = set(ActivityOrganiser.objects.filter(activity=activity).values_list("user_id", flat=True))
        ActivityOrganiser.objects.bulk_create(
            ActivityOrganiser(activity=activity, user=user) for user in users if user.pk not in known
        )
    # More places: the waitlist moves up at once.
    _promote(activity, actor=actor)
    return activity


@transaction.atomic
def activity_confirm_insurance(*, actor, activity: Activity, note: str = "") -> Activity:
    """The organiser's confirmation that the volunteers are insured (条例 art. 17), with the insurer or
    policy; needed before an activity that needs insurance is published."""
    activity = _locked(activity)
    _require_run(actor, activity)
    if activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise ApplicationError(_("This activity is over."), field="status")
    note = _text(note, "insurance_note")
    if not note:
        raise ApplicationError(_("Name the insurer or the policy."), field="insurance_note")
    activity.insurance_note = note
    activity.insurance_confirmed_at = timezone.now()
    activity.insurance_confirmed_by = actor
    activity.save(
        update_fields=["insurance_note", "insurance_confirmed_at", "insurance_confirmed_by", "updated_at"]
    )
    return activity


@transaction.atomic
def activity_publish(*, actor, activity: Activity) -> Activity:
    """Open a draft to the public and to sign-ups."""
    activity = _locked(activity)
    _require_change(actor, activity, field="status")
    if activity.status != ActivityStatus.DRAFT:
        raise ApplicationError(_("Only a draft is published."), field="status")
    if activity.needs_insurance and activity.insurance_confirmed_at is None:
        raise ApplicationError(
            _("This activity needs insurance for its volunteers: confirm it before publishing."),
            field="needs_insurance",
        )
    if activity.ended_at <= timezone.now():
        raise ApplicationError(_("This activity is over already."), field="ended_at")
    if not ActivityOrganiser.objects.filter(activity=activity).exists():
        raise ApplicationError(_("An activity has at least one organiser."), field="organisers")
    activity.status = ActivityStatus.PUBLISHED
    activity.published_at = timezone.now()
    activity.save(update_fields=["status", "published_at", "updated_at"])
    pagecache.invalidate(LIST_PAGE)
    return activity


@transaction.atomic
def activity_cancel(*, actor, activity: Activity, reason: str) -> Activity:
    """Call an activity off: every sign-up is cancelled and each volunteer told in their inbox."""
    activity = _locked(activity)
    _require_change(actor, activity, field="status")
    if activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise ApplicationError(_("A finished or cancelled activity is not cancelled."), field="status")
    if activity.status == ActivityStatus.RUNNING or activity.started_at <= timezone.now():
        # Volunteers may be checked in: what happened is recorded, so the activity is finished instead.
        raise ApplicationError(_("An activity that has begun is finished, not cancelled."), field="status")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for cancelling."), field="reason")
    if len(reason) > 300:
        raise ApplicationError(_("At most %(limit)d characters.") % {"limit": 300}, field="reason")
    now = timezone.now()
    signed_up = list(
        Signup.objects.filter(activity=activity).active().values_list("volunteer__user_id", flat=True)
    )
    Signup.objects.filter(activity=activity).active().update(
        status=SignupStatus.CANCELLED, cancelled_at=now, cancelled_by=actor, updated_at=now
    )
    activity.status = ActivityStatus.CANCELLED
    activity.cancelled_at = now
    activity.cancel_reason = reason
    activity.accepted_count = 0
    activity.waitlisted_count = 0
    activity.save()
    pagecache.invalidate(LIST_PAGE)
    notify(
        signed_up,
        subject=_("Cancelled: %(title)s") % {"title": activity.title},
        body=_("The activity of %(span)s is cancelled: %(reason)s")
        % {"span": _span(activity), "reason": reason},
        url=reverse("activities:detail", args=[activity.pk]),
        key=f"activity-cancelled:{activity.pk}",
    )
    return activity


# --- Sign-up ----------------------------------------------------------------------------------------------


def _lock_volunteer(volunteer_id: int) -> Volunteer:
    """The volunteer's status and home unit's path, read under the volunteer's row lock."""
    return (
        Volunteer.objects.select_for_update(of=("self",))
        .select_related("home_unit")
        .only("id", "status", "home_unit__path")
        .get(pk=volunteer_id)
    )


def _clashing(volunteer_id: int, activity: Activity):
    """The ids of the volunteer's accepted sign-ups for other activities that overlap `activity` in time,
    the first queued first: the one rule of a clash, read by _clash and inside _signup_insert."""
    return (
        Signup.objects.accepted()
        .filter(volunteer_id=volunteer_id)
        .exclude(activity_id=activity.pk)
        .exclude(activity__status=ActivityStatus.CANCELLED)
        .filter(activity__started_at__lt=activity.ended_at, activity__ended_at__gt=activity.started_at)
        .order_by("queued_at", "id")
        .values_list("pk", flat=True)
    )


def _clash(volunteer_id: int, activity: Activity) -> Signup | None:
    """The volunteer's first clashing sign-up. The check runs on every sign-up and nearly always finds
    none: it reads ids, and the row only then."""
    found = _clashing(volunteer_id, activity).first()
    return None if found is None else Signup.objects.select_related("activity").get(pk=found)


def _clash_message(other: Signup) -> str:
    return _("You are signed up for “%(title)s” at the same time (%(span)s).") % {
        "title": other.activity.title,
        "span": _span(other.activity),
    }


def signup_refusal(activity: Activity, *, now=None) -> str | None:
    """Why nobody may sign up for `activity` now (None: they may)."""
    now = now or timezone.now()
    if activity.status != ActivityStatus.PUBLISHED:
        return _("This activity does not take sign-ups.")
    if now < activity.signup_opens_at:
        return _("Sign-up opens on %(at)s.") % {
            "at": date_format(timezone.localtime(activity.signup_opens_at), "Y-m-d H:i")
        }
    if now >= activity.signup_closes_at:
        return _("Sign-up for this activity has closed.")
    return None


def signup_create(*, actor, activity: Activity | int, volunteer: Volunteer) -> Signup:
    """Sign `volunteer` up: accepted while places are left, else on the waitlist. Idempotent: signing up
    again while signed up returns the same sign-up and changes nothing; `made` on the sign-up returned
    says whether this call made (or renewed) it.

    Refused: outside the recruitment window; a volunteer who is not active, or of another county; a
    clash with the volunteer's other accepted sign-ups."""
    if actor is not None and volunteer.user_id != actor.pk:
        raise ApplicationError(_("Volunteers sign up for themselves."), field="volunteer")
    activity_id = activity.pk if isinstance(activity, Activity) else activity
    for attempt in range(2):
        # A repeat is answered from a plain read, without the activity's lock: a burst of sign-ups
        # queues on that lock, and a volunteer pressing again should not join the queue.
        existing = Signup.objects.filter(activity_id=activity_id, volunteer_id=volunteer.pk).first()
        if existing is not None and existing.status != SignupStatus.CANCELLED:
            existing.made = False
            return existing
        try:
            with transaction.atomic():
                return _signup_create(activity_id, volunteer, existing)
        except IntegrityError:
            # Only the unique (activity, volunteer) can fail here: the same volunteer's other request
            # made the row while this one waited for the lock (or on SQLite, which has none). The next
            # round reads that row and returns it.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _check_signup(activity: Activity, activity_path: str, volunteer_status: str, home_path: str) -> None:
    refusal = signup_refusal(activity)
    if refusal:
        raise ApplicationError(refusal, field="activity")
    if volunteer_status != VolunteerStatus.ACTIVE:
        raise ApplicationError(_("Only an active volunteer signs up."), field="volunteer")
    if root_id(activity_path) != root_id(home_path):
        raise ApplicationError(_("This activity belongs to another county."), field="activity")


def _signup_create(activity_id: int, volunteer: Volunteer, existing: Signup | None) -> Signup:
    if existing is None and connection.vendor == "postgresql":
        return _signup_insert(activity_id, volunteer.pk)
    activity = _locked(activity_id)
    if existing is not None:  # cancelled when read; another request may have renewed it since
        existing.refresh_from_db()
        if existing.status != SignupStatus.CANCELLED:
            existing.made = False
            return existing
    volunteer = _lock_volunteer(volunteer.pk)
    _check_signup(activity, activity.unit.path, volunteer.status, volunteer.home_unit.path)
    other = _clash(volunteer.pk, activity)
    if other is not None:
        raise ApplicationError(_clash_message(other), field="activity")
    accepted = activity.accepted_count < activity.capacity
    status = SignupStatus.ACCEPTED if accepted else SignupStatus.WAITLISTED
    now = timezone.now()
    if existing is None:
        signup = Signup.objects.create(activity=activity, volunteer=volunteer, status=status, queued_at=now)
    else:  # signing up again after cancelling: the same row, at the end of the queue
        existing.status = status
        existing.queued_at = now
        existing.cancelled_at = None
        existing.cancelled_by = None
        existing.promoted_at = None
        existing.save()
        signup = existing
    counter = "accepted_count" if accepted else "waitlisted_count"
    Activity.objects.filter(pk=activity.pk).update(**{counter: F(counter) + 1})
    signup.made = True
    return signup


# Both rows under their locks, the activity's first (as every path takes them), with what the checks read.
_SIGNUP_LOCK = """
SELECT a.status, a.signup_opens_at, a.signup_closes_at, a.capacity, a.accepted_count, a.started_at,
       a.ended_at, au.path, v.status, vu.path
  FROM {activity} a JOIN {unit} au ON au.id = a.unit_id,
       {volunteer} v JOIN {unit} vu ON vu.id = v.home_unit_id
 WHERE a.id = %(activity)s AND v.id = %(volunteer)s
   FOR UPDATE OF a, v
"""
# Under those locks, in one statement (a snapshot taken after them): the volunteer's first clashing
# sign-up (_clashing's query); if none, the sign-up and its count.
_SIGNUP_INSERT = """
WITH clash AS ({clash}), made AS (
    INSERT INTO {signup} (created_at, updated_at, activity_id, volunteer_id, status, queued_at)
    SELECT %s, %s, %s, %s, %s, %s
     WHERE NOT EXISTS (SELECT 1 FROM clash)
    RETURNING {columns}
), counted AS (
    UPDATE {activity} SET {counter} = {counter} + 1
     WHERE id = %s AND EXISTS (SELECT 1 FROM made)
)
SELECT (SELECT * FROM clash), made.* FROM (SELECT 1) AS one LEFT JOIN made ON true
"""


def _signup_insert(activity_id: int, volunteer_id: int) -> Signup:
    """A first sign-up on PostgreSQL: what the ORM path does in five statements, in two."""
    quote = connection.ops.quote_name
    tables = {
        "activity": quote(Activity._meta.db_table),
        "unit": quote(Unit._meta.db_table),
        "volunteer": quote(Volunteer._meta.db_table),
        "signup": quote(Signup._meta.db_table),
    }
    with connection.cursor() as cursor:
        cursor.execute(_SIGNUP_LOCK.format(**tables), {"activity": activity_id, "volunteer": volunteer_id})
        row = cursor.fetchone()
        if row is None:
            raise ApplicationError(_("There is no such activity."), field="activity")
        status, opens, closes, capacity, accepted_count, started, ended, path, volunteer_status, home = row
        activity = Activity(
            pk=activity_id,
            status=status,
            signup_opens_at=opens,
            signup_closes_at=closes,
            capacity=capacity,
            accepted_count=accepted_count,
            started_at=started,
            ended_at=ended,
        )
        _check_signup(activity, path, volunteer_status, home)
        accepted = accepted_count < capacity
        fields = [field.attname for field in Signup._meta.concrete_fields]
        clash, clash_params = _clashing(volunteer_id, activity)[:1].query.sql_with_params()
        sql = _SIGNUP_INSERT.format(
            **tables,
            clash=clash,
            columns=", ".join(quote(Signup._meta.get_field(name).column) for name in fields),
            counter="accepted_count" if accepted else "waitlisted_count",
        )
        now, status = timezone.now(), SignupStatus.ACCEPTED if accepted else SignupStatus.WAITLISTED
        cursor.execute(sql, (*clash_params, now, now, activity_id, volunteer_id, status, now, activity_id))
        clash_id, *made = cursor.fetchone()
    if clash_id is not None:
        other = Signup.objects.select_related("activity").get(pk=clash_id)
        raise ApplicationError(_clash_message(other), field="activity")
    signup = Signup.from_db(connection.alias, fields, made)
    signup.made = True
    return signup


@transaction.atomic
def signup_cancel(*, actor, signup: Signup | int) -> Signup:
    """Cancel a sign-up: the volunteer until ACTIVITY_CANCEL_HOURS_BEFORE the start, an organiser until
    the start. A freed place goes to the first on the waitlist who has no clash."""
    pk = signup.pk if isinstance(signup, Signup) else signup
    activity_id = Signup.objects.filter(pk=pk).values_list("activity_id", flat=True).first()
    if activity_id is None:
        raise ApplicationError(_("There is no such sign-up."), field="signup")
    activity = _locked(activity_id)
    signup = Signup.objects.select_related("volunteer").get(pk=pk)
    own = actor is not None and signup.volunteer.user_id == actor.pk
    if actor is not None and not own:
        _require_run(actor, activity, field="signup")
    if signup.status == SignupStatus.CANCELLED:
        return signup  # cancelling twice changes nothing
    now = timezone.now()
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.DRAFT) or now >= activity.started_at:
        raise ApplicationError(
            _("This activity has begun: sign-ups are no longer cancelled."), field="signup"
        )
    if own and now >= cancel_deadline(activity):
        raise ApplicationError(
            _("Sign-ups are cancelled until %(at)s; please tell the organiser instead.")
            % {"at": date_format(timezone.localtime(cancel_deadline(activity)), "Y-m-d H:i")},
            field="signup",
        )
    was_accepted = signup.status == SignupStatus.ACCEPTED
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = now
    signup.cancelled_by = actor
    signup.save()
    counter = "accepted_count" if was_accepted else "waitlisted_count"
    Activity.objects.filter(pk=activity.pk).update(**{counter: F(counter) - 1})
    activity.refresh_from_db()
    if was_accepted:
        _promote(activity, actor=actor)
    return signup


def _promote(activity: Activity, *, actor=None) -> list[Signup]:
    """Fill free places from the waitlist in its order, skipping a volunteer whose accepted sign-ups now
    clash (they stay on the waitlist). Runs under the activity's lock."""
    promoted: list[Signup] = []
    free = activity.capacity - activity.accepted_count
    if free <= 0 or activity.status != ActivityStatus.PUBLISHED:
        return promoted
    for candidate in (
        Signup.objects.filter(activity=activity).waitlisted().order_by("queued_at", "id").iterator()
    ):
        if len(promoted) >= free:
            break
        if _lock_volunteer(candidate.volunteer_id).status != VolunteerStatus.ACTIVE:
            continue
        if _clash(candidate.volunteer_id, activity) is not None:
            continue
        candidate.status = SignupStatus.ACCEPTED
        candidate.promoted_at = timezone.now()
        candidate.save(update_fields=["status", "promoted_at", "updated_at"])
        promoted.append(candidate)
    if promoted:
        Activity.objects.filter(pk=activity.pk).update(
            accepted_count=F("accepted_count") + len(promoted),
            waitlisted_count=F("waitlisted_count") - len(promoted),
        )
        activity.refresh_from_db()
        users = Volunteer.objects.filter(pk__in=[s.volunteer_id for s in promoted]).values_list(
            "user_id", flat=True
        )
        notify(
            list(users),
            subject=_("You have a place: %(title)s") % {"title": activity.title},
            body=_("A place came free and your sign-up for %(span)s is accepted.")
            % {"span": _span(activity)},
            url=reverse("activities:detail", args=[activity.pk]),
        )
    return promoted


# --- Check-in and check-out -------------------------------------------------------------------------------


def _check_window(activity: Activity, at: datetime.datetime, field: str = "activity") -> None:
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.RUNNING):
        raise ApplicationError(_("This activity takes no check-ins now."), field=field)
    if at < checkin_opens(activity):
        raise ApplicationError(
            _("Check-in opens at %(at)s.")
            % {"at": date_format(timezone.localtime(checkin_opens(activity)), "Y-m-d H:i")},
            field=field,
        )
    if at > checkin_closes(activity):
        raise ApplicationError(_("Check-in and check-out for this activity have closed."), field=field)


def _accepted_signup(activity: Activity, volunteer_id: int) -> Signup:
    signup = Signup.objects.filter(activity=activity, volunteer_id=volunteer_id).first()
    if signup is None or signup.status != SignupStatus.ACCEPTED:
        raise ApplicationError(_("Only volunteers accepted for this activity check in."), field="volunteer")
    return signup


def _first_organiser_id(activity: Activity) -> int | None:
    return (
        ActivityOrganiser.objects.filter(activity=activity)
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )


def _record_for(attendance: Attendance, activity: Activity) -> None:
    """The pending service record of a closed attendance: the time inside the activity's window, rounded
    by the records' rule. A stay that counts no hours makes no record."""
    started = max(attendance.checked_in_at, activity.started_at)
    ended = min(attendance.checked_out_at, activity.ended_at)
    if ended <= started or record_rules.hours_between(started, ended) <= 0:
        return
    organiser_id = _first_organiser_id(activity)
    try:
        with transaction.atomic():
            record = records.record_submit(
                actor=None,
                volunteer=attendance.volunteer,
                unit=activity.unit,
                content=activity.title,
                started_at=started,
                ended_at=ended,
                source=RecordSource.ATTENDANCE,
                organiser=get_user_model()(pk=organiser_id) if organiser_id else None,
            )
    except ApplicationError as error:
        # The check-out stands; the organiser records the service by hand (the unit was closed, …).
        logger.warning("attendance %s made no record: %s", attendance.pk, error.message)
        return
    attendance.record = record
    attendance.save(update_fields=["record", "updated_at"])
    if attendance.missed_checkout:
        records.flag_raise(
            record,
            FlagKind.MISSED_CHECKOUT,
            detail=_("No check-out: closed at the end of the activity (%(at)s).")
            % {"at": date_format(timezone.localtime(activity.ended_at), "Y-m-d H:i")},
        )


def _check_in(activity, signup, *, at, method, by=None, window=None, late=False) -> Attendance:
    return Attendance.objects.create(
        activity=activity,
        volunteer_id=signup.volunteer_id,
        signup=signup,
        checked_in_at=at,
        in_method=method,
        in_by=by,
        in_window=window,
        in_arrived_late=late,
    )


def _check_out(attendance, activity, *, at, method, by=None, late=False) -> Attendance:
    attendance.checked_out_at = max(at, attendance.checked_in_at)
    attendance.out_method = method
    attendance.out_by = by
    attendance.out_arrived_late = late
    attendance.save()
    _record_for(attendance, activity)
    return attendance


class ScanOutcome:
    CHECKED_IN = "in"
    CHECKED_OUT = "out"
    UNCHANGED = "unchanged"


@transaction.atomic
def attendance_scan(*, actor, activity: Activity | int, token: str) -> tuple[Attendance, str]:
    """A volunteer scanned the code on the organiser's screen: the first scan checks them in, a scan of a
    later code checks them out, anything after that (or the same code again) changes nothing."""
    activity_id = activity.pk if isinstance(activity, Activity) else activity
    scan = checkin.read_token(token, activity_id=activity_id)
    volunteer = Volunteer.objects.of_user(actor).first() if actor is not None else None
    if volunteer is None:
        raise ApplicationError(_("Sign in with your volunteer account to check in."), field="volunteer")
    activity = _locked(activity_id)
    now = timezone.now()
    _check_window(activity, now)
    signup = _accepted_signup(activity, volunteer.pk)
    attendance = Attendance.objects.filter(activity=activity, volunteer=volunteer).select_for_update().first()
    if attendance is None:
        attendance = _check_in(activity, signup, at=now, method=AttendanceMethod.QR, window=scan.window)
        _mark_running(activity)
        return attendance, ScanOutcome.CHECKED_IN
    if attendance.checked_out_at is not None or attendance.in_window == scan.window:
        return attendance, ScanOutcome.UNCHANGED
    if scan.window < (attendance.in_window or 0):
        return attendance, ScanOutcome.UNCHANGED
    attendance.volunteer = volunteer
    _check_out(attendance, activity, at=now, method=AttendanceMethod.QR)
    return attendance, ScanOutcome.CHECKED_OUT


def _mark_running(activity: Activity) -> None:
    if activity.status != ActivityStatus.PUBLISHED or timezone.now() < activity.started_at:
        return
    if Activity.objects.filter(pk=activity.pk, status=ActivityStatus.PUBLISHED).update(
        status=ActivityStatus.RUNNING
    ):
        pagecache.invalidate(LIST_PAGE)


def _mark(activity, volunteer_id: int, action: str, *, at, actor, method, late=False) -> str:
    """Check a volunteer in or out by hand; the outcome: applied or unchanged."""
    signup = _accepted_signup(activity, volunteer_id)
    attendance = (
        Attendance.objects.filter(activity=activity, volunteer_id=volunteer_id).select_for_update().first()
    )
    if action == OfflineAction.CHECK_IN:
        if attendance is not None:
            return OfflineOutcome.UNCHANGED
        _check_in(activity, signup, at=at, method=method, by=actor, late=late)
        _mark_running(activity)
        return OfflineOutcome.APPLIED
    if attendance is None:
        raise ApplicationError(_("This volunteer has not checked in."), field="volunteer")
    if attendance.checked_out_at is not None:
        return OfflineOutcome.UNCHANGED
    if at < attendance.checked_in_at:
        raise ApplicationError(_("The check-out must be after the check-in."), field="at")
    attendance.volunteer = Volunteer.objects.get(pk=volunteer_id)
    _check_out(attendance, activity, at=at, method=method, by=actor, late=late)
    return OfflineOutcome.APPLIED


@transaction.atomic
def attendance_mark(*, actor, activity: Activity | int, volunteer: Volunteer | int, action: str) -> str:
    """The organiser checks a volunteer in or out by hand, now."""
    activity = _locked(activity)
    _require_run(actor, activity)
    if action not in OfflineAction.values:
        raise ApplicationError(_("Choose check-in or check-out."), field="action")
    now = timezone.now()
    _check_window(activity, now)
    return _mark(
        activity,
        getattr(volunteer, "pk", volunteer),
        action,
        at=now,
        actor=actor,
        method=AttendanceMethod.ORGANISER,
    )


def _late(happened_at, received_at) -> bool:
    return received_at - happened_at > datetime.timedelta(minutes=settings.ACTIVITY_OFFLINE_LATE_MINUTES)


def attendance_sync(*, actor, activity: Activity | int, entries) -> list[OfflineEntry]:
    """Entries of the organiser's roster, made maybe without signal and sent when it came back: each
    `{key, volunteer, action, at}` is applied once (its key is unique), at its own time when that lies in
    the activity's check-in window and not in the future; otherwise it is refused with its message.
    Sending the same entries again changes nothing and answers what the first delivery did."""
    activity_id = activity.pk if isinstance(activity, Activity) else activity
    with transaction.atomic():
        activity = _locked(activity_id)
        _require_run(actor, activity)
    # Every entry names a volunteer that exists, or none is taken: an entry refused later is stored with
    # its message, which needs its volunteer.
    named = {entry["volunteer"] for entry in entries}
    if len(named) != Volunteer.objects.filter(pk__in=named).count():
        raise ApplicationError(_("There is no such volunteer."), field="volunteer")
    results = []
    for entry in entries:
        results.append(_sync_one(actor, activity.pk, entry))
    return results


def _sync_one(actor, activity_id: int, entry: dict) -> OfflineEntry:
    key = entry["key"]
    known = OfflineEntry.objects.filter(key=key).first()
    if known is not None:
        if known.activity_id != activity_id or known.sent_by_id != actor.pk:
            raise ApplicationError(_("This entry was sent for another roster."), field="key")
        return known
    now = timezone.now()
    at = entry["at"]
    outcome, message = OfflineOutcome.APPLIED, ""
    try:
        with transaction.atomic():
            activity = _locked(activity_id)
            if not Signup.objects.filter(activity=activity, volunteer_id=entry["volunteer"]).exists():
                raise ApplicationError(
                    _("Only volunteers accepted for this activity check in."), field="volunteer"
                )
            if at > now + datetime.timedelta(minutes=2):
                raise ApplicationError(
                    _("This entry's time lies in the future: check the phone's clock."), field="at"
                )
            if not checkin_opens(activity) <= at <= checkin_closes(activity):
                raise ApplicationError(
                    _("This entry's time lies outside the activity's check-in window."), field="at"
                )
            if activity.status not in (
                ActivityStatus.PUBLISHED,
                ActivityStatus.RUNNING,
                ActivityStatus.FINISHED,
            ):
                raise ApplicationError(_("This activity takes no check-ins."), field="activity")
            outcome = _mark(
                activity,
                entry["volunteer"],
                entry["action"],
                at=at,
                actor=actor,
                method=AttendanceMethod.OFFLINE,
                late=_late(at, now),
            )
            return OfflineEntry.objects.create(
                key=key,
                activity_id=activity_id,
                volunteer_id=entry["volunteer"],
                action=entry["action"],
                happened_at=at,
                sent_by=actor,
                outcome=outcome,
                arrived_late=_late(at, now),
            )
    except ApplicationError as error:
        outcome, message = OfflineOutcome.REFUSED, str(error.message)
    except IntegrityError:
        # The same key delivered twice at once: the other delivery's row is the answer.
        known = OfflineEntry.objects.filter(key=key).first()
        if known is not None:
            return known
        raise
    try:
        with transaction.atomic():
            return OfflineEntry.objects.create(
                key=key,
                activity_id=activity_id,
                volunteer_id=entry["volunteer"],
                action=entry["action"],
                happened_at=at,
                sent_by=actor,
                outcome=outcome,
                message=message[:300],
                arrived_late=_late(at, now),
            )
    except IntegrityError:
        return OfflineEntry.objects.get(key=key)


@transaction.atomic
def attendance_location_add(*, actor, attendance: Attendance, latitude, longitude) -> Attendance:
    """The volunteer shares where they checked in, consenting to it separately (PIPL: whereabouts are
    sensitive); only their own attendance, only on the day."""
    attendance = Attendance.objects.select_for_update().select_related("volunteer").get(pk=attendance.pk)
    if actor is None or attendance.volunteer.user_id != actor.pk:
        raise ApplicationError(_("Only the volunteer shares their own location."), field="attendance")
    if timezone.now() - attendance.checked_in_at > datetime.timedelta(hours=1):
        raise ApplicationError(_("The location is shared at the check-in only."), field="attendance")
    attendance.latitude = _coordinate(latitude, "latitude", -90, 90)
    attendance.longitude = _coordinate(longitude, "longitude", -180, 180)
    if attendance.latitude is None or attendance.longitude is None:
        raise ApplicationError(_("Give both coordinates."), field="latitude")
    attendance.location_consented_at = timezone.now()
    attendance.save()
    return attendance


# --- The activity's end --------------------------------------------------------------------------------


def _finish(activity: Activity) -> int:
    """Close an activity: missed check-outs closed at its end and flagged, status finished. Returns how
    many attendances were closed."""
    closed = 0
    for attendance in (
        Attendance.objects.filter(activity=activity)
        .open()
        .select_related("volunteer")
        .select_for_update(of=("self",))
    ):
        attendance.missed_checkout = True
        _check_out(
            attendance,
            activity,
            at=max(activity.ended_at, attendance.checked_in_at),
            method=AttendanceMethod.CLOSED,
        )
        closed += 1
    activity.status = ActivityStatus.FINISHED
    activity.finished_at = timezone.now()
    activity.save(update_fields=["status", "finished_at", "updated_at"])
    pagecache.invalidate(LIST_PAGE)
    return closed


@transaction.atomic
def activity_finish(*, actor, activity: Activity | int) -> Activity:
    """The organiser closes an activity after its end (the beat does it by itself later)."""
    activity = _locked(activity)
    _require_run(actor, activity, field="status")
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.RUNNING):
        raise ApplicationError(_("Only a published or running activity is finished."), field="status")
    if timezone.now() < activity.ended_at:
        raise ApplicationError(_("An activity is finished after its end."), field="status")
    _finish(activity)
    return activity


def activities_advance(*, now: datetime.datetime | None = None) -> dict:
    """The beat's pass over the calendar: published activities that have begun are running; those past
    their check-out grace are finished (missed check-outs closed and flagged). Each activity in its own
    transaction, claimed under its lock, so two runs at once do the work once."""
    now = now or timezone.now()
    started = Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, started_at__lte=now, ended_at__gt=now
    ).update(status=ActivityStatus.RUNNING)
    if started:
        pagecache.invalidate(LIST_PAGE)
    finished = 0
    grace = datetime.timedelta(minutes=settings.ACTIVITY_CHECKOUT_GRACE_MINUTES)
    due = Activity.objects.filter(
        status__in=[ActivityStatus.PUBLISHED, ActivityStatus.RUNNING], ended_at__lte=now - grace
    ).values_list("pk", flat=True)
    for pk in list(due[:1000]):
        with transaction.atomic():
            activity = Activity.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if activity is None or activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.RUNNING):
                continue
            _finish(activity)
            finished += 1
    return {"running": started, "finished": finished}


# --- Reports --------------------------------------------------------------------------------------------


def report_due(activity: Activity) -> datetime.datetime:
    """When the report is due: the activity's own number of days after its end."""
    days = activity.report_days if activity.report_days is not None else settings.ACTIVITY_REPORT_DAYS
    return activity.ended_at + datetime.timedelta(days=days)


MAX_PHOTOS_PER_REPORT = 30


def _people(value) -> int:
    try:
        people = int(str(value).strip())
    except (TypeError, ValueError):
        raise ApplicationError(_("Give a whole number."), field="people_served") from None
    if not 0 <= people <= 1_000_000:
        raise ApplicationError(_("Give a whole number from 0 to 1,000,000."), field="people_served")
    return people


def _cleaned_photos(photos, field: str) -> list[tuple[object, str]]:
    """Each photo as what will be stored, with its caption, checked before anything is written: a new
    upload through the one image intake (in memory), a kept upload (already cleaned) as it is. `photos`
    holds uploads, StagedUpload rows, IntakeImages, or (photo, caption) pairs."""
    cleaned = []
    for item in photos or ():
        photo, caption = item if isinstance(item, tuple) else (item, "")
        caption = (caption or "").strip()
        if len(caption) > 100:
            raise ApplicationError(_("A caption is at most 100 characters."), field=field)
        if not isinstance(photo, (StagedUpload, IntakeImage)):
            photo = image_intake(photo, field=field)
        cleaned.append((photo, caption))
    return cleaned


def _photo_store(report: ActivityReport, photo, caption: str, position: int, written: list, field: str):
    """Store one cleaned photo and its thumbnail; `written` collects the files, to remove on failure."""
    if isinstance(photo, StagedUpload):
        content = staged_upload_take(staged=photo, field=field)
        data = content.read()
        # A kept upload is the intake's own output: its header is read for the size, nothing decoded.
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
        content.seek(0)
    else:
        content, data = photo, photo.read()
        width, height = photo.width, photo.height
        content.seek(0)
    row = ActivityReportPhoto(report=report, caption=caption, position=position, width=width, height=height)
    row.image.save(content.name, content, save=False)
    written.append((row.image.storage, row.image.name))
    row.thumbnail.save("thumbnail.jpg", image_thumbnail(data), save=False)
    written.append((row.thumbnail.storage, row.thumbnail.name))
    row.save()
    return row


def _remove_on_failure(written: list) -> None:
    for storage, name in written:
        try:
            storage.delete(name)
        except Exception:  # an orphan file costs only disk; the refusal is what the user must see
            logger.exception("Could not remove the file %s of a refused report", name)


@transaction.atomic
def report_submit(
    *,
    actor,
    activity: Activity,
    text: str,
    people_served,
    photos=(),
    captions: dict | None = None,
    remove_photos=(),
) -> ActivityReport:
    """The report of a held activity (图文资料): what happened, how many people were served, and photos.

    `photos` are new uploads (each through the one image intake) and uploads kept from an earlier try
    (StagedUpload rows, already cleaned), or (photo, caption) pairs; `captions` maps the ids of photos
    already stored to a new caption; `remove_photos` are ids of stored photos to remove. Everything is
    checked before a file is written, and what was written goes again if the report is refused."""
    activity = _locked(activity)
    _require_run(actor, activity)
    if activity.status == ActivityStatus.CANCELLED or activity.ended_at > timezone.now():
        raise ApplicationError(_("A report is written after the activity was held."), field="activity")
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("Write what happened."), field="text")
    people = _people(people_served)
    cleaned = _cleaned_photos(photos, "photos")
    report = ActivityReport.objects.filter(activity=activity).first()
    stored = list(report.photos.all()) if report else []
    removed = {int(pk) for pk in remove_photos or () if str(pk).isdigit()}
    kept = [photo for photo in stored if photo.pk not in removed]
    if len(kept) + len(cleaned) > MAX_PHOTOS_PER_REPORT:
        raise ApplicationError(
            _("A report keeps at most %(count)d photos.") % {"count": MAX_PHOTOS_PER_REPORT}, field="photos"
        )
    captions = {
        int(pk): (caption or "").strip() for pk, caption in (captions or {}).items() if str(pk).isdigit()
    }
    if any(len(caption) > 100 for caption in captions.values()):
        raise ApplicationError(_("A caption is at most 100 characters."), field="captions")
    if report is None:
        report = ActivityReport.objects.create(
            activity=activity, text=text, people_served=people, submitted_by=actor
        )
    else:
        report.text, report.people_served, report.submitted_by = text, people, actor
        report.save(update_fields=["text", "people_served", "submitted_by", "updated_at"])
    for photo in stored:
        if photo.pk in removed:
            _photo_delete(photo)
        elif photo.pk in captions and captions[photo.pk] != photo.caption:
            photo.caption = captions[photo.pk]
            photo.save(update_fields=["caption", "updated_at"])
    position = max((photo.position for photo in kept), default=-1) + 1
    written: list = []
    try:
        for offset, (photo, caption) in enumerate(cleaned):
            _photo_store(report, photo, caption, position + offset, written, "photos")
    except BaseException:
        _remove_on_failure(written)
        raise
    if report.is_published:
        pagecache.invalidate(NEWS_PAGE)
    return report


# The public news pages' name in the page cache (if they cache): a published report's change drops it.
NEWS_PAGE = "activities:news"


def _photo_delete(photo: ActivityReportPhoto) -> None:
    images = [(photo.image.storage, photo.image.name), (photo.thumbnail.storage, photo.thumbnail.name)]
    photo.delete()
    for storage, name in images:
        delete_file_on_commit(storage, name)


def _locked_report(report: ActivityReport | int) -> ActivityReport:
    pk = report.pk if isinstance(report, ActivityReport) else report
    row = (
        ActivityReport.objects.select_for_update(of=("self",))
        .select_related("activity", "activity__unit")
        .filter(pk=pk)
        .first()
    )
    if row is None:
        raise ApplicationError(_("There is no such report."), field="report")
    return row


@transaction.atomic
def report_photo_add(*, actor, report: ActivityReport | int, image, caption: str = "") -> ActivityReportPhoto:
    """One more photo of a report (the API's upload), through the one image intake, with its thumbnail."""
    report = _locked_report(report)
    _require_run(actor, report.activity, field="image")
    ((photo, caption),) = _cleaned_photos([(image, caption)], "image")
    if report.photos.count() >= MAX_PHOTOS_PER_REPORT:
        raise ApplicationError(
            _("A report keeps at most %(count)d photos.") % {"count": MAX_PHOTOS_PER_REPORT}, field="image"
        )
    position = (report.photos.aggregate(last=Max("position"))["last"] or 0) + 1
    written: list = []
    try:
        row = _photo_store(report, photo, caption, position, written, "image")
    except BaseException:
        _remove_on_failure(written)
        raise
    if report.is_published:
        pagecache.invalidate(NEWS_PAGE)
    return row


@transaction.atomic
def report_photo_update(
    *, actor, photo: ActivityReportPhoto | int, caption: str | None = None, position=None
) -> ActivityReportPhoto:
    """Change a photo's caption or its place in the report."""
    pk = photo.pk if isinstance(photo, ActivityReportPhoto) else photo
    row = ActivityReportPhoto.objects.filter(pk=pk).first()
    if row is None:
        raise ApplicationError(_("There is no such photo."), field="photo")
    report = _locked_report(row.report_id)
    _require_run(actor, report.activity, field="photo")
    if caption is not None:
        caption = caption.strip()
        if len(caption) > 100:
            raise ApplicationError(_("A caption is at most 100 characters."), field="caption")
        row.caption = caption
    if position is not None:
        try:
            row.position = int(position)
        except (TypeError, ValueError):
            raise ApplicationError(_("Give a whole number."), field="position") from None
        if not 0 <= row.position <= 1000:
            raise ApplicationError(_("Give a whole number from 0 to 1000."), field="position")
    row.save(update_fields=["caption", "position", "updated_at"])
    if report.is_published:
        pagecache.invalidate(NEWS_PAGE)
    return row


@transaction.atomic
def report_photo_remove(*, actor, photo: ActivityReportPhoto | int) -> None:
    """Remove a photo from a report; its files go once this commits."""
    pk = photo.pk if isinstance(photo, ActivityReportPhoto) else photo
    row = ActivityReportPhoto.objects.filter(pk=pk).select_related("report").first()
    if row is None:
        raise ApplicationError(_("There is no such photo."), field="photo")
    report = _locked_report(row.report_id)
    _require_run(actor, report.activity, field="photo")
    _photo_delete(row)
    if report.is_published:
        pagecache.invalidate(NEWS_PAGE)


def _require_publish(actor, report: ActivityReport) -> None:
    # Staff of the activity's unit or above only: an organiser named on it, or a station under an
    # institute's activity, does not decide what the county shows as news.
    require(
        actor,
        Capability.ACTIVITIES_CHANGE,
        report.activity.unit,
        field="report",
        message=_("Only the staff of the activity's unit or above publish its report."),
    )


@transaction.atomic
def report_publish(*, actor, report: ActivityReport | int) -> ActivityReport:
    """Show the report as news on the public pages. Publishing again changes nothing."""
    report = _locked_report(report)
    _require_publish(actor, report)
    if not report.text.strip():
        raise ApplicationError(_("Write the report's text before publishing it."), field="text")
    if report.published_at is None:
        report.published_at = timezone.now()
        report.published_by = actor
        report.save(update_fields=["published_at", "published_by", "updated_at"])
        pagecache.invalidate(NEWS_PAGE)
    return report


@transaction.atomic
def report_unpublish(*, actor, report: ActivityReport | int) -> ActivityReport:
    """Take the report off the public pages."""
    report = _locked_report(report)
    _require_publish(actor, report)
    if report.published_at is not None:
        report.published_at = None
        report.published_by = None
        report.save(update_fields=["published_at", "published_by", "updated_at"])
        pagecache.invalidate(NEWS_PAGE)
    return report
