"""The prepaid-hours ledger of a client, month by month.

The ledger is *derived* from the contract versions and the time entries every time it
is read, never stored as running balances: it is consistent with the time entries at
every moment, whatever was added, edited or deleted concurrently. Months are calendar
months in the client's time zone.

Contracts are versioned: a change is a new ``Contract`` row from the first of a month
(``services.change_contract``), valid until the next version starts, and each month is
computed with the version in force in it, never with today's terms.

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
from collections.abc import Collection
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
    """The contract version in force on ``day``."""
    return (
        Contract.objects.filter(client_id=client.pk, starts_on__lte=day)
        .order_by("-starts_on")
        .first()
    )


def contract_versions(client: Client, *, until: dt.date | None = None) -> list[Contract]:
    """The client's contract versions, oldest first (with their rates), up to the one
    in force at ``until``'s month."""
    rows = Contract.objects.filter(client_id=client.pk)
    if until is not None:
        rows = rows.filter(starts_on__lt=add_months(month_start(until), 1))
    return list(rows.order_by("starts_on").prefetch_related("rates"))


def version_for(versions: list[Contract], month: dt.date) -> Contract | None:
    """The version that sets ``month``'s terms: the latest starting on or before the
    month's last day (versions start on the first of a month; an older one starting
    mid-month governs that whole month)."""
    end = add_months(month_start(month), 1)
    found = None
    for version in versions:
        if version.starts_on < end:
            found = version
    return found


def _entries_by_month(
    client: Client,
    first: dt.date,
    last: dt.date,
    zone: zoneinfo.ZoneInfo,
    leaving_out: Collection[Any] = (),
) -> dict[dt.date, list[tuple[Any, int, bool]]]:
    """``(task_id, minutes, is_approved)`` of the billable finished entries per month
    (in the client's zone) from ``first`` to ``last``, but those in ``leaving_out``
    (ids): one query for the whole ledger."""
    start, _end = month_bounds(first, zone)
    _start, end = month_bounds(last, zone)
    by_month: dict[dt.date, list[tuple[Any, int, bool]]] = {}
    rows = TimeEntry.objects.filter(
        client_id=client.pk,
        started_at__gte=start,
        started_at__lt=end,
        ended_at__isnull=False,
        is_billable=True,
    ).values_list("pk", "started_at", "task_id", "minutes", "approved_at")
    for pk, started_at, task_id, minutes, approved_at in rows:
        if pk in leaving_out:
            continue
        month = month_start(started_at.astimezone(zone).date())
        by_month.setdefault(month, []).append((task_id, minutes, approved_at is not None))
    return by_month


def client_ledger(
    client: Client,
    *,
    until: dt.date,
    versions: list[Contract] | None = None,
    leaving_out: Collection[Any] = (),
    for_billing: bool = False,
) -> list[LedgerMonth]:
    """The ledger of every month with a prepaid package, from the first one up to
    ``until``'s month; empty if no version up to then has a package. ``versions`` are
    ``contract_versions(client, until=until)`` if the caller has them already;
    ``leaving_out`` are ids of time entries to compute it without. ``for_billing``
    counts only the time that can be billed: approved, in months whose version needs
    the client's approval of hours (otherwise all time counts, approved or not).

    Each month is computed with the contract version in force in it: its package, its
    rounding, and at the month's end its rollover cap and expiry. A version without a
    package ends the prepaid hours: what is left at the end of the month before expires.
    """
    if versions is None:
        versions = contract_versions(client, until=until)
    packages = [version for version in versions if version.has_package]
    if not packages:
        return []
    zone = client_zone(client)
    first, last = month_start(packages[0].starts_on), month_start(until)
    entries = _entries_by_month(client, first, last, zone, leaving_out)
    # Lots of unused hours: [month bought, minutes left], oldest first.
    lots: list[list[Any]] = []
    months: list[LedgerMonth] = []
    month = first
    while month <= last:
        contract = version_for(versions, month)
        next_month = add_months(month, 1)
        if contract is None or not contract.has_package:
            lots = []
            month = next_month
            continue
        rolled_in = sum(left for _bought, left in lots)
        bought = contract.package_minutes
        lots.append([month, bought])
        used = rounded_total(
            [
                (task_id, minutes)
                for task_id, minutes, is_approved in entries.get(month, [])
                if is_approved or not (for_billing and contract.needs_time_approval)
            ],
            increment=contract.rounding_increment,
            mode=contract.rounding_mode,
        )
        to_cover = used
        for lot in lots:
            take = min(lot[1], to_cover)
            lot[1] -= take
            to_cover -= take
        covered = used - to_cover
        remaining = sum(left for _bought, left in lots)
        lots = _roll_over(lots, contract, next_month, version_for(versions, next_month))
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


def _roll_over(
    lots: list[list[Any]], contract: Contract, next_month: dt.date, following: Contract | None
) -> list[list[Any]]:
    """The lots carried into ``next_month`` under the rules of the month ending
    (``contract``): unused hours older than its rollover months expire, the rest is
    capped, newest hours kept first. Nothing carries into a month without a package."""
    if following is None or not following.has_package:
        return []
    kept = [
        lot
        for lot in lots
        if lot[1] > 0 and add_months(lot[0], contract.rollover_months) >= next_month
    ]
    room = contract.rollover_cap_minutes
    carried: list[list[Any]] = []
    for bought_in, left in reversed(kept):
        take = min(left, room)
        room -= take
        if take:
            carried.insert(0, [bought_in, take])
    return carried


def current_month(client: Client, now: dt.datetime) -> LedgerMonth | None:
    """This month's row (in the client's zone), or None if no package is in force."""
    today = now.astimezone(client_zone(client)).date()
    months = client_ledger(client, until=today)
    if months and months[-1].month == month_start(today):
        return months[-1]
    return None
