"""Writes on contracts, issuers, overage approvals and budget alerts.

Invoices have their own module (``delegate.billing.invoicing``). Acting member first;
callers fetch objects through ``delegate.access``."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from delegate.agencies.models import AssistantProfile, Member
from delegate.billing import ledger
from delegate.billing.models import (
    BudgetAlert,
    Contract,
    ContractRate,
    Invoice,
    Issuer,
    NumberGap,
    OverageApproval,
    TaskPrice,
)
from delegate.clients.models import Client, Contact
from delegate.core.validation import reject_unknown_fields
from delegate.tasks.models import Category

logger = logging.getLogger(__name__)

CONTRACT_FIELDS = (
    "starts_on",
    "hourly_rate",
    "rounding_increment",
    "rounding_mode",
    "monthly_fee",
    "package_hours",
    "package_fee",
    "rollover_cap_hours",
    "rollover_months",
    "overage_rate",
    "overage_needs_approval",
    "needs_time_approval",
    "payment_terms_days",
    "vat_rate",
    "is_business",
    "leitweg_id",
)
ISSUER_FIELDS = tuple(
    f.name
    for f in Issuer._meta.concrete_fields
    if f.name not in ("id", "agency", "kind", "client", "next_number", "last_hash")
)
ALERT_THRESHOLDS = (80, 100)


def _decimals(fields: dict[str, Any]) -> dict[str, Any]:
    """Money from forms and the API arrives as strings or Decimals, never floats."""
    for name, value in fields.items():
        if isinstance(value, float):
            raise ValidationError({name: _("Amounts must be exact decimals.")})
        if isinstance(value, str) and name.endswith(("rate", "fee", "hours", "price")):
            try:
                fields[name] = Decimal(value)
            except ArithmeticError:
                raise ValidationError({name: _("Enter a number.")}) from None
    return fields


def create_contract(
    member: Member,
    client: Client,
    *,
    level_rates: dict[str, Decimal] | None = None,
    member_rates: dict[Member, Decimal] | None = None,
    task_prices: dict[Category, Decimal] | None = None,
    **fields: Any,
) -> Contract:
    """A contract version for ``client`` from ``starts_on``, valid until the next
    version starts: rates by assistant level or per assistant, fixed prices per task
    category, and the other terms in ``fields``. Changing a contract is this too.

    The past is never rewritten: a version starts on the first of a month, no earlier
    than the current month in the client's time zone (a client's first contract may
    start earlier) and not in a month that has an invoice run (draft or issued, not
    cancelled). A version starting on the same day, in a month not closed yet, is
    replaced; versions of earlier months stay as they were."""
    member.require_manager()
    member.require_same_agency(client, *(member_rates or {}), *(task_prices or {}))
    reject_unknown_fields(fields, CONTRACT_FIELDS)
    contract = Contract(agency_id=member.agency_id, client=client, **_decimals(fields))
    contract.full_clean(exclude=["client"], validate_unique=False, validate_constraints=False)
    _check_rates(level_rates, member_rates, task_prices)
    with transaction.atomic():
        # The client's row serialises contract changes and invoice runs of the client.
        Client.objects.select_for_update().get(pk=client.pk)
        _check_start(client, contract.starts_on)
        Contract.objects.filter(client=client, starts_on=contract.starts_on).delete()
        contract.save()
        for level, rate in (level_rates or {}).items():
            ContractRate.objects.create(
                agency_id=member.agency_id, contract=contract, level=level, hourly_rate=rate
            )
        for assistant, rate in (member_rates or {}).items():
            ContractRate.objects.create(
                agency_id=member.agency_id, contract=contract, member=assistant, hourly_rate=rate
            )
        for category, price in (task_prices or {}).items():
            TaskPrice.objects.create(
                agency_id=member.agency_id, contract=contract, category=category, price=price
            )
    return contract


def _check_rates(
    level_rates: dict[str, Decimal] | None,
    member_rates: dict[Member, Decimal] | None,
    task_prices: dict[Category, Decimal] | None,
) -> None:
    levels = {choice for choice, _label in AssistantProfile.Level.choices}
    for level in level_rates or {}:
        if level not in levels:
            raise ValidationError({"level_rates": _("Unknown assistant level.")})
    for values in (level_rates, member_rates, task_prices):
        for value in (values or {}).values():
            if not isinstance(value, Decimal) or value < 0:
                raise ValidationError(_("Rates and prices are amounts of at least zero."))


def _check_start(client: Client, starts_on: dt.date) -> None:
    if starts_on.day != 1:
        raise ValidationError({"starts_on": _("A contract starts on the first of a month.")})
    this_month = ledger.month_start(timezone.now().astimezone(ledger.client_zone(client)).date())
    if starts_on < this_month and Contract.objects.filter(client=client).exists():
        raise ValidationError(
            {"starts_on": _("Past months keep their terms: start the change this month or later.")}
        )
    invoiced = (
        Invoice.objects.filter(client=client, kind=Invoice.Kind.INVOICE, period_end__gte=starts_on)
        .exclude(status=Invoice.Status.CANCELLED)
        .order_by("-period_end")
        .first()
    )
    if invoiced is not None:
        raise ValidationError(
            {
                "starts_on": _("%(month)s is already invoiced: start the change after it.")
                % {"month": invoiced.period_start.strftime("%m/%Y")}
            }
        )


def create_issuer(member: Member, *, client: Client | None = None, **fields: Any) -> Issuer:
    """The agency as an issuer (``client=None``) or a client the agency invoices for."""
    member.require_manager()
    member.require_same_agency(client)
    reject_unknown_fields(fields, ISSUER_FIELDS)
    issuer = Issuer(
        agency_id=member.agency_id,
        kind=Issuer.Kind.CLIENT if client else Issuer.Kind.AGENCY,
        client=client,
        **fields,
    )
    issuer.iban = issuer.iban.replace(" ", "").upper()
    issuer.full_clean()
    if not (issuer.vat_id or issuer.tax_number):
        raise ValidationError({"tax_number": _("Enter a tax number or a VAT id (§ 14 UStG).")})
    issuer.save()
    return issuer


def record_number_gap(member: Member, issuer: Issuer, *, reason: str) -> NumberGap:
    """Skip the next number of ``issuer``'s series on purpose, with a reason."""
    member.require_manager()
    member.require_same_agency(issuer)
    if not reason.strip():
        raise ValidationError({"reason": _("A skipped number needs a reason.")})
    with transaction.atomic():
        locked = Issuer.objects.select_for_update().get(pk=issuer.pk)
        gap = NumberGap.objects.create(
            agency_id=member.agency_id,
            issuer=locked,
            sequence=locked.next_number,
            reason=reason.strip(),
            recorded_by=member,
        )
        locked.next_number += 1
        locked.save(update_fields=["next_number"])
    return gap


