"""The database's own guard: a decided service record (approved, rejected, withdrawn) is never changed or
deleted, whatever writes to the table, and the audit trail is append-only. PostgreSQL refuses both with
triggers; SQLite (the embedded default for development) refuses the change, but not the delete, because
Django's flush of a test database deletes rows there instead of truncating the table."""

from django.db import migrations

_PG_FORWARD = """
CREATE FUNCTION records_decided_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'service record % is decided (%): it is never changed or deleted', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_decided_frozen BEFORE UPDATE OR DELETE ON records_servicerecord
    FOR EACH ROW EXECUTE FUNCTION records_decided_frozen();

CREATE FUNCTION records_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail of service records is never changed' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_events_append_only BEFORE UPDATE OR DELETE ON records_recordevent
    FOR EACH ROW EXECUTE FUNCTION records_events_append_only();
"""
_PG_BACKWARD = """
DROP TRIGGER IF EXISTS records_events_append_only ON records_recordevent;
DROP FUNCTION IF EXISTS records_events_append_only();
DROP TRIGGER IF EXISTS records_decided_frozen ON records_servicerecord;
DROP FUNCTION IF EXISTS records_decided_frozen();
"""
_SQLITE_FORWARD = """
CREATE TRIGGER records_decided_frozen BEFORE UPDATE ON records_servicerecord
FOR EACH ROW WHEN OLD.status <> 'pending'
BEGIN
    SELECT RAISE(ABORT, 'service record is decided: it is never changed');
END;
"""
_SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS records_decided_frozen;"


def _run(sql: dict):
    def run(apps, schema_editor):
        statement = sql.get(schema_editor.connection.vendor)
        if statement:
            # Straight to the cursor, without parameters: the '%' of RAISE is not a placeholder.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": _PG_FORWARD, "sqlite": _SQLITE_FORWARD}),
            _run({"postgresql": _PG_BACKWARD, "sqlite": _SQLITE_BACKWARD}),
        )
    ]
