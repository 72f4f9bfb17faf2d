"""Invoices: drafts and runs, issuing (numbers, snapshot, chain), each VAT case,
cancellation, payments and immutability through every path."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from delegate.agencies import services as agency_services
from delegate.billing import invoicing, services
from delegate.billing.models import (
    ImmutableInvoiceError,
    Invoice,
    InvoicedTime,
    InvoiceLine,
    OverageApproval,
)
from delegate.billing.tests.helpers import billing_address, contract, draft, entry, issuer
from delegate.tasks.models import Category, Task, history_rewrite
from delegate.testing import Cast, db_state
from delegate.timetracking.models import TimeEntry

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
OCT = dt.date(2026, 10, 1)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, tzinfo=BERLIN)


def english(cast: Cast) -> None:
    """Run lines are written in the recipient's language; these tests read English."""
    cast.acme.language = "en"
    cast.acme.save()


def lines(invoice: Invoice) -> list[tuple[str, str, str, str]]:
    return [
        (line.description, str(line.quantity), str(line.unit_price), str(line.net_amount))
        for line in invoice.lines.all()
    ]


# --- invoice runs --------------------------------------------------------------------------


def test_it_drafts_a_month_from_hourly_time_by_level_and_assistant(cast: Cast) -> None:
    english(cast)
    the_issuer = issuer(cast)
    billing_address(cast)
    agency_services.update_profile(cast.alice, cast.bob, level="senior")
    contract(
        cast, hourly_rate=Decimal("50.00"), level_rates={"senior": Decimal("90.00")},
        member_rates={cast.eve: Decimal("70.00")}, rounding_increment=15,
        monthly_fee=Decimal("99.00"),
    )  # fmt: skip
    entry(cast, at(5), 50)  # bob, senior: 50 → 60 min
    entry(cast, at(6), 10)  # → 15 min
    eve_entry = entry(cast, at(7), 30)
    TimeEntry.objects.filter(pk=eve_entry.pk).update(member=cast.eve)
    entry(cast, at(8), 45, is_billable=False)
    entry(cast, dt.datetime(2026, 11, 1, 10, tzinfo=BERLIN), 60)  # next month: not billed
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)
    assert lines(invoice) == [
        ("Flat monthly fee 10/2026", "1.00", "99.00", "99.00"),
        ("Assistance, 10/2026", "1.25", "90.00", "112.50"),
        ("Assistance, 10/2026", "0.50", "70.00", "35.00"),
    ]
    invoice.refresh_from_db()
    assert invoice.net_total == Decimal("246.50")
    assert invoice.vat_total == Decimal("46.84")  # 19 % of the sum, rounded once
    assert invoice.gross_total == Decimal("293.34")
    assert InvoicedTime.objects.filter(invoice=invoice).count() == 3
    # Billed time is locked against edits, and a second run for the month is refused.
    assert not TimeEntry.objects.filter(pk__in=invoice.billed_time.values("time_entry"),
                                        approved_at__isnull=True).exists()  # fmt: skip
    with pytest.raises(ValidationError):
        invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)


def test_it_bills_task_prices_instead_of_their_time(cast: Cast) -> None:
    english(cast)
    the_issuer = issuer(cast)
    billing_address(cast)
    category = Category.objects.filter(agency=cast.agency_a).first() or Category.objects.create(
        agency=cast.agency_a, slug="travel", name_en="Travel", name_de="Reisen"
    )
    contract(cast, task_prices={category: Decimal("35.00")})
    Task.objects.filter(pk=cast.task.pk).update(
        category=category, status=Task.Status.DONE, done_at=at(20)
    )
    entry(cast, at(19), 120)
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)
    assert lines(invoice) == [(f"{cast.task.title} ({cast.task.code})", "1.00", "35.00", "35.00")]


def test_it_bills_overage_only_when_approved_if_the_contract_says_so(cast: Cast) -> None:
    english(cast)
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(
        cast, package_hours=Decimal("1"), package_fee=Decimal("55.00"),
        overage_rate=Decimal("75.00"), overage_needs_approval=True,
    )  # fmt: skip
    entry(cast, at(3), 90)
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)
    assert [line[0] for line in lines(invoice)] == ["Prepaid package 1 hours, 10/2026"]
    invoicing.delete_draft(cast.alice, invoice)
    assert not InvoicedTime.objects.exists()
    services.approve_overage(cast.carol, month=at(15).date())
    assert OverageApproval.objects.count() == 1
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)
    assert lines(invoice)[-1] == ("Hours beyond the package, 10/2026", "0.50", "75.00", "37.50")


