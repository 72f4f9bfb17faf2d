"""The billing pages: a manager's whole invoice flow; assistants get 403, another
agency 404, and refused requests change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from delegate.billing import invoicing
from delegate.billing.models import Contract, Invoice, InvoiceLine, Payment
from delegate.billing.tests.helpers import billing_address, contract, draft, entry, issuer
from delegate.testing import Cast, db_state

BILLING = (Invoice, InvoiceLine, Payment, Contract)


def url(name: str, *args: object) -> str:
    return reverse(f"billing:{name}", args=args)


def run_jobs() -> int:
    results = list(DBTaskResult.objects.filter(status="READY"))
    for result in results:
        result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
    return len(results)


def test_a_manager_runs_edits_issues_sends_and_settles_an_invoice(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    the_issuer = issuer(cast)
    billing_address(cast)
    cast.acme.email = "accounts@acme.test"
    cast.acme.save()
    contract(cast, hourly_rate=Decimal("60.00"))
    entry(cast, dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC), 90)
    http = cast.login(cast.dora)
    response = http.post(url("run"), {"issuer": the_issuer.pk, "month": "2026-10"})
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    assert invoice.gross_total == Decimal("107.10")
    assert "Assistenz, 10/2026" in http.get(url("invoice", invoice.pk)).text  # acme reads German

    line = {"description": "Extra research", "quantity": "1", "unit": "C62",
            "unit_price": "10.00", "vat_rate": "19.00"}  # fmt: skip
    assert http.post(url("add_line", invoice.pk), line).status_code == 302
    assert http.post(url("issue", invoice.pk)).status_code == 302
    invoice.refresh_from_db()
    assert invoice.number == "RE-00001" and invoice.gross_total == Decimal("119.00")

    pdf = http.get(url("pdf", invoice.pk))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert b"CrossIndustryInvoice" in http.get(url("xml", invoice.pk)).content

    with django_capture_on_commit_callbacks(execute=True):
        assert http.post(url("send", invoice.pk)).status_code == 302
    assert run_jobs() == 1
    [message] = mail.outbox
    assert message.to == ["accounts@acme.test"]
    assert sorted(name for name, _c, _t in message.attachments) == ["RE-00001.pdf", "RE-00001.xml"]
    invoice.refresh_from_db()
    assert invoice.status == "sent"

    payment = {"amount": "119.00", "paid_on": "2026-11-20"}
    assert http.post(url("payment", invoice.pk), payment).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_it_refuses_to_issue_an_incomplete_draft_and_changes_nothing(cast: Cast) -> None:
    invoice = draft(cast, issuer(cast), recipient_city="")
    http = cast.login(cast.alice)
    before = db_state(*BILLING)
    response = http.post(url("issue", invoice.pk))
    assert response.status_code == 400
    assert "recipient_city" in response.text
    assert db_state(*BILLING) == before


def test_issued_invoices_refuse_edits_through_the_pages(cast: Cast) -> None:
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    http = cast.login(cast.alice)
    before = db_state(*BILLING)
    line = {"description": "x", "quantity": "1", "unit": "C62", "unit_price": "1",
            "vat_rate": "19.00"}  # fmt: skip
    assert http.post(url("add_line", invoice.pk), line).status_code == 400
    assert http.post(url("delete", invoice.pk)).status_code == 400
    assert http.post(url("remove_line", invoice.lines.get().pk)).status_code == 400
    assert http.post(url("edit", invoice.pk), {"recipient_name": "X"}).status_code == 400
    assert db_state(*BILLING) == before


def test_it_cancels_through_the_page(cast: Cast) -> None:
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    http = cast.login(cast.alice)
    response = http.post(url("cancel", invoice.pk), {"reason": "Duplicate"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "cancelled"
    assert Invoice.objects.get(corrects=invoice).number == "RE-00002"


def test_a_manager_credits_part_of_an_invoice_through_the_pages(cast: Cast) -> None:
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    line = invoice.lines.get()  # 2.5 h at 80.00
    http = cast.login(cast.alice)
    assert "Write a credit note" in http.get(url("invoice", invoice.pk)).text
    form = http.get(url("credit", invoice.pk))
    assert form.status_code == 200 and f"quantity_{line.pk}" in form.text
    before = db_state(*BILLING)
    refused = http.post(url("credit", invoice.pk),
                        {"reason": "Too much", f"amount_{line.pk}": "200.01"})  # fmt: skip
    assert refused.status_code == 400 and "200.00" in refused.text
    assert db_state(*BILLING) == before
    response = http.post(url("credit", invoice.pk),
                         {"reason": "Half an hour less", f"quantity_{line.pk}": "0.5"})  # fmt: skip
    assert response.status_code == 302
    note = Invoice.objects.get(corrects=invoice)
    assert (note.kind, note.number) == ("credit_note", "RE-00002")
    assert note.gross_total == Decimal("47.60")
    page = http.get(url("invoice", invoice.pk)).text
    assert "Partly credited" in page and "RE-00002" in page


def test_a_manager_adds_a_contract_and_sees_the_ledger(cast: Cast) -> None:
    http = cast.login(cast.alice)
    data = {"starts_on": "2026-01-01", "hourly_rate": "60", "rounding_increment": "15",
            "rounding_mode": "entry", "monthly_fee": "0", "package_hours": "10",
            "package_fee": "500", "rollover_cap_hours": "5", "rollover_months": "2",
            "overage_rate": "70", "payment_terms_days": "14", "vat_rate": "19.00",
            "is_business": "on", "senior_rate": "90"}  # fmt: skip
    response = http.post(url("add_contract", cast.acme.pk), data)
    assert response.status_code == 302, response.content
    created = Contract.objects.get()
    assert created.rates.get().level == "senior"
    assert "Prepaid hours" in http.get(url("client", cast.acme.pk)).text


@pytest.mark.parametrize("who", ["bob", "eve", "carol"])
def test_it_refuses_everyone_but_managers_with_403(cast: Cast, who: str) -> None:
    invoice = draft(cast, issuer(cast))
    http = cast.login(getattr(cast, who))
    before = db_state(*BILLING)
    assert http.get(url("invoices")).status_code == 403
    assert http.get(url("invoice", invoice.pk)).status_code == 403
    assert http.post(url("issue", invoice.pk)).status_code == 403
    assert http.get(url("credit", invoice.pk)).status_code == 403
    assert http.post(url("credit", invoice.pk), {"reason": "x"}).status_code == 403
    assert http.get(url("client", cast.acme.pk)).status_code == 403
    assert db_state(*BILLING) == before


def test_it_hides_another_agencys_invoices_with_404(cast: Cast) -> None:
    invoice = draft(cast, issuer(cast))
    http = cast.login(cast.mallory)
    before = db_state(*BILLING)
    for name in ("invoice", "issue", "delete", "pdf", "xml", "cancel", "send", "credit"):
        assert http.post(url(name, invoice.pk)).status_code == 404
    assert http.get(url("credit", invoice.pk)).status_code == 404
    assert http.post(url("remove_line", invoice.lines.get().pk)).status_code == 404
    assert http.post(url("add_contract", cast.acme.pk), {"hourly_rate": "1"}).status_code == 404
    assert db_state(*BILLING) == before


ISSUER = {
    "legal_name": "Acme GmbH", "street": "Am Markt 5", "postal_code": "28195",
    "city": "Bremen", "country": "DE", "tax_number": "12/345/67890",
    "email": "billing@acme.test", "iban": "DE89 3704 0044 0532 0130 00", "number_prefix": "AC-",
}  # fmt: skip


def test_a_manager_adds_an_issuer_for_a_client(cast: Cast) -> None:
    from delegate.billing.models import Issuer

    http = cast.login(cast.alice)
    response = http.post(url("add_issuer"), {**ISSUER, "client": cast.acme.pk})
    assert response.status_code == 302, response.content
    created = Issuer.objects.get()
    assert (created.kind, created.client, created.iban) == (
        "client",
        cast.acme,
        "DE89370400440532013000",
    )
    assert "Acme GmbH" in http.get(url("invoices")).text


def test_it_refuses_a_bad_iban_or_another_agencys_client(cast: Cast) -> None:
    from delegate.billing.models import Issuer

    before = db_state(Issuer)
    alice = cast.login(cast.alice)
    assert alice.post(url("add_issuer"), {**ISSUER, "iban": "DE00 1234"}).status_code == 400
    mallory = cast.login(cast.mallory)
    assert mallory.post(url("add_issuer"), {**ISSUER, "client": cast.acme.pk}).status_code == 400
    assert cast.login(cast.bob).post(url("add_issuer"), ISSUER).status_code == 403
    assert db_state(Issuer) == before


def _terms(starts_on: dt.date, **extra: str) -> dict[str, str]:
    return {"starts_on": starts_on.isoformat(), "hourly_rate": "65", "rounding_increment": "6",
            "rounding_mode": "task", "monthly_fee": "25", "package_hours": "8",
            "package_fee": "400", "rollover_cap_hours": "4", "rollover_months": "1",
            "overage_rate": "75", "overage_needs_approval": "on", "payment_terms_days": "10",
            "vat_rate": "19.00", "is_business": "on", **extra}  # fmt: skip


def test_a_manager_changes_all_terms_from_next_month_in_a_new_version(cast: Cast) -> None:
    from delegate.billing import ledger
    from delegate.tasks.models import Category

    category = Category.objects.create(
        agency=cast.agency_a, slug="travel", name_en="Travel", name_de="Reisen"
    )
    old = contract(cast, hourly_rate=Decimal("60.00"), level_rates={"senior": Decimal("90")},
                   task_prices={category: Decimal("30")})  # fmt: skip
    http = cast.login(cast.alice)
    page = http.get(url("edit_contract", old.pk))
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["senior_rate"] == Decimal("90.00")
    assert form.initial[f"price_{category.pk.hex}"] == Decimal("30.00")
    next_month = ledger.add_months(ledger.month_start(dt.date.today()), 1)
    assert form.initial["starts_on"] == next_month
    data = _terms(next_month, junior_rate="40", **{f"rate_{cast.bob.pk.hex}": "88",
                                                   f"price_{category.pk.hex}": "35"})  # fmt: skip
    response = http.post(url("edit_contract", old.pk), data)
    assert response.status_code == 302, response.content
    old.refresh_from_db()
    assert old.hourly_rate == Decimal("60.00")  # the old version is untouched
    assert old.rates.get().hourly_rate == Decimal("90.00")
    new = Contract.objects.get(client=cast.acme, starts_on=next_month)
    assert (new.hourly_rate, new.rounding_increment, new.rounding_mode) == (
        Decimal("65.00"),
        6,
        "task",
    )
    assert (new.package_hours, new.rollover_cap_hours, new.overage_rate) == (
        Decimal("8.00"),
        Decimal("4.00"),
        Decimal("75.00"),
    )
    assert new.overage_needs_approval and new.monthly_fee == Decimal("25.00")
    assert {(r.level, r.member_id, r.hourly_rate) for r in new.rates.all()} == {
        ("junior", None, Decimal("40.00")),
        ("", cast.bob.pk, Decimal("88.00")),
    }
    assert new.task_prices.get().price == Decimal("35.00")
    assert "Change terms" in http.get(url("client", cast.acme.pk)).text


def test_it_refuses_new_terms_for_a_past_month_and_changes_nothing(cast: Cast) -> None:
    old = contract(cast)
    http = cast.login(cast.alice)
    before = db_state(*BILLING)
    response = http.post(url("edit_contract", old.pk), _terms(dt.date(2026, 2, 1)))
    assert response.status_code == 400
    assert "Past months keep their terms" in response.text
    assert db_state(*BILLING) == before


def test_only_the_agencys_managers_see_or_change_contract_terms(cast: Cast) -> None:
    old = contract(cast)
    next_month = dt.date.today().replace(day=1) + dt.timedelta(days=32)
    data = _terms(next_month.replace(day=1))
    before = db_state(*BILLING)
    for who, status in (("bob", 403), ("eve", 403), ("mallory", 404)):
        http = cast.login(getattr(cast, who))
        assert http.get(url("edit_contract", old.pk)).status_code == status
        assert http.post(url("edit_contract", old.pk), data).status_code == status
    assert http.get(url("edit_contract", "00000000-0000-0000-0000-000000000000")).status_code == 404
    assert db_state(*BILLING) == before


def test_a_manager_records_and_lists_skipped_numbers(cast: Cast) -> None:
    from delegate.billing.models import NumberGap

    the_issuer = issuer(cast)
    http = cast.login(cast.alice)
    response = http.post(url("gaps"), {"issuer": the_issuer.pk, "reason": "Typo in a paper copy"})
    assert response.status_code == 302
    gap = NumberGap.objects.get()
    assert (gap.sequence, gap.recorded_by) == (1, cast.alice)
    page = http.get(url("gaps")).text
    assert "RE-00001" in page and "Typo in a paper copy" in page
    before = db_state(NumberGap)
    assert http.post(url("gaps"), {"issuer": the_issuer.pk, "reason": " "}).status_code == 400
    mallory = cast.login(cast.mallory)
    assert "Typo" not in mallory.get(url("gaps")).text
    # Another agency's issuer is not a choice.
    assert mallory.post(url("gaps"), {"issuer": the_issuer.pk, "reason": "x"}).status_code == 400
    assert (
        cast.login(cast.bob).post(url("gaps"), {"issuer": the_issuer.pk, "reason": "x"}).status_code
        == 403
    )
    assert db_state(NumberGap) == before
