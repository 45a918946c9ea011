"""Many rows at once: PostgreSQL COPY a batch at a time, for the Excel import and the scale data set.

`copy_rows` sends rows to one table in COPY's text format, inside the caller's transaction; a database
error comes out as Django's (a unique violation as IntegrityError), as from any other query. `Copy` does
the same for a model, every column not given at its default. `VolunteersCopy` writes new volunteers that
carry their ids, with their accounts and their service domains: the one writer of both the import and
`seed_scale`. `VolunteersCreate` plans those ids first (nextval over the sequences, one query a batch);
on a database without COPY (the embedded SQLite) it falls back to bulk_create.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from .models import Volunteer

# --- COPY ---------------------------------------------------------------------------------------------


def copy_value(value) -> str:
    """A value in COPY's text format."""
    if type(value) is not str:
        if value is None:
            return r"\N"
        if value is True:
            return "t"
        if value is False:
            return "f"
        if isinstance(value, datetime.datetime | datetime.date):
            return value.isoformat()
        value = str(value)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_lines(rows: Iterable[Sequence], tail: str = "") -> str:
    """Rows as COPY text, each line ended by `tail` (values already in COPY's format) and a newline."""
    end = tail + "\n"
    return "".join("\t".join(map(copy_value, row)) + end for row in rows)


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence] | str) -> None:
    """COPY `rows` (sequences in the order of `columns`, or text from `copy_lines`) into `table`."""
    text = rows if isinstance(rows, str) else copy_lines(rows)
    if not text:
        return
    quoted = ", ".join(f'"{column}"' for column in columns)
    # copy_expert is psycopg's own: wrapped here so its errors are Django's, like a query's.
    with getattr(cursor, "db", connection).wrap_database_errors:
        cursor.copy_expert(f'COPY "{table}" ({quoted}) FROM STDIN', io.StringIO(text))


def supports_copy() -> bool:
    return connection.vendor == "postgresql"


class Copy:
    """COPY into one model's table: the given fields in order, every other column at its default (the
    timestamps at now, an omitted primary key from its sequence)."""

    def __init__(self, model, fields: Sequence[str]):
        meta = model._meta
        now = timezone.now()
        given = set(fields)
        self.columns = [meta.get_field(name).column for name in fields]
        tail = []
        for model_field in meta.concrete_fields:
            if model_field.attname in given or model_field.name in given or model_field.primary_key:
                continue
            if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                value = now
            elif model_field.has_default():
                value = model_field.get_default()
            elif model_field.null:
                value = None
            elif model_field.blank:
                value = ""
            else:
                raise ValueError(f"{meta.label}.{model_field.attname} needs a value")
            self.columns.append(model_field.column)
            tail.append(copy_value(value))
        self.table = meta.db_table
        self.tail = ("\t" + "\t".join(tail)) if tail else ""

    def line(self, values: Iterable) -> str:
        return "\t".join(map(copy_value, values)) + self.tail + "\n"

    def raw_line(self, *texts: str) -> str:
        """A line of values already in COPY's text format (no tab, newline or backslash in them)."""
        return "\t".join(texts) + self.tail + "\n"

    def lines(self, rows: Iterable[Sequence]) -> str:
        return copy_lines(rows, self.tail)

    def send(self, text: str) -> None:
        if text:
            with connection.cursor() as cursor:
                copy_rows(cursor, self.table, self.columns, text)

    def rows(self, rows: Iterable[Sequence]) -> int:
        lines = [self.line(row) for row in rows]
        self.send("".join(lines))
        return len(lines)


def reserve_ids(model, count: int) -> int:
    """The first of `count` consecutive ids (the sequence moves past them), for a build nobody else writes
    to meanwhile: another session's nextval between the two steps here could take one of them."""
    table = model._meta.db_table
    # Past the largest id too: rows written with explicit ids (a bench's tree) do not move the sequence.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(seq, GREATEST(nextval(seq), "
            f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}")) + %s - 1) '
            "FROM pg_get_serial_sequence(%s, 'id') AS seq",
            [count, table],
        )
        (last,) = cursor.fetchone()
    return last - count + 1


def next_ids(cursor, models: Sequence, count: int) -> list[tuple[int, ...]]:
    """`count` new ids of each model, taken from their sequences in one query: safe beside other writers
    (nextval never hands an id out twice), not necessarily consecutive. One tuple per row."""
    if count <= 0:
        return []
    tables = [model._meta.db_table for model in models]
    columns = ", ".join("nextval(pg_get_serial_sequence(%s, 'id'))" for _table in tables)
    cursor.execute(f"SELECT {columns} FROM generate_series(1, %s)", [*tables, count])
    return cursor.fetchall()


