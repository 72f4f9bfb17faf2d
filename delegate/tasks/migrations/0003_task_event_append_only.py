"""On PostgreSQL the database itself refuses to change a task event: the audit trail is
append-only even for code that bypasses the model (QuerySet.update, raw SQL). Rewriting
history on purpose (demo data) sets ``delegate.rewrite_history`` for its transaction.
Deleting stays possible so that erasing a task or an agency can cascade."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION delegate_task_event_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('delegate.rewrite_history', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'task events are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER task_event_append_only BEFORE UPDATE ON tasks_taskevent
    FOR EACH ROW EXECUTE FUNCTION delegate_task_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS task_event_append_only ON tasks_taskevent;
DROP FUNCTION IF EXISTS delegate_task_event_append_only();
"""


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0002_task_assignee_load")]

    operations = [migrations.RunPython(create, drop)]
