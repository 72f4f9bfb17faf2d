"""Billing set-up on top of the fixed cast: agency A as an issuer, acme's billing
address and contracts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from delegate.billing import invoicing, services
from delegate.billing.models import Contract, Invoice, Issuer
from delegate.clients.models import Address
from delegate.testing import Cast
from delegate.timetracking.models import TimeEntry

IBAN = "DE89370400440532013000"


def issuer(cast: Cast, **fields: Any) -> Issuer:
    values: dict[str, Any] = {
        "legal_name": "Alpha Assist GmbH",
        "street": "Hafenstraße 1",
        "postal_code": "20457",
        "city": "Hamburg",
        "vat_id": "DE136695976",
        "tax_number": "22/815/08154",
        "register_entry": "HRB 12345, Amtsgericht Hamburg",
        "managing_directors": "Alice Adler",
        "email": "billing@alpha.test",
        "phone": "+49 40 1234567",
        "iban": IBAN,
        "bic": "COBADEFFXXX",
        "number_prefix": "RE-",
        **fields,
    }
    return services.create_issuer(cast.alice, **values)


def billing_address(cast: Cast, *, country: str = "DE", vat_id: str = "") -> None:
    Address.objects.update_or_create(
        agency=cast.agency_a,
        client=cast.acme,
        kind=Address.Kind.BILLING,
        defaults={"line1": "Am Markt 5", "postal_code": "28195", "city": "Bremen",
                  "country": country},
    )  # fmt: skip
    if vat_id != cast.acme.vat_id:
        cast.acme.vat_id = vat_id
        cast.acme.save()


def contract(cast: Cast, **fields: Any) -> Contract:
    values: dict[str, Any] = {
        "starts_on": dt.date(2026, 1, 1),
        "hourly_rate": Decimal("60.00"),
        **fields,
    }
    return services.create_contract(cast.alice, cast.acme, **values)


def entry(cast: Cast, started_at: dt.datetime, minutes: int, **fields: Any) -> TimeEntry:
    """A finished entry of bob's on acme's task, at any time (also in the past)."""
    return TimeEntry.objects.create(
        agency=cast.agency_a, task=cast.task, client=cast.acme, member=cast.bob,
        started_at=started_at, ended_at=started_at + dt.timedelta(minutes=minutes),
        minutes=minutes, **fields,
    )  # fmt: skip


def draft(cast: Cast, the_issuer: Issuer, **fields: Any) -> Invoice:
    """A draft to acme with one manual line."""
    billing_address(cast)
    values: dict[str, Any] = {
        "period_start": dt.date(2026, 10, 1),
        "period_end": dt.date(2026, 10, 31),
        **fields,
    }
    invoice = invoicing.create_draft(cast.alice, issuer=the_issuer, client=cast.acme, **values)
    invoicing.add_line(
        cast.alice, invoice, description="Research", quantity=Decimal("2.5"),
        unit_price=Decimal("80.00"), unit="HUR",
    )  # fmt: skip
    invoice.refresh_from_db()
    return invoice


def now() -> dt.datetime:
    return timezone.now()