# --- Volunteers ---------------------------------------------------------------------------------------

# What a new volunteer's row holds, in this order (created_at/updated_at follow, at now).
VOLUNTEER_COLUMNS = (
    "id",
    "user_id",
    "number",
    "name",
    "id_type",
    "id_number_encrypted",
    "id_number_hash",
    "id_number_masked",
    "birth_date",
    "gender",
    "phone",
    "political_status",
    "education",
    "skills",
    "home_unit_id",
    "status",
    "registered_on",
    "registered_by_id",
    "privacy_notice_id",
    "consented_at",
    "guardian_name",
    "guardian_phone",
    "guardian_consented_at",
)
# A volunteer's account: the login is the phone (every other column at its default).
ACCOUNT_COLUMNS = ("id", "username", "first_name", "password", "date_joined")
DOMAIN_COLUMNS = ("volunteer_id", "platform_id")


class VolunteersCopy:
    """COPY of new volunteers that carry their ids, their accounts first (a volunteer points at its
    account), their service domains last. Lines can be made anywhere (a worker process too: the
    object holds plain text), then written with `send` inside the caller's transaction."""

    def __init__(self):
        self.volunteer = Copy(Volunteer, VOLUNTEER_COLUMNS)
        self.account = Copy(get_user_model(), ACCOUNT_COLUMNS)
        self.domain = Copy(Volunteer.domains.through, DOMAIN_COLUMNS)

    def send(self, cursor, *, volunteers: str, domains: str = "", accounts: str = "") -> None:
        for copy, text in ((self.account, accounts), (self.volunteer, volunteers), (self.domain, domains)):
            if text:
                copy_rows(cursor, copy.table, copy.columns, text)


class VolunteersCreate:
    """Inserts batches of new volunteers, with an account each (optional) and their service domains.

    A batch is a list of (volunteer, account, platform ids): `volunteer` the values of VOLUNTEER_COLUMNS
    after the two ids, `account` those of ACCOUNT_COLUMNS after the id (or None: no account). On
    PostgreSQL the ids come from the sequences first, then everything goes in by COPY; elsewhere by
    bulk_create, which reads the new ids back. Either way inside the caller's transaction."""

    def __init__(self, *, batch_size: int = 2000):
        self.batch_size = batch_size
        self.copy = supports_copy()
        if self.copy:
            self.copies = VolunteersCopy()

    def __call__(self, batch: Sequence[tuple[Sequence, Sequence | None, Sequence[int]]]) -> list[int]:
        """The new volunteers' ids, in order."""
        if not batch:
            return []
        if not self.copy:
            return self._bulk_create(batch)
        user_model = get_user_model()
        with connection.cursor() as cursor:
            ids = next_ids(cursor, (Volunteer, user_model), len(batch))
            copies = self.copies
            accounts, volunteers, domains = [], [], []
            for (pk, user_pk), (values, account, platform_ids) in zip(ids, batch, strict=True):
                if account is None:
                    user_pk = None
                else:
                    accounts.append((user_pk, *account))
                volunteers.append((pk, user_pk, *values))
                domains.extend((pk, platform_id) for platform_id in platform_ids)
            copies.send(
                cursor,
                accounts=copies.account.lines(accounts),
                volunteers=copies.volunteer.lines(volunteers),
                domains=copies.domain.lines(domains),
            )
        return [pk for pk, _user_pk in ids]

    def _bulk_create(self, batch) -> list[int]:
        user_model = get_user_model()
        fields = VOLUNTEER_COLUMNS[2:]
        account_fields = ACCOUNT_COLUMNS[1:]
        users = [
            user_model(**dict(zip(account_fields, account, strict=True))) if account is not None else None
            for _values, account, _domains in batch
        ]
        made = [user for user in users if user is not None]
        if made:
            user_model._default_manager.bulk_create(made, batch_size=self.batch_size)
        volunteers = [
            Volunteer(user_id=user.pk if user else None, **dict(zip(fields, values, strict=True)))
            for (values, _account, _domains), user in zip(batch, users, strict=True)
        ]
        Volunteer.objects.bulk_create(volunteers, batch_size=self.batch_size)
        through = Volunteer.domains.through
        links = [
            through(volunteer_id=volunteer.pk, platform_id=platform_id)
            for volunteer, (_values, _account, platform_ids) in zip(volunteers, batch, strict=True)
            for platform_id in platform_ids
        ]
        if links:
            through.objects.bulk_create(links, batch_size=self.batch_size * 2)
        return [volunteer.pk for volunteer in volunteers]
