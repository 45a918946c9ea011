"""Build the demo county (顺昌县) through the services: units, platforms, the 八个有 standard, inspections
and the demo logins. Every row is looked up by its code or natural key first, so a second run changes nothing.
"""

import datetime
import time
import unicodedata
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.module_loading import module_has_submodule
from rest_framework.authtoken.models import Token

from kernel import accounts
from kernel.errors import ApplicationError
from stations import demo_data, services
from stations.models import ADMIN_ROLES, Checklist, Inspection, Platform, Role, Unit, UnitKind


class Command(BaseCommand):
    help = "Build the demo county 顺昌县 (about 500 units) with its demo logins; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print no progress, only the logins.")
        parser.add_argument(
            "--force", action="store_true", help="Load the demo even with DEBUG off (never on a real county)."
        )

    def handle(self, *args, quiet=False, force=False, **options):
        if not (settings.DEBUG or force):
            # The demo makes a superuser whose password is printed in the README: never on a live site.
            raise CommandError(
                "seed_demo loads demo accounts with a public password; it runs only with DEBUG on."
            )
        self.quiet = quiet or options["verbosity"] == 0
        self.demo_hash = ""
        started = time.monotonic()
        plan = demo_data.county_plan()
        units, units_created = self._seed_units(plan)
        center = units[demo_data.CENTER_CODE]
        with transaction.atomic():
            platforms_created = self._seed_platforms(center)
            checklist, items_created = self._seed_checklist(center)
        with transaction.atomic():
            accounts, accounts_created = self._seed_accounts(units)
        with transaction.atomic():
            inspections_created = self._seed_inspections(plan, units, checklist, actor=accounts["county"])
        with transaction.atomic():
            inspections_created += self._seed_ownership(units, checklist, accounts)
        more_created, more_logins, more_notes = self._seed_other_apps(units, accounts)

        # Fresh statistics, so the planner picks the path index for subtrees from the first request on.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        created = {
            "units": units_created,
            "platforms": platforms_created,
            "standard items": items_created,
            "inspections": inspections_created,
            "accounts": accounts_created,
            **more_created,
        }
        seconds = time.monotonic() - started
        if any(created.values()) or self.renamed:
            summary = ", ".join(f"{count} {what}" for what, count in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo county ready in {seconds:.1f} s; created {summary}."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Demo county already in place; nothing changed ({seconds:.1f} s).")
            )
        self._print_logins(accounts, units, more_logins, more_notes)

    def _seed_other_apps(self, units: dict[str, Unit], accounts) -> tuple[dict[str, int], list, list]:
        """The apps above stations add their part of the demo (volunteers: teams and volunteers) with a
        `demo_data.seed(units=, accounts=, progress=)` of their own, in the order of INSTALLED_APPS; it
        returns what it created, its rows of the demo logins and lines to print below them. Stations
        never imports them."""
        created: dict[str, int] = {}
        logins: list[tuple[str, str, str, str]] = []
        notes: list[str] = []
        for config in apps.get_app_configs():
            if config.name == "stations" or not module_has_submodule(config.module, "demo_data"):
                continue
            seed = getattr(import_module(f"{config.name}.demo_data"), "seed", None)
            if seed is None:
                continue
            try:
                part_created, part_logins, part_notes = seed(
                    units=units, accounts=accounts, progress=self._progress
                )
            except ApplicationError as error:
                raise CommandError(f"{config.label}: {error.message}") from error
            created.update(part_created)
            logins += part_logins
            notes += part_notes
        return created, logins, notes

    def _progress(self, message: str) -> None:
        if not self.quiet:
            self.stdout.write(message)

    def _seed_units(self, plan: demo_data.CountyPlan) -> tuple[dict[str, Unit], int]:
        specs = plan.units
        existing = Unit.objects.in_bulk([spec.code for spec in specs], field_name="code")
        for spec in specs:
            found = existing.get(spec.code)
            if found is not None and found.kind != spec.kind:
                raise CommandError(
                    f"Code {spec.code} is already used by {found.name} ({found.kind}), not a {spec.kind}; "
                    "the demo county cannot be built in this database."
                )
        units: dict[str, Unit] = {}
        created = self._create_missing([plan.center], existing, units)
        for number, township in enumerate(plan.townships, 1):
            # One transaction per township: a run cut short keeps whole townships, and the next run resumes.
            with transaction.atomic():
                new = self._create_missing(township, existing, units)
            created += new
            institute = township[0]
            stations = sum(1 for spec in township if spec.kind == UnitKind.STATION)
            points = len(township) - stations - 1
            self._progress(
                f"  [{number:2d}/{len(plan.townships)}] {institute.code:6} {institute.name}: "
                f"{stations} stations, {points} points, {new} new"
            )
        return units, created

    def _create_missing(self, specs, existing: dict[str, Unit], units: dict[str, Unit]) -> int:
        created = 0
        for spec in specs:
            unit = existing.get(spec.code)
            if unit is None:
                parent = units[spec.parent_code] if spec.parent_code else None
                try:
                    unit = services.unit_create(
                        actor=None,
                        kind=spec.kind,
                        name=spec.name,
                        code=spec.code,
                        parent=parent,
                        **spec.fields,
                    )
                except ApplicationError as error:
                    raise CommandError(f"{spec.code} {spec.name}: {error.message}") from error
                created += 1
            units[spec.code] = unit
        return created

    def _seed_platforms(self, center: Unit) -> int:
        created = 0
        present = set(Platform.objects.filter(center=center).values_list("code", flat=True))
        for order, (code, name, department, description) in enumerate(demo_data.PLATFORMS, 1):
            if code not in present:
                services.platform_create(
                    actor=None,
                    center=center,
                    code=code,
                    name=name,
                    responsible_department=department,
                    description=description,
                    order=order,
                )
                created += 1
        self._progress(f"  platforms: {len(demo_data.PLATFORMS)} ({created} new)")
        return created

    def _seed_checklist(self, center: Unit) -> tuple[Checklist, int]:
        checklist = Checklist.objects.filter(center=center, name=demo_data.CHECKLIST_NAME).first()
        if checklist is None:
            checklist = services.checklist_create(
                actor=None,
                center=center,
                name=demo_data.CHECKLIST_NAME,
                unit_kind=UnitKind.STATION,
                description=demo_data.CHECKLIST_DESCRIPTION,
            )
        present = set(checklist.items.values_list("text", flat=True))
        missing = [
            (order, text, weight)
            for order, (text, weight) in enumerate(demo_data.CHECKLIST_ITEMS, 1)
            if text not in present
        ]
        for order, text, weight in missing:
            services.checklist_item_add(
                actor=None, checklist=checklist, order=order, text=text, weight=weight
            )
        self._progress(
            f"  standard {checklist.name}: {len(demo_data.CHECKLIST_ITEMS)} items ({len(missing)} new)"
        )
        return checklist, len(missing)

    def _seed_accounts(self, units: dict[str, Unit]):
        user_model = get_user_model()
        wanted = demo_data.ACCOUNTS
        users = user_model.objects.in_bulk([account.username for account in wanted], field_name="username")
        created = renamed = 0
        for account in wanted:
            if account.username not in users:
                # One hash for all demo accounts: hashing is slow on purpose, and the password is public.
                self.demo_hash = self.demo_hash or make_password(demo_data.PASSWORD)
                user = user_model(
                    username=account.username,
                    first_name=account.real_name,
                    # The viewer reads the API with a token; only administrators use the admin.
                    is_staff=account.role is None or account.role in ADMIN_ROLES,
                    is_superuser=account.role is None,
                    password=self.demo_hash,
                )
                user.save()
                users[account.username] = user
                created += 1
            else:
                renamed += self._name_demo_account(users[account.username], account)
            if account.role is not None:
                services.role_grant(
                    actor=None, user=users[account.username], role=account.role, unit=units[account.unit_code]
                )
        self.renamed = renamed
        if renamed:
            self._progress(f"  accounts: {renamed} renamed to their whole real name")
        return users, created

    @staticmethod
    def _name_demo_account(user, account: demo_data.Account) -> int:
        """An account an earlier demo made with its name split in two ("丽华" and "黄") gets the whole name
        in the one field the portal shows; any other account keeps its name as it is."""
        if user.first_name == account.real_name or user.last_name + user.first_name != account.real_name:
            return 0
        accounts.account_update(actor=None, user=user, first_name=account.real_name, last_name="")
        return 1

    def _seed_inspections(self, plan, units: dict[str, Unit], checklist: Checklist, *, actor) -> int:
        item_ids = dict(checklist.items.values_list("text", "pk"))
        done = set(Inspection.objects.filter(checklist=checklist).values_list("unit_id", "inspected_on"))
        created = 0
        for spec in plan.inspections:
            unit = units[spec.unit_code]
            if (unit.pk, spec.inspected_on) in done:
                continue
            met = [pk for text, pk in item_ids.items() if text not in spec.unmet]
            services.inspection_record(
                actor=actor,
                unit=unit,
                checklist=checklist,
                inspected_on=spec.inspected_on,
                met_item_ids=met,
                note=spec.note,
            )
            created += 1
        self._progress(f"  inspections: {len(plan.inspections)} ({created} new)")
        return created

    # Whose inspection it is: the township inspects one of its stations itself, and the demo station
    # answers the county's inspection with a dated follow-up (整改记录) instead of rewriting it.
    TOWNSHIP_INSPECTION = ("shuangxi", "SC-01-002", datetime.date(2026, 11, 10), "镇督查组走访，资料齐全。")
    COUNTY_INSPECTION = ("county", "SC-01-001", datetime.date(2026, 11, 12), "县督查组抽查：学习书籍不足。")
    FOLLOW_UP = ("station", "已补齐学习书籍 120 册，制度已上墙。")

    def _seed_ownership(self, units: dict[str, Unit], checklist: Checklist, accounts) -> int:
        created = 0
        items = list(checklist.items.order_by("order"))
        recorded = {}
        for username, code, day, note in (self.TOWNSHIP_INSPECTION, self.COUNTY_INSPECTION):
            unit, actor = units[code], accounts[username]
            inspection = Inspection.objects.filter(unit=unit, inspected_on=day, inspector=actor).first()
            if inspection is None:
                inspection = services.inspection_record(
                    actor=actor,
                    unit=unit,
                    checklist=checklist,
                    inspected_on=day,
                    met_item_ids=[item.pk for item in (items[:-1] if username == "county" else items)],
                    note=note,
                )
                created += 1
            recorded[username] = inspection
        username, note = self.FOLLOW_UP
        county_inspection = recorded["county"]
        if not county_inspection.follow_ups.filter(note=note).exists():
            services.follow_up_add(actor=accounts[username], inspection=county_inspection, note=note)
        self._progress(f"  inspections by the township and follow-ups: {created} new")
        return created

    def _print_logins(self, users, units: dict[str, Unit], more_logins=(), more_notes=()) -> None:
        # Stored hash › whether the demo password opens it, so each distinct hash is checked once.
        checked: dict[str, bool] = {self.demo_hash: True} if self.demo_hash else {}
        rows = [("Username", "Role", "Unit", "Password")]
        for account in demo_data.ACCOUNTS:
            user = users[account.username]
            if user.password not in checked:
                checked[user.password] = check_password(demo_data.PASSWORD, user.password)
            password = demo_data.PASSWORD if checked[user.password] else "(changed, kept as is)"
            role = Role(account.role).label if account.role else "Superuser"
            unit = units[account.unit_code].name if account.unit_code else "(all units)"
            rows.append((account.username, str(role), unit, password))
        rows += [tuple(str(cell) for cell in row) for row in more_logins]
        widths = [max(_width(row[column]) for row in rows) for column in range(len(rows[0]))]
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins"))
        for index, row in enumerate(rows):
            self.stdout.write(
                "  " + "  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(f"Sign in at {demo_data.ADMIN_URL}")
        for note in more_notes:
            self.stdout.write(note)
        viewer = next(a.username for a in demo_data.ACCOUNTS if a.role == Role.VIEWER)
        token, _created = Token.objects.get_or_create(user=users[viewer])
        # A demo convenience only (the command runs with DEBUG on): the dashboard reads the API by token.
        self.stdout.write(
            f"API as the {viewer} viewer: curl -H 'Authorization: Token {token.key}' {demo_data.API_URL}"
        )


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
