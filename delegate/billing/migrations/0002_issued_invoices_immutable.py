"""The database itself refuses to change or delete an issued invoice or its lines, even
for code that bypasses the models (QuerySet.update, raw SQL, the admin). After issuing
only the status, the sending time and the paid total may change, and never back to a
draft. On PostgreSQL the trigger compares the whole row without those columns; on
SQLite it names the frozen columns (kept in step with ``Invoice.MUTABLE_AFTER_ISSUE``).
Both honour ``history_rewrite()`` (tasks migrations 0003/0004) for erasing test data."""

from django.db import migrations

FROZEN = [
    "agency_id", "issuer_id", "client_id", "kind", "corrects_id", "sequence", "number",
    "issue_date", "due_date", "issued_at", "issued_by_id", "snapshot", "content_hash",
    "previous_hash", "period_start", "period_end", "payment_terms_days", "language",
    "currency", "vat_treatment", "recipient_name", "recipient_street",
    "recipient_postal_code", "recipient_city", "recipient_country", "recipient_vat_id",
    "recipient_email", "recipient_is_business", "leitweg_id", "note", "net_total",
    "vat_total", "gross_total", "created_at", "id",
]  # fmt: skip

PG_CREATE = """
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
       OR (to_jsonb(NEW) - 'status' - 'sent_at' - 'paid_total' - 'updated_at')
          IS DISTINCT FROM
          (to_jsonb(OLD) - 'status' - 'sent_at' - 'paid_total' - 'updated_at') THEN
        RAISE EXCEPTION 'issued invoices cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION delegate_invoice_immutable();

CREATE OR REPLACE FUNCTION delegate_invoice_line_immutable() RETURNS trigger AS $$
BEGIN
    IF current_setting('delegate.rewrite_history', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF EXISTS (
        SELECT 1 FROM billing_invoice
        WHERE status <> 'draft' AND id IN (
            CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.invoice_id END,
            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.invoice_id END)
    ) THEN
        RAISE EXCEPTION 'lines of issued invoices cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_line_immutable BEFORE INSERT OR UPDATE OR DELETE
    ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION delegate_invoice_line_immutable();
"""

PG_DROP = """
DROP TRIGGER IF EXISTS invoice_immutable ON billing_invoice;
DROP TRIGGER IF EXISTS invoice_line_immutable ON billing_invoiceline;
DROP FUNCTION IF EXISTS delegate_invoice_immutable();
DROP FUNCTION IF EXISTS delegate_invoice_line_immutable();
"""

NO_REWRITE = "NOT EXISTS (SELECT 1 FROM delegate_history_rewrite)"
CHANGED = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in FROZEN)
ISSUED_LINE = "EXISTS (SELECT 1 FROM billing_invoice WHERE id = {ref}.invoice_id AND status <> 'draft')"

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER invoice_immutable_update BEFORE UPDATE ON billing_invoice
    FOR EACH ROW WHEN OLD.status <> 'draft' AND {NO_REWRITE}
        AND (NEW.status = 'draft' OR {CHANGED})
    BEGIN
        SELECT RAISE(ABORT, 'issued invoices cannot be changed');
    END
    """,
    f"""
    CREATE TRIGGER invoice_immutable_delete BEFORE DELETE ON billing_invoice
    FOR EACH ROW WHEN OLD.status <> 'draft' AND {NO_REWRITE}
    BEGIN
        SELECT RAISE(ABORT, 'issued invoices cannot be deleted');
    END
    """,
    f"""
    CREATE TRIGGER invoice_line_immutable_insert BEFORE INSERT ON billing_invoiceline
    FOR EACH ROW WHEN {ISSUED_LINE.format(ref="NEW")} AND {NO_REWRITE}
    BEGIN
        SELECT RAISE(ABORT, 'lines of issued invoices cannot change');
    END
    """,
    f"""
    CREATE TRIGGER invoice_line_immutable_update BEFORE UPDATE ON billing_invoiceline
    FOR EACH ROW WHEN ({ISSUED_LINE.format(ref="OLD")} OR {ISSUED_LINE.format(ref="NEW")})
        AND {NO_REWRITE}
    BEGIN
        SELECT RAISE(ABORT, 'lines of issued invoices cannot change');
    END
    """,
    f"""
    CREATE TRIGGER invoice_line_immutable_delete BEFORE DELETE ON billing_invoiceline
    FOR EACH ROW WHEN {ISSUED_LINE.format(ref="OLD")} AND {NO_REWRITE}
    BEGIN
        SELECT RAISE(ABORT, 'lines of issued invoices cannot change');
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS invoice_immutable_update",
    "DROP TRIGGER IF EXISTS invoice_immutable_delete",
    "DROP TRIGGER IF EXISTS invoice_line_immutable_insert",
    "DROP TRIGGER IF EXISTS invoice_line_immutable_update",
    "DROP TRIGGER IF EXISTS invoice_line_immutable_delete",
]


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("tasks", "0004_task_event_append_only_sqlite"),
    ]

    operations = [migrations.RunPython(create, drop)]
