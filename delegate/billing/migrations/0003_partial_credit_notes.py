"""Partial credit notes: an invoice's credited total (which may change after issuing,
like the paid total) and, on a credit note's line, the line of the invoice it credits;
and a line's own service period, for time billed after its month's invoice.

SQLite adds the column by rebuilding the invoice table, which its triggers (and the
lines' triggers, which name it) do not survive: they are dropped first and made again
after. On PostgreSQL the trigger function learns the new mutable column."""

from decimal import Decimal
from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

immutable = import_module("delegate.billing.migrations.0002_issued_invoices_immutable")
MUTABLE = ("status", "sent_at", "paid_total", "credited_total", "updated_at")


def _pg_function(mutable: tuple[str, ...]) -> str:
    without = " ".join(f"- '{column}'" for column in mutable)
    return f"""
CREATE OR REPLACE FUNCTION delegate_invoice_immutable() RETURNS trigger AS $$
BEGIN
    IF current_setting('delegate.rewrite_history', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'issued invoices cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status = 'draft'
       OR (to_jsonb(NEW) {without}) IS DISTINCT FROM (to_jsonb(OLD) {without}) THEN
        RAISE EXCEPTION 'issued invoices cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def drop_sqlite_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        for statement in immutable.SQLITE_DROP:
            schema_editor.execute(statement)


def create_sqlite_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        for statement in immutable.SQLITE_CREATE:
            schema_editor.execute(statement)


def triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_pg_function(MUTABLE))
    elif schema_editor.connection.vendor == "sqlite":
        for statement in [*immutable.SQLITE_DROP, *immutable.SQLITE_CREATE]:
            schema_editor.execute(statement)


def triggers_before(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_pg_function(tuple(c for c in MUTABLE if c != "credited_total")))
    elif schema_editor.connection.vendor == "sqlite":
        for statement in [*immutable.SQLITE_DROP, *immutable.SQLITE_CREATE]:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_issued_invoices_immutable"),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.AddField(
            model_name="invoice",
            name="credited_total",
            field=models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=12),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="credits_line",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="credits",
                to="billing.invoiceline",
            ),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="service_start",
            field=models.DateField(blank=True, null=True, verbose_name="service from"),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="service_end",
            field=models.DateField(blank=True, null=True, verbose_name="service until"),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("issued", "Issued"),
                    ("sent", "Sent"),
                    ("partly_paid", "Partly paid"),
                    ("paid", "Paid"),
                    ("partly_credited", "Partly credited"),
                    ("credited", "Credited in full"),
                    ("cancelled", "Cancelled"),
                ],
                default="draft",
                max_length=20,
            ),
        ),
        migrations.RunPython(triggers, triggers_before),
    ]
