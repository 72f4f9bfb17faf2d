"""On SQLite too, the database refuses to change a task event. SQLite triggers cannot read
a session setting, so ``history_rewrite()`` marks its transaction with a row in
``delegate_history_rewrite`` and removes it before the transaction ends: SQLite has one
writer at a time and readers see only committed data, so no other connection ever sees
the mark. (PostgreSQL: migration 0003.)"""

from django.db import migrations

CREATE = [
    "CREATE TABLE delegate_history_rewrite (id INTEGER PRIMARY KEY)",
    """
    CREATE TRIGGER task_event_append_only BEFORE UPDATE ON tasks_taskevent
    FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM delegate_history_rewrite)
    BEGIN
        SELECT RAISE(ABORT, 'task events are append-only');
    END
    """,
]

DROP = [
    "DROP TRIGGER IF EXISTS task_event_append_only",
    "DROP TABLE IF EXISTS delegate_history_rewrite",
]


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0003_task_event_append_only")]

    operations = [migrations.RunPython(create, drop)]