def test_it_leaves_unapproved_time_out_when_the_client_approves_hours(cast: Cast) -> None:
    english(cast)
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(cast, needs_time_approval=True)
    approved = entry(cast, at(3), 60)
    entry(cast, at(4), 60)
    TimeEntry.objects.filter(pk=approved.pk).update(approved_at=at(5))
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)
    assert lines(invoice) == [("Assistance, 10/2026", "1.00", "60.00", "60.00")]


def test_it_writes_run_lines_in_the_clients_language(cast: Cast) -> None:
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(cast, monthly_fee=Decimal("10.00"))
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)
    assert lines(invoice) == [("Monatspauschale 10/2026", "1.00", "10.00", "10.00")]


# --- issuing -------------------------------------------------------------------------------


def test_it_issues_with_the_next_number_a_snapshot_and_a_chain(cast: Cast) -> None:
    the_issuer = issuer(cast)
    first = invoicing.issue_invoice(cast.alice, draft(cast, the_issuer))
    second = invoicing.issue_invoice(cast.alice, draft(cast, the_issuer))
    assert (first.number, second.number) == ("RE-00001", "RE-00002")
    assert first.status == Invoice.Status.ISSUED
    assert first.issue_date is not None
    assert first.due_date == first.issue_date + dt.timedelta(days=14)
    assert second.previous_hash == first.content_hash
    assert first.snapshot["issuer"]["iban"] == "DE89370400440532013000"
    assert first.snapshot["recipient"]["name"] == "Acme GmbH"
    assert first.snapshot["gross_total"] == "238.00"
    the_issuer.refresh_from_db()
    assert invoicing.verify_chain(the_issuer) == []
    # Master data changing later does not touch the issued invoice.
    cast.acme.name = "Acme Renamed"
    cast.acme.save()
    first.refresh_from_db()
    assert first.snapshot["recipient"]["name"] == "Acme GmbH"
    with pytest.raises(ValidationError):
        invoicing.issue_invoice(cast.alice, first)


def test_it_refuses_to_issue_without_the_mandatory_fields(cast: Cast) -> None:
    the_issuer = issuer(cast)
    invoice = draft(cast, the_issuer, recipient_street="")
    before = db_state(Invoice)
    with pytest.raises(ValidationError, match="recipient_street"):
        invoicing.issue_invoice(cast.alice, invoice)
    assert db_state(Invoice) == before
    with pytest.raises(PermissionDenied):
        invoicing.issue_invoice(cast.bob, invoice)
    with pytest.raises(PermissionDenied):
        invoicing.issue_invoice(cast.mallory, invoice)


def test_it_keeps_a_separate_series_per_issuer(cast: Cast) -> None:
    agency_issuer = issuer(cast)
    client_issuer = issuer(cast, client=cast.acme, legal_name="Acme GmbH", number_prefix="AC-")
    a = invoicing.issue_invoice(cast.alice, draft(cast, agency_issuer))
    b = invoicing.issue_invoice(cast.alice, draft(cast, client_issuer))
    assert (a.number, b.number) == ("RE-00001", "AC-00001")
    assert b.snapshot["issuer"]["legal_name"] == "Acme GmbH"


def test_it_reports_a_gap_unless_it_was_recorded(cast: Cast) -> None:
    the_issuer = issuer(cast)
    invoicing.issue_invoice(cast.alice, draft(cast, the_issuer))
    services.record_number_gap(cast.alice, the_issuer, reason="Number used on paper by mistake")
    third = invoicing.issue_invoice(cast.alice, draft(cast, the_issuer))
    assert third.number == "RE-00003"
    the_issuer.refresh_from_db()
    assert invoicing.verify_chain(the_issuer) == []
    # A gap without a record, or tampering with a snapshot, is found.
    with transaction.atomic():
        with _rewrite():
            Invoice.objects.filter(pk=third.pk).update(
                snapshot={**third.snapshot, "gross_total": "1"}
            )
        problems = invoicing.verify_chain(the_issuer)
        transaction.set_rollback(True)
    assert problems == ["RE-00003: content does not match its hash"]
    with transaction.atomic():
        the_issuer.gaps.all().delete()
        problems = invoicing.verify_chain(the_issuer)
        transaction.set_rollback(True)
    assert problems == ["RE-00002: missing, no recorded gap"]


def _rewrite() -> AbstractContextManager[None]:
    return history_rewrite()


