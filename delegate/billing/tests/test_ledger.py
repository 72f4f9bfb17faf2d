"""The prepaid-hours ledger: rounding, rollover with cap and expiry across month ends
and time zones, invariants, and consistency under concurrent time entries."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connections

from delegate.billing import ledger
from delegate.billing.tests.helpers import contract, entry
from delegate.testing import Cast, make_cast
from delegate.timetracking import services as time_services

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(year: int, month: int, day: int, hour: int = 10, zone: dt.tzinfo = BERLIN) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=zone)


def test_it_rolls_over_under_the_cap_and_expires_old_hours(cast: Cast) -> None:
    contract(
        cast, package_hours=Decimal("10"), rollover_cap_hours=Decimal("4"), rollover_months=1,
        package_fee=Decimal("500"),
    )  # fmt: skip
    entry(cast, at(2026, 1, 10), 7 * 60)  # January: 3 h unused, all rolled over
    entry(cast, at(2026, 2, 10), 2 * 60)  # February: uses January's 3 h first, then 0 of Feb
    # March: nothing used.
    months = ledger.client_ledger(cast.acme, until=dt.date(2026, 4, 15))
    jan, feb, mar, apr = months
    assert (jan.bought, jan.used, jan.remaining, jan.rolled_over, jan.expired) == (
        600,
        420,
        180,
        180,
        0,
    )
    assert (feb.rolled_in, feb.used, feb.covered, feb.remaining) == (180, 120, 120, 660)
    # 1 h of January's is left but expires (one month); February's 10 h are capped at 4.
    assert (feb.rolled_over, feb.expired) == (240, 420)
    assert (mar.rolled_in, mar.remaining, mar.rolled_over, mar.expired) == (240, 840, 240, 600)
    assert apr.rolled_in == 240
    for month in months:
        assert month.rolled_in + month.bought == month.covered + month.remaining
        assert month.remaining == month.rolled_over + month.expired


def test_it_counts_overage_and_rounds_by_the_contract(cast: Cast) -> None:
    contract(cast, package_hours=Decimal("1"), rounding_increment=15, rounding_mode="entry")
    for _ in range(5):
        entry(cast, at(2026, 3, 2), 13)  # 5 × 13 min → 5 × 15 min rounded
    entry(cast, at(2026, 3, 3), 30, is_billable=False)
    month = ledger.client_ledger(cast.acme, until=dt.date(2026, 3, 31))[-1]
    assert (month.used, month.covered, month.overage, month.remaining) == (75, 60, 15, 0)
    assert month.used_percent == 125


def test_it_cuts_months_in_the_clients_time_zone(cast: Cast) -> None:
    cast.acme.time_zone = "America/New_York"
    cast.acme.save()
    contract(cast, package_hours=Decimal("10"))
    # 1 Feb 03:00 in Berlin is still 31 January in New York.
    entry(cast, at(2026, 2, 1, 3), 60)
    jan, feb = ledger.client_ledger(cast.acme, until=dt.date(2026, 2, 28))
    assert (jan.used, feb.used) == (60, 0)


def test_it_has_no_ledger_without_a_package(cast: Cast) -> None:
    contract(cast)
    assert ledger.client_ledger(cast.acme, until=dt.date(2026, 5, 1)) == []


@pytest.mark.django_db(transaction=True)
def test_it_stays_consistent_under_concurrent_time_entries() -> None:
    cast = make_cast()
    contract(cast, package_hours=Decimal("100"), starts_on=dt.date(2020, 1, 1))
    now = time_services.timezone.now()
    errors: list[BaseException] = []

    def log(minutes: int) -> None:
        try:
            time_services.log_time(
                cast.bob, cast.task, started_at=now - dt.timedelta(hours=1), minutes=minutes
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=log, args=(minutes,)) for minutes in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    month = ledger.current_month(cast.acme, now)
    assert month is not None
    assert month.used == sum(range(1, 21))
    assert month.covered + month.remaining == month.available
