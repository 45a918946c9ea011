"""Every write of the projects app: one function per use case, each in a transaction, each checking the
actor's scope with `stations.scoping.require` and refusing with an `ApplicationError` that names the field.

A project moves draft › published › running › closed, one step at a time: `project_transition` refuses
any other move with a message saying which moves the project allows. Closing needs the closing report.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.images import image_intake, image_thumbnail
from stations.models import Platform, Unit
from stations.paths import path_prefixes, root_id
from stations.scoping import require

from .capabilities import Capability
from .models import KeyProjectList, KeyProjectMonth, Project, ProjectPhoto, ProjectStatus

# The lifecycle: from a status, the statuses a project may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProjectStatus.DRAFT: (ProjectStatus.PUBLISHED,),
    ProjectStatus.PUBLISHED: (ProjectStatus.RUNNING, ProjectStatus.DRAFT),
    ProjectStatus.RUNNING: (ProjectStatus.CLOSED,),
    ProjectStatus.CLOSED: (),
}


def _check_domain(domain: Platform | None, unit: Unit) -> None:
    if domain is not None and (domain.center_id != root_id(unit.path) or not domain.is_active):
        raise ApplicationError(_("Choose a service platform of this unit's county."), field="domain")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Give the project a name."), field="name")
    if len(name) > 100:
        raise ApplicationError(_("A name has at most 100 characters."), field="name")
    return name


def _name_taken(unit: Unit, name: str, *, excluding: int | None = None) -> bool:
    return Project.objects.filter(unit=unit, name=name).exclude(pk=excluding).exists()


@transaction.atomic
def project_create(
    *,
    actor,
    unit: Unit,
    name: str,
    domain: Platform | None = None,
    description: str = "",
    is_brand: bool = False,
) -> Project:
    """A new project in the library, a draft until it is published."""
    require(actor, Capability.PROJECTS_CHANGE, unit, field="unit")
    if not unit.is_active:
        raise ApplicationError(_("This unit is no longer active."), field="unit")
    name = _clean_name(name)
    _check_domain(domain, unit)
    if _name_taken(unit, name):
        raise ApplicationError(_("This unit already has a project of this name."), field="name")
    try:
        with transaction.atomic():
            return Project.objects.create(
                unit=unit,
                name=name,
                domain=domain,
                description=(description or "").strip(),
                is_brand=bool(is_brand),
                created_by=actor,
            )
    except IntegrityError:  # the same name saved by someone else a moment ago
        raise ApplicationError(_("This unit already has a project of this name."), field="name") from None


def _locked_project(project: Project | int) -> Project:
    pk = project.pk if isinstance(project, Project) else project
    return Project.objects.select_for_update().select_related("unit").get(pk=pk)


@transaction.atomic
def project_update(
    *,
    actor,
    project: Project,
    name: str | None = None,
    domain: Platform | type | None = ...,
    description: str | None = None,
    is_brand: bool | None = None,
) -> Project:
    """Change a project's details; a closed project is history and changes no more."""
    project = _locked_project(project)
    require(actor, Capability.PROJECTS_CHANGE, project.unit, field="unit")
    if project.status == ProjectStatus.CLOSED:
        raise ApplicationError(_("A closed project is no longer changed."), field="status")
    if name is not None:
        name = _clean_name(name)
        if _name_taken(project.unit, name, excluding=project.pk):
            raise ApplicationError(_("This unit already has a project of this name."), field="name")
        project.name = name
    if domain is not ...:
        _check_domain(domain, project.unit)
        project.domain = domain
    if description is not None:
        project.description = description.strip()
    if is_brand is not None:
        project.is_brand = bool(is_brand)
    project.save()
    return project