# --- VAT cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "vat_id", "small", "treatment", "vat", "note"),
    [
        ("DE", "", False, "domestic", "38.00", ""),
        ("DE", "", True, "small_business", "0.00", "§ 19 UStG"),
        ("AT", "ATU13585627", False, "reverse_charge", "0.00", "§ 13b UStG"),
        ("AT", "", False, "domestic", "38.00", ""),  # EU consumer: German VAT
        ("CH", "", False, "non_eu", "0.00", "§ 3a Abs. 2 UStG"),
    ],
)
def test_it_applies_each_vat_case_with_its_note(
    cast: Cast, country: str, vat_id: str, small: bool, treatment: str, vat: str, note: str
) -> None:
    the_issuer = issuer(cast, is_small_business=small)
    invoice = draft(cast, the_issuer, recipient_country=country, recipient_vat_id=vat_id)
    invoice = invoicing.issue_invoice(cast.alice, invoice)
    assert invoice.vat_treatment == treatment
    assert invoice.snapshot["vat_total"] == vat
    assert note in invoice.snapshot["vat_note"]


def test_it_taxes_lines_at_19_7_and_0_percent(cast: Cast) -> None:
    the_issuer = issuer(cast)
    invoice = draft(cast, the_issuer)
    for rate in ("7.00", "0.00"):
        invoicing.add_line(
            cast.alice, invoice, description=f"At {rate}", quantity=Decimal("1"),
            unit_price=Decimal("10.05"), vat_rate=Decimal(rate),
        )  # fmt: skip
    invoice = invoicing.issue_invoice(cast.alice, invoice)
    assert invoice.snapshot["vat_groups"] == [
        {"category": "S", "rate": "19.00", "basis": "200.00", "tax": "38.00"},
        {"category": "S", "rate": "7.00", "basis": "10.05", "tax": "0.70"},
        {"category": "Z", "rate": "0.00", "basis": "10.05", "tax": "0.00"},
    ]
    assert invoice.gross_total == Decimal("258.80")
    with pytest.raises(ValidationError):
        invoicing.add_line(
            cast.alice, draft(cast, the_issuer), description="x",
            quantity=Decimal(1), unit_price=Decimal(1), vat_rate=Decimal(16),
        )  # fmt: skip


def test_it_writes_german_notes_for_german_recipients(cast: Cast) -> None:
    the_issuer = issuer(cast, is_small_business=True)
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, the_issuer, language="de"))
    assert "Gemäß § 19 UStG" in invoice.snapshot["vat_note"]


# --- corrections and payments -------------------------------------------------------------


def test_it_cancels_with_a_cancellation_invoice_referring_to_the_original(cast: Cast) -> None:
    the_issuer = issuer(cast)
    original = invoicing.issue_invoice(cast.alice, draft(cast, the_issuer))
    with pytest.raises(ValidationError):
        invoicing.cancel_invoice(cast.alice, original, reason=" ")
    correction = invoicing.cancel_invoice(cast.alice, original, reason="Wrong month")
    original.refresh_from_db()
    assert original.status == Invoice.Status.CANCELLED
    assert correction.number == "RE-00002" and correction.kind == "cancellation"
    assert correction.snapshot["corrects"] == "RE-00001"
    assert correction.gross_total == original.gross_total
    with pytest.raises(ValidationError):
        invoicing.cancel_invoice(cast.alice, original, reason="again")


def test_it_records_payments_partly_then_fully(cast: Cast) -> None:
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    invoicing.mark_sent(invoice)
    invoicing.record_payment(cast.alice, invoice, amount=Decimal("100.00"), paid_on=at(20).date())
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_total) == ("partly_paid", Decimal("100.00"))
    invoicing.record_payment(cast.alice, invoice, amount=Decimal("138.00"), paid_on=at(21).date())
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == ("paid", Decimal("0.00"))
    with pytest.raises(ValidationError):
        invoicing.record_payment(cast.alice, invoice, amount=Decimal("-1"), paid_on=at(21).date())


# --- immutability --------------------------------------------------------------------------


