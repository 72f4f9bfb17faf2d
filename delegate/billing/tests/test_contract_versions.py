"""Contract versions: a change is a new version from the first of a month, the past
keeps its terms, and the ledger and invoice runs compute every month with the version
in force in it, across month ends and time zones."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from lxml import etree

from delegate.billing import invoicing, ledger, services
from delegate.billing.einvoice import cii_xml
from delegate.billing.models import Contract, ContractRate, InvoicedTime, TaskPrice
from delegate.billing.tests.helpers import billing_address, contract, entry, issuer
from delegate.billing.tests.schematron import schematron_errors, xsd_errors
from delegate.tasks.models import Category
from delegate.testing import Cast, db_state
from delegate.timetracking.models import TimeEntry

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NAMESPACES = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def month(offset: int) -> dt.date:
    """The first of the month ``offset`` months from now (Berlin): versions may start
    from the current month on, so the scenarios lie in the future."""
    return ledger.add_months(ledger.month_start(timezone.now().astimezone(BERLIN).date()), offset)


def at(first: dt.date, day: int, hour: int = 10, zone: dt.tzinfo = BERLIN) -> dt.datetime:
    return dt.datetime(first.year, first.month, day, hour, tzinfo=zone)


def change(cast: Cast, starts_on: dt.date, **fields: Any) -> Contract:
    return services.create_contract(cast.alice, cast.acme, starts_on=starts_on, **fields)


# --- the ledger --------------------------------------------------------------------------


def test_it_computes_each_month_with_the_version_in_force_then(cast: Cast) -> None:
    first, second, third, fourth = month(1), month(2), month(3), month(4)
    contract(
        cast, starts_on=first, package_hours=Decimal("10"), rollover_cap_hours=Decimal("4"),
        rollover_months=2, rounding_increment=15,
    )  # fmt: skip
    entry(cast, at(first, 5), 13)  # 15 min under the first version
    entry(cast, at(second, 5), 13)
    entry(cast, at(third, 5), 13)  # 13 min under the second version
    before = ledger.client_ledger(cast.acme, until=second)

    change(cast, third, package_hours=Decimal("5"), rollover_cap_hours=Decimal("0"),
           rounding_increment=1)  # fmt: skip
    months = ledger.client_ledger(cast.acme, until=fourth)

    # The months before the change are exactly what they were.
    assert months[:2] == before
    m1, m2, m3, m4 = months
    assert (m1.bought, m1.used, m1.rolled_over, m1.expired) == (600, 15, 240, 345)
    # At the end of the second month the first version's cap (4 h) still applies.
    assert (m2.rolled_in, m2.bought, m2.used, m2.rolled_over) == (240, 600, 15, 240)
    # The third month: the new package (5 h), the new rounding (none), and at its end
    # the new cap (nothing carries over).
    assert (m3.rolled_in, m3.bought, m3.used, m3.covered) == (240, 300, 13, 13)
    assert (m3.rolled_over, m3.expired) == (0, 527)
    assert (m4.rolled_in, m4.bought) == (0, 300)
    for row in months:
        assert row.rolled_in + row.bought == row.covered + row.remaining
        assert row.remaining == row.rolled_over + row.expired


def test_it_cuts_a_contract_change_at_the_month_end_in_the_clients_time_zone(
    cast: Cast,
) -> None:
    cast.acme.time_zone = "America/New_York"
    cast.acme.save()
    first, second = month(1), month(2)
    contract(cast, starts_on=first, package_hours=Decimal("10"), rounding_increment=30)
    change(cast, second, package_hours=Decimal("2"), rounding_increment=1)
    # 03:00 on the 1st in Berlin is still the last evening of the month before in New
    # York: the old version rounds it; 07:00 in Berlin is the new month there.
    entry(cast, at(second, 1, 3), 10)
    entry(cast, at(second, 1, 7), 10)
    m1, m2 = ledger.client_ledger(cast.acme, until=second)
    assert (m1.bought, m1.used) == (600, 30)
    assert (m2.bought, m2.used) == (120, 10)


def test_a_version_without_a_package_ends_the_prepaid_hours(cast: Cast) -> None:
    first, second, third = month(1), month(2), month(3)
    contract(cast, starts_on=first, package_hours=Decimal("10"),
             rollover_cap_hours=Decimal("10"), rollover_months=3)  # fmt: skip
    change(cast, second, hourly_rate=Decimal("80"))
    change(cast, third, package_hours=Decimal("4"), rollover_cap_hours=Decimal("4"))
    entry(cast, at(first, 3), 60)
    rows = ledger.client_ledger(cast.acme, until=third)
    assert [row.month for row in rows] == [first, third]
    assert (rows[0].remaining, rows[0].rolled_over, rows[0].expired) == (540, 0, 540)
    assert (rows[1].rolled_in, rows[1].bought) == (0, 240)
    # In the hourly month there is no current package month.
    assert ledger.current_month(cast.acme, at(second, 15)) is None
    assert ledger.current_month(cast.acme, at(third, 15)) == rows[1]


# --- changing a contract -----------------------------------------------------------------


def test_it_never_rewrites_the_past(cast: Cast) -> None:
    this_month = month(0)
    # A client's first contract may start in the past (there were no terms to rewrite).
    old = contract(cast, starts_on=month(-3), hourly_rate=Decimal("60"))
    refused = [
        {"starts_on": month(-1)},  # a past month
        {"starts_on": month(1) + dt.timedelta(days=4)},  # not the first of a month
        {"starts_on": month(-3), "hourly_rate": Decimal("99")},  # the old version itself
    ]
    for fields in refused:
        before = db_state(Contract, ContractRate)
        with pytest.raises(ValidationError) as caught:
            services.create_contract(cast.alice, cast.acme, **fields)  # type: ignore[arg-type]
        assert "starts_on" in caught.value.message_dict
        assert db_state(Contract, ContractRate) == before
    old.refresh_from_db()
    assert old.hourly_rate == Decimal("60.00")
    # From this month on, a change is a new version; the old one stays.
    current = change(cast, this_month, hourly_rate=Decimal("70"))
    assert Contract.objects.filter(client=cast.acme).count() == 2
    assert ledger.contract_on(cast.acme, month(-1)) == old
    assert ledger.contract_on(cast.acme, this_month) == current


def test_it_replaces_a_version_not_yet_in_force_and_its_rates(cast: Cast) -> None:
    contract(cast, starts_on=month(-2))
    category = Category.objects.create(
        agency=cast.agency_a, slug="travel", name_en="Travel", name_de="Reisen"
    )
    planned = change(cast, month(2), hourly_rate=Decimal("70"),
                     level_rates={"senior": Decimal("95")},
                     task_prices={category: Decimal("30")})  # fmt: skip
    replaced = change(cast, month(2), hourly_rate=Decimal("75"),
                      member_rates={cast.bob: Decimal("88")})  # fmt: skip
    assert not Contract.objects.filter(pk=planned.pk).exists()
    versions = ledger.contract_versions(cast.acme)
    assert [v.starts_on for v in versions] == [month(-2), month(2)]
    assert versions[-1] == replaced
    assert [(r.level, r.member_id, r.hourly_rate) for r in replaced.rates.all()] == [
        ("", cast.bob.pk, Decimal("88.00"))
    ]
    assert not TaskPrice.objects.filter(contract__client=cast.acme).exists()


def test_it_refuses_a_change_from_a_month_already_invoiced(cast: Cast) -> None:
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(cast, starts_on=month(-2))
    entry(cast, at(month(1), 3), 60)
    invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=month(1))
    before = db_state(Contract)
    with pytest.raises(ValidationError):
        change(cast, month(1), hourly_rate=Decimal("90"))
    assert db_state(Contract) == before
    change(cast, month(2), hourly_rate=Decimal("90"))  # after the invoiced month: fine


def test_it_refuses_unknown_levels_and_negative_rates(cast: Cast) -> None:
    contract(cast)
    for fields in (
        {"level_rates": {"master": Decimal("10")}},
        {"member_rates": {cast.bob: Decimal("-1")}},
    ):
        before = db_state(Contract, ContractRate)
        with pytest.raises(ValidationError):
            change(cast, month(1), **fields)
        assert db_state(Contract, ContractRate) == before


# --- invoice runs ------------------------------------------------------------------------


def test_an_invoice_run_bills_each_months_time_at_that_months_rates(cast: Cast) -> None:
    cast.acme.language = "en"
    cast.acme.save()
    the_issuer = issuer(cast)
    billing_address(cast)
    first, second = month(1), month(2)
    contract(cast, starts_on=first, hourly_rate=Decimal("60"), rounding_increment=15)
    change(cast, second, hourly_rate=Decimal("90"), rounding_increment=1,
           monthly_fee=Decimal("20"))  # fmt: skip
    entry(cast, at(first, 10), 50)
    entry(cast, at(first, 20), 10)
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=first)
    # Rounded per entry to 15 min by the first version (60 + 15), at its rate; no fee.
    assert [(ln.description, ln.quantity, ln.unit_price) for ln in invoice.lines.all()] == [
        (f"Assistance, {first:%m/%Y}", Decimal("1.25"), Decimal("60.00"))
    ]


def test_a_later_run_bills_older_unbilled_time_at_its_own_months_terms(cast: Cast) -> None:
    cast.acme.language = "en"
    cast.acme.save()
    the_issuer = issuer(cast)
    billing_address(cast)
    first, second = month(1), month(2)
    contract(cast, starts_on=first, hourly_rate=Decimal("60"), rounding_increment=15)
    change(cast, second, hourly_rate=Decimal("90"), rounding_increment=1,
           monthly_fee=Decimal("20"))  # fmt: skip
    entry(cast, at(first, 28), 50)  # never invoiced in its month
    entry(cast, at(second, 3), 50)
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=second)
    assert [(ln.description, ln.quantity, ln.unit_price) for ln in invoice.lines.all()] == [
        (f"Flat monthly fee {second:%m/%Y}", Decimal("1.00"), Decimal("20.00")),
        # 50 min rounded up to 60 by the first version, at its rate
        (f"Assistance, {first:%m/%Y}", Decimal("1.00"), Decimal("60.00")),
        # 50 min unrounded by the second version, at its rate
        (f"Assistance, {second:%m/%Y}", Decimal("0.83"), Decimal("90.00")),
    ]
    # The older month's line carries its own service period (BT-134/135).
    assert [(ln.service_start, ln.service_end) for ln in invoice.lines.all()] == [
        (None, None), (first, ledger.add_months(first, 1) - dt.timedelta(days=1)), (None, None),
    ]  # fmt: skip
    issued = invoicing.issue_invoice(cast.alice, invoice)
    xml = cii_xml(issued)
    assert schematron_errors(xml) == [] and xsd_errors(xml) == []
    line_periods = etree.fromstring(xml).xpath(
        "//ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement"
        "/ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString/text()",
        namespaces=NAMESPACES,
    )
    assert line_periods == [f"{first:%Y%m%d}"]


def test_a_run_for_a_past_package_month_uses_that_months_package(cast: Cast) -> None:
    cast.acme.language = "en"
    cast.acme.save()
    the_issuer = issuer(cast)
    billing_address(cast)
    first, second = month(1), month(2)
    contract(cast, starts_on=first, package_hours=Decimal("1"), package_fee=Decimal("100"),
             overage_rate=Decimal("50"))  # fmt: skip
    change(cast, second, package_hours=Decimal("10"), package_fee=Decimal("800"),
           overage_rate=Decimal("70"))  # fmt: skip
    entry(cast, at(first, 5), 90)
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=first)
    assert [(ln.quantity, ln.unit_price) for ln in invoice.lines.all()] == [
        (Decimal("1.00"), Decimal("100.00")),  # the first version's package fee
        (Decimal("0.50"), Decimal("50.00")),  # 30 min beyond its 1 h, at its rate
    ]


def test_a_runs_header_comes_from_the_invoiced_months_version(cast: Cast) -> None:
    the_issuer = issuer(cast)
    billing_address(cast, country="AT", vat_id="ATU13585627")
    first, second = month(1), month(2)
    contract(cast, starts_on=first, is_business=True, leitweg_id="991-12345-67",
             payment_terms_days=30)  # fmt: skip
    change(cast, second, hourly_rate=Decimal("60"), is_business=False, leitweg_id="",
           payment_terms_days=7)  # fmt: skip
    entry(cast, at(first, 5), 60)
    entry(cast, at(second, 5), 60)
    older = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=first)
    newer = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=second)
    header = ("recipient_is_business", "leitweg_id", "payment_terms_days", "vat_treatment")
    # Business with a VAT id in Austria: reverse charge; a consumer there: German VAT.
    assert [getattr(older, name) for name in header] == [
        True, "991-12345-67", 30, "reverse_charge",
    ]  # fmt: skip
    assert [getattr(newer, name) for name in header] == [False, "", 7, "domestic"]
    assert older.vat_total == 0 and newer.vat_total == Decimal("11.40")  # 19 % of 60.00


def _package_client(cast: Cast, first: dt.date, **fields: Any) -> Any:
    cast.acme.language = "en"
    cast.acme.save()
    the_issuer = issuer(cast)
    billing_address(cast)
    contract(cast, starts_on=first, package_hours=Decimal("1"), package_fee=Decimal("100"),
             overage_rate=Decimal("50"), **fields)  # fmt: skip
    return the_issuer


def test_time_recorded_after_a_package_months_run_is_billed_by_the_next_run(cast: Cast) -> None:
    first, second = month(1), month(2)
    the_issuer = _package_client(cast, first)
    entry(cast, at(first, 5), 45)
    run = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=first)
    assert [(ln.quantity, ln.unit_price) for ln in run.lines.all()] == [
        (Decimal("1.00"), Decimal("100.00"))  # 45 min within the hour
    ]
    late = entry(cast, at(first, 20), 45)  # after the run: 90 min in that month
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=second)
    late_line = f"Hours beyond the package, {first:%m/%Y}, recorded after its invoice"
    assert [(ln.description, ln.quantity, ln.unit_price) for ln in invoice.lines.all()] == [
        (f"Prepaid package 1 hours, {second:%m/%Y}", Decimal("1.00"), Decimal("100.00")),
        (late_line, Decimal("0.50"), Decimal("50.00")),
    ]
    assert InvoicedTime.objects.get(time_entry=late).invoice == invoice
    assert [ln.service_start for ln in invoice.lines.all()] == [None, first]
    # Billed once: the run after that does not bill it again.
    third = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=month(3))
    assert [ln.description for ln in third.lines.all()] == [
        f"Prepaid package 1 hours, {month(3):%m/%Y}"
    ]


def test_late_time_within_the_package_is_marked_billed_without_a_charge(cast: Cast) -> None:
    first, second = month(1), month(2)
    the_issuer = _package_client(cast, first)
    invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=first)
    late = entry(cast, at(first, 20), 30)
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=second)
    assert [ln.description for ln in invoice.lines.all()] == [
        f"Prepaid package 1 hours, {second:%m/%Y}"
    ]
    assert InvoicedTime.objects.get(time_entry=late).invoice == invoice


def test_time_approved_after_its_package_months_run_is_billed_late(cast: Cast) -> None:
    first, second = month(1), month(2)
    the_issuer = _package_client(cast, first, needs_time_approval=True)
    waiting = entry(cast, at(first, 5), 90)  # not approved when the month is run
    run = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=first)
    assert run.lines.count() == 1
    assert not InvoicedTime.objects.filter(time_entry=waiting).exists()
    TimeEntry.objects.filter(pk=waiting.pk).update(approved_at=timezone.now())
    invoice = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=second)
    assert [(ln.quantity, ln.unit_price) for ln in invoice.lines.all()][-1] == (
        Decimal("0.50"), Decimal("50.00"),
    )  # fmt: skip
    assert InvoicedTime.objects.get(time_entry=waiting).invoice == invoice


def test_a_package_month_without_a_run_keeps_its_time_for_its_own_run(cast: Cast) -> None:
    first, second = month(1), month(2)
    the_issuer = _package_client(cast, first)
    own = entry(cast, at(first, 5), 90)
    invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=second)
    assert not InvoicedTime.objects.filter(time_entry=own).exists()
    run = invoicing.draft_month(cast.alice, cast.acme, issuer=the_issuer, month=first)
    assert [(ln.quantity, ln.unit_price) for ln in run.lines.all()][-1] == (
        Decimal("0.50"), Decimal("50.00"),
    )  # fmt: skip
    assert InvoicedTime.objects.get(time_entry=own).invoice == run