def _whole(value, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ApplicationError(_("Give a whole number."), field=field) from None
    if not 0 <= number <= 10_000_000:
        raise ApplicationError(_("Give a whole number from 0 to 10,000,000."), field=field)
    return number


def _hours(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        hours = Decimal(str(value).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ApplicationError(_("Give a number of hours."), field=field) from None
    if not Decimal(0) <= hours <= Decimal("100000000"):
        raise ApplicationError(_("Give a number of hours from 0 to 100,000,000."), field=field)
    return hours


def transition_refusal(project: Project, to: str) -> str | None:
    """Why `project` may not move to `to` (None: it may)."""
    allowed = TRANSITIONS.get(project.status, ())
    if to in allowed:
        return None
    if not allowed:
        return _("A closed project moves no more.")
    return _("A project that is %(status)s can only become %(allowed)s.") % {
        "status": ProjectStatus(project.status).label,
        "allowed": _(" or ").join(str(ProjectStatus(status).label) for status in allowed),
    }


@transaction.atomic
def project_transition(
    *,
    actor,
    project: Project | int,
    to: str,
    closing_report: str = "",
    people_served=None,
    volunteers=None,
    hours=None,
) -> Project:
    """Move a project one step of its lifecycle. Closing (结项) needs the report: its text and the number
    of people served (and, if known, the volunteers and hours)."""
    project = _locked_project(project)
    require(actor, Capability.PROJECTS_CHANGE, project.unit, field="status")
    if to not in ProjectStatus.values:
        raise ApplicationError(_("Choose a status of the project's lifecycle."), field="status")
    refusal = transition_refusal(project, to)
    if refusal:
        raise ApplicationError(refusal, field="status")
    now = timezone.now()
    if to == ProjectStatus.PUBLISHED:
        project.published_at = project.published_at or now
    elif to == ProjectStatus.RUNNING:
        project.started_at = now
    elif to == ProjectStatus.CLOSED:
        report = (closing_report or "").strip()
        if not report:
            raise ApplicationError(
                _("Write the closing report: what the project did."), field="closing_report"
            )
        if people_served in (None, ""):
            raise ApplicationError(_("Give the number of people served."), field="people_served")
        project.closing_report = report
        project.closing_people_served = _whole(people_served, "people_served")
        project.closing_volunteers = None if volunteers in (None, "") else _whole(volunteers, "volunteers")
        project.closing_hours = _hours(hours, "hours")
        project.closed_at = now
    project.status = to
    project.save()
    return project


@transaction.atomic
def project_photo_add(*, actor, project: Project, image, caption: str = "") -> ProjectPhoto:
    """A photo of the closing report, through the one image intake."""
    require(actor, Capability.PROJECTS_CHANGE, project.unit, field="image")
    content = image_intake(image, field="image")
    photo = ProjectPhoto(project=project, caption=(caption or "").strip()[:100])
    photo.image.save(content.name, content, save=False)
    photo.thumbnail.save("thumbnail.jpg", image_thumbnail(content), save=False)
    photo.save()
    return photo


# --- Key-project lists --------------------------------------------------------------------------------


def _check_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ApplicationError(_("Give a year from 2018 to 2100."), field="year") from None
    if not 2018 <= year <= 2100:
        raise ApplicationError(_("Give a year from 2018 to 2100."), field="year")
    return year


@transaction.atomic
def key_list_create(*, actor, unit: Unit, year, title: str = "", note: str = "") -> KeyProjectList:
    """A unit's list for a year, with its twelve months (empty until filled)."""
    require(actor, Capability.KEY_LISTS_CHANGE, unit, field="unit")
    year = _check_year(year)
    title = (title or "").strip() or _("%(unit)s key projects %(year)s") % {"unit": unit.name, "year": year}
    if KeyProjectList.objects.filter(unit=unit, year=year).exists():
        raise ApplicationError(_("This unit already has a list for that year."), field="year")
    try:
        with transaction.atomic():
            plan = KeyProjectList.objects.create(
                unit=unit, year=year, title=title[:100], note=(note or "").strip()[:500], created_by=actor
            )
    except IntegrityError:
        raise ApplicationError(_("This unit already has a list for that year."), field="year") from None
    KeyProjectMonth.objects.bulk_create(KeyProjectMonth(plan=plan, month=month) for month in range(1, 13))
    return plan


def allowed_projects(plan: KeyProjectList):
    """Projects a list may name: those of its unit and of the units below it, and the published or running
    ones of the units above it (the county's own brands; their drafts and closed ones are not the list's
    to name)."""
    from django.db.models import Q

    path = plan.unit.path
    above = Q(unit__path__in=path_prefixes(path), status__in=(ProjectStatus.PUBLISHED, ProjectStatus.RUNNING))
    return Project.objects.filter(above | Q(unit__path__startswith=path))


def allowed_units(plan: KeyProjectList):
    """Units a list may make responsible: its own unit and the units below it."""
    return Unit.objects.filter(path__startswith=plan.unit.path, is_active=True)


@transaction.atomic
def key_month_update(
    *,
    actor,
    month: KeyProjectMonth,
    theme: str = "",
    key_dates: str = "",
    note: str = "",
    projects=(),
    responsible_units=(),
) -> KeyProjectMonth:
    """Fill one month of a list: its theme, key dates, projects and responsible units."""
    month = KeyProjectMonth.objects.select_for_update().select_related("plan__unit").get(pk=month.pk)
    require(actor, Capability.KEY_LISTS_CHANGE, month.plan.unit, field="theme")
    fields = {"theme": (theme, 100), "key_dates": (key_dates, 300), "note": (note, 500)}
    for name, (value, limit) in fields.items():
        value = (value or "").strip()
        if len(value) > limit:
            raise ApplicationError(_("At most %(limit)d characters.") % {"limit": limit}, field=name)
        setattr(month, name, value)
    project_ids = {getattr(project, "pk", project) for project in projects}
    unit_ids = {getattr(unit, "pk", unit) for unit in responsible_units}
    if project_ids - set(
        allowed_projects(month.plan).filter(pk__in=project_ids).values_list("pk", flat=True)
    ):
        raise ApplicationError(
            _("Choose projects of this unit, of the units below it or of the county above it."),
            field="projects",
        )
    if unit_ids - set(allowed_units(month.plan).filter(pk__in=unit_ids).values_list("pk", flat=True)):
        raise ApplicationError(_("Choose this unit or units below it."), field="responsible_units")
    month.save()
    month.projects.set(project_ids)
    month.responsible_units.set(unit_ids)
    return month