def test_it_refuses_every_change_to_an_issued_invoice(cast: Cast) -> None:
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    line = invoice.lines.get()
    before = db_state(Invoice, InvoiceLine)
    # The services
    with pytest.raises(ValidationError):
        invoicing.update_draft(cast.alice, invoice, note="changed")
    with pytest.raises(ValidationError):
        invoicing.add_line(cast.alice, invoice, description="more", quantity=Decimal(1),
                           unit_price=Decimal(1))  # fmt: skip
    with pytest.raises(ValidationError):
        invoicing.remove_line(cast.alice, line)
    with pytest.raises(ValidationError):
        invoicing.delete_draft(cast.alice, invoice)
    # The models
    invoice.recipient_name = "Someone else"
    with pytest.raises(ImmutableInvoiceError):
        invoice.save()
    with pytest.raises(ImmutableInvoiceError):
        invoice.delete()
    line.unit_price = Decimal("1.00")
    with pytest.raises(ImmutableInvoiceError):
        line.save()
    with pytest.raises(ImmutableInvoiceError):
        line.delete()
    # The database, past the models
    for attempt in (
        lambda: Invoice.objects.filter(pk=invoice.pk).update(gross_total=Decimal("1.00")),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(number="RE-99999"),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(status="draft"),
        lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
        lambda: InvoiceLine.objects.filter(pk=line.pk).update(quantity=Decimal(9)),
        lambda: InvoiceLine.objects.filter(pk=line.pk).delete(),
        lambda: InvoiceLine.objects.create(
            agency=cast.agency_a, invoice=invoice, position=9, description="x",
            quantity=Decimal(1), unit_price=Decimal(1), vat_rate=Decimal(19),
            net_amount=Decimal(1),
        ) if False else InvoiceLine.objects.bulk_create([InvoiceLine(
            agency=cast.agency_a, invoice=invoice, position=9, description="x",
            quantity=Decimal(1), unit_price=Decimal(1), vat_rate=Decimal(19),
            net_amount=Decimal(1),
        )]),
    ):  # fmt: skip
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert db_state(Invoice, InvoiceLine) == before
    # What may change after issuing still can.
    Invoice.objects.filter(pk=invoice.pk).update(status="sent")


def test_the_trigger_knows_every_frozen_column() -> None:
    from importlib import import_module

    migration = import_module("delegate.billing.migrations.0002_issued_invoices_immutable")
    assert sorted(migration.FROZEN) == sorted([*Invoice._frozen_fields(), "id"])


def test_it_does_not_send_an_invoice_cancelled_after_it_was_queued(cast: Cast) -> None:
    from django.core import mail

    queued = draft(cast, issuer(cast), recipient_email="a@acme.test")
    invoice = invoicing.issue_invoice(cast.alice, queued)
    invoicing.cancel_invoice(cast.alice, invoice, reason="Duplicate")
    assert invoicing.deliver(invoice.pk) is False
    assert mail.outbox == []


@pytest.mark.parametrize("change", ["minutes", "new_entry", "billed_elsewhere", "client_name"])
def test_a_run_is_computed_again_if_what_it_read_changed_before_it_locked(
    cast: Cast, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run reads and computes before it takes the lock; whatever changed in
    between is billed as it is when the run writes, never as it was read."""
    english(cast)
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(cast)  # 60.00 an hour, to the minute
    first = entry(cast, at(5), 60)
    planned = invoicing._plan_run

    def plan_then_change(*args: object, **kwargs: object) -> object:
        run = planned(*args, **kwargs)  # type: ignore[arg-type]
        if kwargs.get("optimistic"):
            if change == "minutes":
                TimeEntry.objects.filter(pk=first.pk).update(minutes=90)
            elif change == "new_entry":
                entry(cast, at(6), 30)
            elif change == "billed_elsewhere":
                other = draft(cast, the_issuer, period_start=dt.date(2026, 9, 1),
                              period_end=dt.date(2026, 9, 30))  # fmt: skip
                InvoicedTime.objects.create(agency=cast.agency_a, invoice=other, time_entry=first)
            else:
                type(cast.acme).objects.filter(pk=cast.acme.pk).update(name="Acme Renamed AG")
        return run

    monkeypatch.setattr(invoicing, "_plan_run", plan_then_change)
    monkeypatch.setattr(invoicing, "_one_writer", lambda: True)  # PostgreSQL too
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=OCT)
    expected = {
        "minutes": [("Assistance, 10/2026", "1.50", "60.00", "90.00")],
        "new_entry": [("Assistance, 10/2026", "1.50", "60.00", "90.00")],
        "billed_elsewhere": [],
        "client_name": [("Assistance, 10/2026", "1.00", "60.00", "60.00")],
    }[change]
    assert lines(invoice) == expected
    assert invoice.recipient_name == ("Acme Renamed AG" if change == "client_name" else "Acme GmbH")
    assert InvoicedTime.objects.filter(time_entry=first).count() == 1


def test_the_recipient_is_the_billing_address_when_the_client_has_several(cast: Cast) -> None:
    from delegate.clients.models import Address

    for kind, city in ((Address.Kind.POSTAL, "Kiel"), (Address.Kind.OFFICE, "Lübeck")):
        Address.objects.create(
            agency=cast.agency_a, client=cast.acme, kind=kind, line1="x 1",
            postal_code="24103", city=city,
        )  # fmt: skip
    assert invoicing._recipient_of(cast.acme, None)["recipient_city"] in {"Kiel", "Lübeck"}
    billing_address(cast)
    assert invoicing._recipient_of(cast.acme, None)["recipient_city"] == "Bremen"
