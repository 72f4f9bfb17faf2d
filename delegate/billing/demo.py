"""Billing in the demo agency: the agency as an issuer, a prepaid package for the
Kanzlei (the portal client), hourly contracts for two more clients, and approved time
last month and this month, so an invoice run and the budget page show something.

Kept apart from ``delegate.tasks.demo`` because billing depends on tasks, not the other
way round; ``manage.py seed_billing_demo`` (run by ``./bin/delegate run``) adds it once.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from delegate.agencies.models import Agency, Member
from delegate.billing import ledger, services
from delegate.billing.models import Issuer
from delegate.clients.models import Client
from delegate.tasks.models import Task
from delegate.timetracking.models import TimeEntry

IBAN = "DE89370400440532013000"


def create_billing_demo(agency: Agency, *, seed: int = 11) -> bool:
    """Add the billing demo to ``agency`` unless it has an issuer; True if added."""
    if Issuer.objects.filter(agency=agency).exists():
        return False
    owner = Member.objects.get(agency=agency, role=Member.Role.OWNER)
    rng = random.Random(seed)
    this_month = ledger.month_start(timezone.localdate())
    first = ledger.add_months(this_month, -2)
    with transaction.atomic():
        services.create_issuer(
            owner, legal_name=agency.legal_name or agency.name, street="Torstraße 140",
            postal_code="10119", city="Berlin", vat_id="DE136695976",
            tax_number="30/123/45678", register_entry="Amtsgericht Charlottenburg HRB 123456 B",
            managing_directors="Olivia Ostermann", email=owner.user.email,
            phone="+49 30 9876543", iban=IBAN, bic="COBADEFFXXX", bank_name="Commerzbank",
            number_prefix="RE-",
        )  # fmt: skip
        clients = list(Client.objects.filter(agency=agency).order_by("name"))
        kanzlei = next(c for c in clients if c.name.startswith("Kanzlei"))
        services.create_contract(
            owner, kanzlei, starts_on=first, hourly_rate=Decimal("65.00"),
            rounding_increment=15, package_hours=Decimal("10"), package_fee=Decimal("590.00"),
            rollover_cap_hours=Decimal("5"), rollover_months=2, overage_rate=Decimal("62.00"),
            overage_needs_approval=True, payment_terms_days=14,
        )  # fmt: skip
        hourly = [c for c in clients if c != kanzlei][:2]
        for client, rate in zip(hourly, (Decimal("55.00"), Decimal("48.00")), strict=False):
            services.create_contract(
                owner, client, starts_on=first, hourly_rate=rate, rounding_increment=6,
                monthly_fee=Decimal("25.00"), payment_terms_days=14,
            )  # fmt: skip
        now = timezone.now()
        for client in [kanzlei, *hourly]:
            _time(owner, client, first, now, rng)
    return True


def _time(
    owner: Member, client: Client, first: dt.date, now: dt.datetime, rng: random.Random
) -> None:
    """Approved entries on the client's worked tasks, from ``first`` until now."""
    tasks = list(
        Task.objects.filter(client=client, assignee__isnull=False).order_by("created_at")[:6]
    )
    zone = ledger.client_zone(client)
    start = dt.datetime.combine(first, dt.time(9), tzinfo=zone)
    days = max(1, (now - start).days)
    entries = []
    for number in range(8 * len(tasks)):
        task = tasks[number % len(tasks)]
        started = start + dt.timedelta(days=rng.randrange(days), hours=rng.randrange(8))
        if started >= now - dt.timedelta(hours=1):
            continue
        minutes = rng.choice((20, 35, 45, 60, 90))
        assert task.assignee is not None
        entries.append(
            TimeEntry(
                agency_id=client.agency_id, task=task, client=client, member=task.assignee,
                started_at=started, ended_at=started + dt.timedelta(minutes=minutes),
                minutes=minutes, note="Demo", approved_at=now, approved_by_member=owner,
            )
        )  # fmt: skip
    TimeEntry.objects.bulk_create(entries)