def approve_overage(contact: Contact, *, month: dt.date) -> OverageApproval:
    """The client agrees to pay for hours beyond the package in ``month``."""
    month = ledger.month_start(month)
    approval, _created = OverageApproval.objects.get_or_create(
        agency_id=contact.agency_id,
        client_id=contact.client_id,
        month=month,
        defaults={"approved_by": contact},
    )
    return approval


def check_budget_alerts(client: Client, *, now: dt.datetime | None = None) -> list[int]:
    """Send the 80 % and 100 % alerts of the current month that are due and not sent
    yet; returns the thresholds sent now. Safe to run concurrently: the alert row is
    claimed first, in the transaction that sends."""
    current = ledger.current_month(client, now or timezone.now())
    if current is None:
        return []
    sent = []
    for threshold in ALERT_THRESHOLDS:
        if current.used_percent < threshold:
            continue
        try:
            with transaction.atomic():
                BudgetAlert.objects.create(
                    agency_id=client.agency_id,
                    client=client,
                    month=current.month,
                    threshold=threshold,
                )
                _send_alert(client, current, threshold)
        except IntegrityError:
            continue  # already sent
        sent.append(threshold)
    return sent


def _send_alert(client: Client, month: ledger.LedgerMonth, threshold: int) -> None:
    recipients = [client.email] if client.email else []
    recipients += list(
        Member.objects.filter(
            agency_id=client.agency_id,
            is_active=True,
            role__in=[Member.Role.OWNER, Member.Role.DISPATCHER],
        ).values_list("user__email", flat=True)
    )
    with translation.override(client.language):
        subject = _("%(client)s has used %(percent)s %% of this month's hours") % {
            "client": client.name,
            "percent": threshold,
        }
        body = _("Used: %(used)s of %(available)s hours.") % {
            "used": hours(month.used),
            "available": hours(month.available),
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def check_all_budget_alerts() -> int:
    """For the periodic job: every client with a package contract."""
    count = 0
    today = timezone.now().date()
    clients = Client.objects.filter(
        contracts__package_hours__gt=0, contracts__starts_on__lte=today
    ).distinct()
    for client in clients:
        count += len(check_budget_alerts(client))
    return count
