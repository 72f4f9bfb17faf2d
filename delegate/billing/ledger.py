"""The prepaid-hours ledger of a client, month by month.

The ledger is *derived* from the contract and the time entries every time it is read,
never stored as running balances: it is consistent with the time entries at every
moment, whatever was added, edited or deleted concurrently. Months are calendar months
in the client's time zone.

Per month: ``bought`` (the package), ``rolled_in`` (unused hours of earlier months still
valid), ``used`` (billable time, rounded by the contract), ``covered`` (used hours the
package and rollover pay for; the oldest hours are used first), ``overage`` (used beyond
that), ``remaining``, ``rolled_over`` (carried into the next month, at most the cap) and
``expired`` (lost: beyond the cap, or older than the contract's rollover months). For
every month: ``rolled_in + bought == covered + remaining`` and
``remaining == rolled_over + expired``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from delegate.billing.models import Contract
from delegate.clients.models import Client
from delegate.timetracking.models import TimeEntry
from delegate.timetracking.rounding import rounded_total


@dataclass(frozen=True)
class LedgerMonth:
    month: dt.date
    bought: int
    rolled_in: int
    used: int
    covered: int
    overage: int
    remaining: int
    rolled_over: int
    expired: int

    @property
    def available(self) -> int:
        return self.bought + self.rolled_in

    @property
    def used_percent(self) -> int:
        if self.available == 0:
            return 100 if self.used else 0
        return self.used * 100 // self.available


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The month as an aware ``[start, end)`` in the client's zone."""
    start = dt.datetime.combine(month, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(add_months(month, 1), dt.time(), tzinfo=zone)
    return start, end


def client_zone(client: Client) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(client.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Europe/Berlin")


def contract_on(client: Client, day: dt.date) -> Contract | None:
    return (
        Contract.objects.filter(client_id=client.pk, starts_on__lte=day)
        .order_by("-starts_on")
        .first()
    )


def used_minutes(
    client: Client, contract: Contract, start: dt.datetime, end: dt.datetime, **filters: Any
) -> int:
    """Billable finished minutes of ``client`` started in ``[start, end)``, rounded by
    ``contract``."""
    rows = TimeEntry.objects.filter(
        client_id=client.pk,
        started_at__gte=start,
        started_at__lt=end,
        ended_at__isnull=False,
        is_billable=True,
        **filters,
    ).values_list("task_id", "minutes")
    return rounded_total(
        list(rows), increment=contract.rounding_increment, mode=contract.rounding_mode
    )


def client_ledger(client: Client, *, until: dt.date) -> list[LedgerMonth]:
    """The ledger from the package contract's first month up to ``until``'s month
    (empty without a package contract in force then)."""
    contract = contract_on(client, until)
    if contract is None or not contract.has_package:
        return []
    zone = client_zone(client)
    # Lots of unused hours: [month bought, minutes left], oldest first.
    lots: list[list[Any]] = []
    months: list[LedgerMonth] = []
    month = month_start(contract.starts_on)
    last = month_start(until)
    while month <= last:
        rolled_in = sum(left for _bought, left in lots)
        bought = contract.package_minutes
        lots.append([month, bought])
        used = used_minutes(client, contract, *month_bounds(month, zone))
        to_cover = used
        for lot in lots:
            take = min(lot[1], to_cover)
            lot[1] -= take
            to_cover -= take
        covered = used - to_cover
        remaining = sum(left for _bought, left in lots)
        next_month = add_months(month, 1)
        # Unused hours older than the rollover months expire; the rest is capped.
        kept = [
            lot
            for lot in lots
            if lot[1] > 0 and add_months(lot[0], contract.rollover_months) >= next_month
        ]
        room = contract.rollover_cap_minutes
        lots = []
        for bought_in, left in reversed(kept):  # newest hours are kept under the cap
            take = min(left, room)
            room -= take
            if take:
                lots.insert(0, [bought_in, take])
        rolled_over = sum(left for _bought, left in lots)
        months.append(
            LedgerMonth(
                month=month,
                bought=bought,
                rolled_in=rolled_in,
                used=used,
                covered=covered,
                overage=used - covered,
                remaining=remaining,
                rolled_over=rolled_over,
                expired=remaining - rolled_over,
            )
        )
        month = next_month
    return months


def current_month(client: Client, now: dt.datetime) -> LedgerMonth | None:
    today = now.astimezone(client_zone(client)).date()
    months = client_ledger(client, until=today)
    return months[-1] if months else None
