"""Invoices: drafts and invoice runs, issuing (number, snapshot, hash chain),
cancellation, payments, sending, and verifying the chain.

Issuing is the line between a draft, which may change freely, and a document that never
changes again. It happens in one transaction that locks the issuer's row: the number
series advances by exactly one per issued invoice (or per recorded ``NumberGap``), so
numbers are unique and gapless however many requests issue at once (SQLite's
``BEGIN IMMEDIATE`` serialises writers; PostgreSQL's row lock does the same).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Sum, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from delegate.agencies.models import AssistantProfile, Member
from delegate.billing import ledger
from delegate.billing import vat as vat_rules
from delegate.billing.models import (
    ZERO,
    Contract,
    Invoice,
    InvoicedTime,
    InvoiceLine,
    Issuer,
    NumberGap,
    OverageApproval,
    Payment,
    TaskPrice,
)
from delegate.clients.models import Address, Client
from delegate.core.validation import reject_unknown_fields
from delegate.tasks.models import Task
from delegate.timetracking.models import TimeEntry
from delegate.timetracking.rounding import rounded_total

CENT = Decimal("0.01")
DRAFT_FIELDS = (
    "period_start",
    "period_end",
    "payment_terms_days",
    "language",
    "recipient_name",
    "recipient_street",
    "recipient_postal_code",
    "recipient_city",
    "recipient_country",
    "recipient_vat_id",
    "recipient_email",
    "recipient_is_business",
    "leitweg_id",
    "note",
)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- totals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VatGroup:
    category: str
    rate: Decimal
    basis: Decimal
    tax: Decimal


def vat_groups(treatment: str, lines: list[InvoiceLine]) -> list[VatGroup]:
    """Net amounts per VAT category and rate, each taxed once (EN 16931 BR-CO-17)."""
    bases: dict[tuple[str, Decimal], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        rate = vat_rules.effective_rate(treatment, line.vat_rate)
        bases[(vat_rules.category(treatment, rate), rate)] += line.net_amount
    return [
        VatGroup(category, rate, basis, money(basis * rate / 100))
        for (category, rate), basis in sorted(bases.items(), key=lambda item: -item[0][1])
    ]


def _set_totals(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    groups = vat_groups(invoice.vat_treatment, lines)
    invoice.net_total = sum((line.net_amount for line in lines), ZERO)
    invoice.vat_total = sum((group.tax for group in groups), ZERO)
    invoice.gross_total = invoice.net_total + invoice.vat_total


def _recompute(invoice: Invoice) -> list[InvoiceLine]:
    lines = list(invoice.lines.order_by("position"))
    _set_totals(invoice, lines)
    return lines


def _require_draft(member: Member, invoice: Invoice) -> None:
    member.require_manager()
    member.require_same_agency(invoice)
    if not invoice.is_draft:
        raise ValidationError(_("An issued invoice cannot be changed; cancel it instead."))


# --- drafts ------------------------------------------------------------------------------


def _recipient_of(client: Client, contract: Contract | None) -> dict[str, Any]:
    # The billing address if there is one, else the first other: one query.
    address = (
        Address.objects.filter(client=client)
        .order_by(Case(When(kind=Address.Kind.BILLING, then=0), default=1), "pk")
        .first()
    )
    return {
        "recipient_name": client.name,
        "recipient_street": address.line1 if address else "",
        "recipient_postal_code": address.postal_code if address else "",
        "recipient_city": address.city if address else "",
        "recipient_country": address.country if address else "DE",
        "recipient_vat_id": client.vat_id,
        "recipient_email": client.email,
        "recipient_is_business": contract.is_business if contract else True,
        "leitweg_id": contract.leitweg_id if contract else "",
        "language": client.language,
    }


def _set_treatment(invoice: Invoice, issuer: Issuer) -> None:
    invoice.vat_treatment = vat_rules.treatment(
        issuer_is_small_business=issuer.is_small_business,
        country=invoice.recipient_country,
        vat_id=invoice.recipient_vat_id,
        is_business=invoice.recipient_is_business,
    )


def _clean_draft(invoice: Invoice) -> None:
    """Field validation of a draft. The period order is checked here rather than by
    the constraint check, which costs a query (and a savepoint) per constraint."""
    invoice.full_clean(
        exclude=["agency", "issuer", "client", "corrects", "issued_by", "snapshot"],
        validate_unique=False,  # a new UUID; the database has the constraints anyway
        validate_constraints=False,
    )
    if invoice.period_end < invoice.period_start:
        raise ValidationError({"period_end": _("The service period ends before it starts.")})


def _new_draft(
    member: Member,
    issuer: Issuer,
    client: Client | None,
    contract: Contract | None,
    fields: dict[str, Any],
) -> Invoice:
    """An unsaved, validated draft; header data from ``contract`` (the version of the
    period invoiced, for a run), overridden by ``fields``."""
    values = {**(_recipient_of(client, contract) if client else {}), **fields}
    values.setdefault("language", member.agency.default_language)
    if contract:
        values.setdefault("payment_terms_days", contract.payment_terms_days)
    invoice = Invoice(
        agency_id=member.agency_id,
        issuer=issuer,
        client=client,
        currency=member.agency.currency,
        **values,
    )
    _set_treatment(invoice, issuer)
    _clean_draft(invoice)
    return invoice


def create_draft(
    member: Member, *, issuer: Issuer, client: Client | None = None, **fields: Any
) -> Invoice:
    """An empty draft from ``issuer``; recipient details come from ``client`` where given
    (and its contract in force today) and may be overridden (a client-issuer's own
    customers are typed in). Invoice runs take the invoiced month's version instead."""
    member.require_manager()
    member.require_same_agency(issuer, client)
    reject_unknown_fields(fields, DRAFT_FIELDS)
    contract = ledger.contract_on(client, timezone.localdate()) if client else None
    invoice = _new_draft(member, issuer, client, contract, fields)
    invoice.save()
    return invoice


def update_draft(member: Member, invoice: Invoice, **fields: Any) -> Invoice:
    reject_unknown_fields(fields, DRAFT_FIELDS)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_draft(member, invoice)
        for name, value in fields.items():
            setattr(invoice, name, value)
        _set_treatment(invoice, invoice.issuer)
        _clean_draft(invoice)
        _recompute(invoice)
        invoice.save()
    return invoice


def add_line(
    member: Member,
    invoice: Invoice,
    *,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    unit: str = InvoiceLine.Unit.PIECE,
    vat_rate: Decimal = Decimal("19.00"),
) -> InvoiceLine:
    """A line on a draft (manual lines, and the lines invoice runs create)."""
    for name, value in (("quantity", quantity), ("unit_price", unit_price), ("vat_rate", vat_rate)):
        if not isinstance(value, Decimal):
            raise ValidationError({name: _("Amounts must be exact decimals.")})
    if vat_rate not in vat_rules.VAT_RATES:
        raise ValidationError({"vat_rate": _("VAT is 19, 7 or 0 %.")})
    if quantity <= 0 or unit_price < 0:
        raise ValidationError({"quantity": _("Quantities are positive, prices not negative.")})
    if not description.strip():
        raise ValidationError({"description": _("Describe the service.")})
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_draft(member, locked)
        position = (
            locked.lines.count() and max(locked.lines.values_list("position", flat=True))
        ) + 1
        line = InvoiceLine(
            agency_id=locked.agency_id,
            invoice=locked,
            position=position,
            description=description.strip()[:500],
            quantity=quantity.quantize(CENT),
            unit=unit,
            unit_price=unit_price.quantize(CENT),
            vat_rate=vat_rate,
            net_amount=money(quantity * unit_price),
        )
        line.full_clean(exclude=["invoice"])
        line.save()
        _recompute(locked)
        locked.save()
    return line


def remove_line(member: Member, line: InvoiceLine) -> None:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=line.invoice_id)
        _require_draft(member, invoice)
        line.delete()
        _recompute(invoice)
        invoice.save()


def delete_draft(member: Member, invoice: Invoice) -> None:
    """Drop a draft; the time it billed becomes billable again."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _require_draft(member, invoice)
        InvoicedTime.objects.filter(invoice=invoice).delete()
        invoice.lines.all().delete()
        invoice.delete()


# --- invoice runs ------------------------------------------------------------------------

# description, quantity, unit price, unit, and the month of the service where it is not
# the invoiced month (time billed late: its service date, EN 16931 BT-134/135)
Spec = tuple[str, Decimal, Decimal, str, dt.date | None]


def _month_end(month: dt.date) -> dt.date:
    return ledger.add_months(month, 1) - dt.timedelta(days=1)


def _rate_for(contract: Contract, entry_member_id: Any, levels: dict[Any, str]) -> Decimal:
    rates = list(contract.rates.all())
    for rate in rates:
        if rate.member_id == entry_member_id:
            return rate.hourly_rate
    level = levels.get(entry_member_id)
    for rate in rates:
        if rate.level and rate.level == level:
            return rate.hourly_rate
    return contract.hourly_rate


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(CENT, rounding=ROUND_HALF_UP)


def _run_months(client: Client) -> set[dt.date]:
    """The months that have an invoice run (draft or issued, not cancelled)."""
    return set(
        Invoice.objects.filter(client=client, kind=Invoice.Kind.INVOICE)
        .exclude(status=Invoice.Status.CANCELLED)
        .values_list("period_start", flat=True)
    )


def draft_month(member: Member, client: Client, *, issuer: Issuer, month: dt.date) -> Invoice:
    """The invoice run for one client and month: a draft with the flat fee, the package
    fee and approved overage, fixed task prices, and hourly time not billed yet, each
    by the contract version in force in its month. The draft's header (business or
    consumer, Leitweg-ID, payment terms) is the invoiced month's version too.
    Time of an earlier package month that already had its run, recorded or approved
    after it, is billed here: the overage it adds to that month, as a line of its own.
    Refused if the month already has a run invoice that is not cancelled.

    On SQLite, where one connection writes at a time, the run reads and computes
    first and holds the write lock only to check that what it read is unchanged and
    to write: other runs and writers wait for a few statements, not for the whole
    computation. If anything changed meanwhile, or if the run needs a package's
    ledger or task prices (whose inputs reach further), it is computed again under
    the lock. Unchecked, as if the run had happened just before: the client's
    address and the assistants' levels. On PostgreSQL the lock is the client's row
    alone, and the run computes under it (``_one_writer``)."""
    member.require_manager()
    member.require_same_agency(client, issuer)
    month = ledger.month_start(month)
    period_end = _month_end(month)
    planned = _plan_run(member, issuer, client, month, optimistic=True) if _one_writer() else None
    with transaction.atomic():
        # One run per client and month: the client's row is the lock (contract changes
        # take it too).
        locked = Client.objects.select_for_update().get(pk=client.pk)
        runs = Invoice.objects.filter(
            client=locked, kind=Invoice.Kind.INVOICE, period_start=month, period_end=period_end
        )
        if runs.exclude(status=Invoice.Status.CANCELLED).exists():
            raise ValidationError(_("This month has already been invoiced."))
        run = planned
        if run is None or run.state != _run_state(locked, run.contract, month):
            run = _plan_run(member, issuer, locked, month)
        if run is None:
            raise RuntimeError("only an optimistic plan is ever None")
        _write_run(member, run)
    return run.invoice


def _one_writer() -> bool:
    """Whether the database has one writer at a time (SQLite): there a run computes
    before it takes the lock. On PostgreSQL, which locks only the client's row, the
    two extra reads cost more than they saved (bench/invoices/README.md)."""
    return bool(transaction.get_connection().vendor == "sqlite")


# What a run read, compared under the lock: the client's fields it uses, the contract
# versions and the time entries it bills (every field that changes what is billed).
CLIENT_STATE = ("name", "vat_id", "email", "language", "time_zone")
ENTRY_STATE = (
    "pk", "started_at", "ended_at", "minutes", "is_billable", "approved_at", "member_id",
    "task_id",
)  # fmt: skip


@dataclass
class _Run:
    invoice: Invoice  # not saved yet
    lines: list[InvoiceLine]
    billed: list[TimeEntry]
    contract: Contract
    state: tuple[Any, ...]


def _plan_run(
    member: Member, issuer: Issuer, client: Client, month: dt.date, *, optimistic: bool = False
) -> _Run | None:
    """The run's draft, lines and billed entries, computed but not written; with
    ``optimistic`` (outside the lock), None for a run that must be computed under it."""
    period_end = _month_end(month)
    # The terms of the month invoiced, not today's.
    versions = ledger.contract_versions(client, until=month)
    contract = ledger.version_for(versions, month)
    if contract is None:
        raise ValidationError(_("%(client)s has no contract.") % {"client": client.name})
    if optimistic and any(version.has_package for version in versions):
        return None
    prices: dict[Any, Decimal] = {
        p.category_id: p.price for p in TaskPrice.objects.filter(contract=contract)
    }
    if optimistic and prices:
        return None
    invoice = _new_draft(
        member, issuer, client, contract, {"period_start": month, "period_end": period_end}
    )
    with translation.override(invoice.language):
        specs, billed, chosen = _run_lines(client, versions, contract, month, prices)
    lines = [
        InvoiceLine(
            agency_id=invoice.agency_id, invoice=invoice, position=position,
            description=description[:500], quantity=quantity.quantize(CENT), unit=unit,
            unit_price=price.quantize(CENT), vat_rate=contract.vat_rate,
            net_amount=money(quantity * price), service_start=served,
            service_end=_month_end(served) if served else None,
        )
        for position, (description, quantity, price, unit, served) in enumerate(specs, start=1)
    ]  # fmt: skip
    _set_totals(invoice, lines)
    state = (
        tuple(getattr(client, name) for name in CLIENT_STATE),
        [version.pk for version in versions],
        {tuple(getattr(entry, name) for name in ENTRY_STATE) for entry in chosen},
    )
    return _Run(invoice, lines, billed, contract, state)


def _run_state(client: Client, contract: Contract, month: dt.date) -> tuple[Any, ...]:
    """``_Run.state`` as it is now (under the lock): two queries."""
    versions = Contract.objects.filter(
        client=client, starts_on__lt=ledger.add_months(month, 1)
    ).order_by("starts_on")
    end = ledger.month_bounds(month, ledger.client_zone(client))[1]
    entries = _unbilled_entries(client, contract, end, priced_tasks=[])
    return (
        tuple(getattr(client, name) for name in CLIENT_STATE),
        list(versions.values_list("pk", flat=True)),
        set(entries.values_list(*ENTRY_STATE).select_for_update()),
    )


def _write_run(member: Member, run: _Run) -> None:
    """Insert the draft and its lines at once, and mark the billed time."""
    run.invoice.save()
    InvoiceLine.objects.bulk_create(run.lines)
    # Billed time is locked: approved now if the contract needs no client approval.
    unapproved = [entry.pk for entry in run.billed if entry.approved_at is None]
    if unapproved:
        TimeEntry.objects.filter(pk__in=unapproved, approved_at__isnull=True).update(
            approved_at=timezone.now(), approved_by_member=member
        )
    if run.billed:
        InvoicedTime.objects.bulk_create(
            InvoicedTime(agency_id=run.invoice.agency_id, invoice=run.invoice, time_entry=entry)
            for entry in run.billed
        )


def _unbilled_entries(
    client: Client, contract: Contract, end: dt.datetime, *, priced_tasks: list[Task]
) -> Any:
    """The finished billable entries before ``end`` not billed yet (approved ones, if
    ``contract`` needs the client's approval), but those of ``priced_tasks``."""
    entries = (
        TimeEntry.objects.filter(
            client=client, ended_at__isnull=False, is_billable=True, started_at__lt=end
        )
        .exclude(task_id__in=[task.pk for task in priced_tasks])
        # Correlated, so the unique index answers it (NOT IN read every billed entry).
        .exclude(Exists(InvoicedTime.objects.filter(time_entry_id=OuterRef("pk"))))
    )
    if contract.needs_time_approval:
        entries = entries.filter(approved_at__isnull=False)
    return entries


def _run_lines(
    client: Client,
    versions: list[Contract],
    contract: Contract,
    month: dt.date,
    prices: dict[Any, Decimal],
) -> tuple[list[Spec], list[TimeEntry], list[TimeEntry]]:
    """The lines of ``month``'s run (``contract`` is its version), the time entries
    they bill, and all the unbilled entries it read."""
    start, end = ledger.month_bounds(month, ledger.client_zone(client))
    label = month.strftime("%m/%Y")
    specs: list[Spec] = []

    def line(
        description: str, quantity: Decimal, price: Decimal, unit: str, served: dt.date = month
    ) -> None:
        specs.append((description, quantity, price, unit, served if served != month else None))

    if contract.monthly_fee > 0:
        line(_("Flat monthly fee %(month)s") % {"month": label}, Decimal(1),
             contract.monthly_fee, InvoiceLine.Unit.MONTH)  # fmt: skip
    if contract.has_package and contract.package_fee > 0:
        line(
            _("Prepaid package %(hours)s hours, %(month)s")
            % {"hours": contract.package_hours.normalize(), "month": label},
            Decimal(1), contract.package_fee, InvoiceLine.Unit.MONTH,
        )  # fmt: skip

    priced_tasks: list[Task] = []
    if prices:
        priced_tasks = list(
            Task.objects.filter(
                client=client, status=Task.Status.DONE, done_at__gte=start, done_at__lt=end,
                category_id__in=list(prices),
            ).order_by("done_at")
        )  # fmt: skip
    for task in priced_tasks:
        line(f"{task.title} ({task.code})", Decimal(1), prices[task.category_id],
             InvoiceLine.Unit.PIECE)  # fmt: skip

    entries = _unbilled_entries(client, contract, end, priced_tasks=priced_tasks)
    if transaction.get_connection().in_atomic_block:
        entries = entries.select_for_update()  # under the lock: computed again there
    chosen = list(entries)

    # Each entry is billed by the contract version of its own month (client's zone).
    by_month: dict[dt.date, list[TimeEntry]] = defaultdict(list)
    for entry in chosen:
        by_month[ledger.month_start(entry.started_at.astimezone(start.tzinfo).date())].append(entry)
    run_months: set[dt.date] | None = None
    billed: list[TimeEntry] = []
    late: list[TimeEntry] = []
    hourly: list[tuple[dt.date, Contract, list[TimeEntry]]] = []
    for entry_month, group in sorted(by_month.items()):
        terms = ledger.version_for(versions, entry_month)
        if terms is None:
            continue  # before the first contract: no terms to bill it by
        if terms.has_package:
            # The package covers its month's time, billed by that month's run; time
            # that came after an earlier month's run is billed late, here.
            if entry_month == month:
                billed.extend(group)
            else:
                run_months = _run_months(client) if run_months is None else run_months
                if entry_month in run_months:
                    late.extend(group)
            continue
        hourly.append((entry_month, terms, group))
        billed.extend(group)

    if contract.has_package or late:
        _package_lines(client, versions, month, late, run_months or set(), line)
        billed.extend(late)
    levels: dict[Any, str] = {}
    if any(rate.level for _month, terms, _group in hourly for rate in terms.rates.all()):
        levels = dict(
            AssistantProfile.objects.filter(
                member_id__in={entry.member_id for entry in billed}
            ).values_list("member_id", "level")
        )
    for entry_month, terms, group in hourly:
        by_rate: dict[Decimal, list[TimeEntry]] = defaultdict(list)
        for entry in group:
            by_rate[_rate_for(terms, entry.member_id, levels)].append(entry)
        for hourly_rate, rated in sorted(by_rate.items(), key=lambda item: -item[0]):
            minutes = rounded_total(
                [(entry.task_id, entry.minutes) for entry in rated],
                increment=terms.rounding_increment,
                mode=terms.rounding_mode,
            )
            if minutes and hourly_rate > 0:
                line(_("Assistance, %(month)s") % {"month": entry_month.strftime("%m/%Y")},
                     _hours(minutes), hourly_rate, InvoiceLine.Unit.HOUR, entry_month)  # fmt: skip
    return specs, billed, chosen


def _package_lines(
    client: Client,
    versions: list[Contract],
    month: dt.date,
    late: list[TimeEntry],
    run_months: set[dt.date],
    line: Any,
) -> None:
    """Overage lines from the ledger: ``month``'s own (if its version has a package),
    and for each earlier month that had its run, the overage that the ``late`` entries
    add to it (the ledger with them against the ledger without them), at that month's
    terms. Overage that needs the client's approval is billed once approved; where
    hours need the client's approval, only approved hours count."""
    approved = set(
        OverageApproval.objects.filter(client=client, month__lte=month).values_list(
            "month", flat=True
        )
    )
    rows = ledger.client_ledger(client, until=month, versions=versions, for_billing=True)
    before = rows
    if late:
        before = ledger.client_ledger(
            client, until=month, versions=versions, for_billing=True,
            leaving_out={entry.pk for entry in late},
        )  # fmt: skip
    for row, earlier in zip(rows, before, strict=True):
        terms = ledger.version_for(versions, row.month)
        if terms is None or (terms.overage_needs_approval and row.month not in approved):
            continue
        price = terms.overage_rate or terms.hourly_rate
        label = row.month.strftime("%m/%Y")
        if row.month == month and row.overage:
            line(_("Hours beyond the package, %(month)s") % {"month": label},
                 _hours(row.overage), price, InvoiceLine.Unit.HOUR)  # fmt: skip
        elif row.month < month and row.month in run_months and row.overage > earlier.overage:
            line(_("Hours beyond the package, %(month)s, recorded after its invoice")
                 % {"month": label},
                 _hours(row.overage - earlier.overage), price, InvoiceLine.Unit.HOUR,
                 row.month)  # fmt: skip


def run_invoices(member: Member, *, issuer: Issuer, month: dt.date) -> list[Invoice]:
    """Drafts for every active client with a contract that has no run for ``month``."""
    member.require_manager()
    drafts = []
    clients = Client.objects.filter(
        agency_id=member.agency_id, status=Client.Status.ACTIVE, contracts__isnull=False
    ).distinct()
    for client in clients:
        try:
            drafts.append(draft_month(member, client, issuer=issuer, month=month))
        except ValidationError:
            continue
    return drafts


# --- issuing -----------------------------------------------------------------------------


def missing_fields(invoice: Invoice, issuer: Issuer, lines: list[InvoiceLine]) -> list[str]:
    """What § 14 Abs. 4 UStG (and § 14a for reverse charge, and XRechnung for public
    recipients) requires that the draft lacks."""
    missing = []
    for name in ("legal_name", "street", "postal_code", "city"):
        if not getattr(issuer, name):
            missing.append(f"issuer.{name}")
    if not (issuer.tax_number or issuer.vat_id):
        missing.append("issuer.tax_number")
    for name in ("recipient_name", "recipient_street", "recipient_postal_code", "recipient_city"):
        if not getattr(invoice, name):
            missing.append(name)
    if not lines:
        missing.append("lines")
    if invoice.vat_treatment == Invoice.Vat.REVERSE_CHARGE:
        if not issuer.vat_id:
            missing.append("issuer.vat_id")
        if not invoice.recipient_vat_id:
            missing.append("recipient_vat_id")
    if invoice.vat_treatment == Invoice.Vat.NON_EU and not issuer.tax_number:
        missing.append("issuer.tax_number")  # EN 16931 BR-O-02: no VAT id there
    if invoice.leitweg_id and not (issuer.email and issuer.phone):
        missing.append("issuer.phone")
    return missing


def _snapshot(invoice: Invoice, issuer: Issuer, lines: list[InvoiceLine]) -> dict[str, Any]:
    """Everything the documents show, frozen as strings: PDF and XML are rendered from
    this, so they never change when master data does."""
    with translation.override(invoice.language):
        note = str(vat_rules.NOTES.get(invoice.vat_treatment, ""))
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "corrects": invoice.corrects.number if invoice.corrects else "",
        "corrects_date": str(invoice.corrects.issue_date) if invoice.corrects else "",
        "issue_date": str(invoice.issue_date),
        "due_date": str(invoice.due_date),
        "period_start": str(invoice.period_start),
        "period_end": str(invoice.period_end),
        "payment_terms_days": invoice.payment_terms_days,
        "language": invoice.language,
        "currency": invoice.currency,
        "vat_treatment": invoice.vat_treatment,
        "vat_note": note,
        "note": invoice.note,
        "leitweg_id": invoice.leitweg_id,
        "issuer": {
            name: str(getattr(issuer, name))
            for name in (
                "legal_name", "street", "postal_code", "city", "country", "vat_id",
                "tax_number", "register_entry", "managing_directors", "email", "phone",
                "contact_name", "iban", "bic", "bank_name",
            )
        },
        "recipient": {
            "name": invoice.recipient_name,
            "street": invoice.recipient_street,
            "postal_code": invoice.recipient_postal_code,
            "city": invoice.recipient_city,
            "country": invoice.recipient_country,
            "vat_id": invoice.recipient_vat_id,
            "email": invoice.recipient_email,
        },
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit": line.unit,
                "unit_price": str(line.unit_price),
                "vat_rate": str(vat_rules.effective_rate(invoice.vat_treatment, line.vat_rate)),
                "vat_category": vat_rules.category(
                    invoice.vat_treatment,
                    vat_rules.effective_rate(invoice.vat_treatment, line.vat_rate),
                ),
                "net_amount": str(line.net_amount),
                # Only where it differs from the invoice's period (older snapshots have none).
                **(
                    {"service_start": str(line.service_start), "service_end": str(line.service_end)}
                    if line.service_start and line.service_end
                    else {}
                ),
            }
            for line in lines
        ],
        "vat_groups": [
            {"category": g.category, "rate": str(g.rate), "basis": str(g.basis), "tax": str(g.tax)}
            for g in vat_groups(invoice.vat_treatment, lines)
        ],
        "net_total": str(invoice.net_total),
        "vat_total": str(invoice.vat_total),
        "gross_total": str(invoice.gross_total),
    }  # fmt: skip


# What issuing sets on the draft.
ISSUED_FIELDS = (
    "vat_treatment", "net_total", "vat_total", "gross_total", "sequence", "number",
    "issue_date", "due_date", "issued_at", "issued_by", "snapshot", "previous_hash",
    "content_hash", "status", "updated_at",
)  # fmt: skip


def chain_hash(previous_hash: str, snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def issue_invoice(member: Member, invoice: Invoice) -> Invoice:
    """Give the draft the next number of its issuer's series, freeze its content in a
    snapshot and link it into the issuer's hash chain. Raises ValidationError listing
    what § 14 UStG requires and is missing, or if it is no longer a draft.

    The issuer's row, which every issue of its series waits for, is locked last and
    held for three statements (the invoice is locked and read before it)."""
    member.require_manager()
    member.require_same_agency(invoice)
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("corrects")
            .get(pk=invoice.pk)
        )
        if not invoice.is_draft:
            raise ValidationError(_("This invoice has already been issued."))
        lines = list(invoice.lines.order_by("position"))
        issuer = Issuer.objects.select_for_update().get(pk=invoice.issuer_id)
        if invoice.kind == Invoice.Kind.INVOICE:
            _set_treatment(invoice, issuer)  # a correction keeps the corrected one's
        _set_totals(invoice, lines)
        missing = missing_fields(invoice, issuer, lines)
        if missing:
            raise ValidationError(
                _("Missing for a valid invoice: %(fields)s") % {"fields": ", ".join(missing)}
            )
        today = timezone.localdate()
        invoice.sequence = issuer.next_number
        invoice.number = issuer.format_number(issuer.next_number)
        invoice.issue_date = today
        invoice.due_date = today + dt.timedelta(days=invoice.payment_terms_days)
        invoice.issued_at = timezone.now()
        invoice.issued_by = member
        invoice.snapshot = _snapshot(invoice, issuer, lines)
        invoice.previous_hash = issuer.last_hash
        invoice.content_hash = chain_hash(issuer.last_hash, invoice.snapshot)
        invoice.status = Invoice.Status.ISSUED
        invoice.updated_at = invoice.issued_at
        # One UPDATE of the locked draft (Invoice.save would read the row again first).
        written = Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.DRAFT).update(
            **{name: getattr(invoice, name) for name in ISSUED_FIELDS}
        )
        if written != 1:  # the lock above makes this impossible; never advance the series
            raise RuntimeError(f"invoice {invoice.pk} was not a draft when issued")
        issuer.next_number += 1
        issuer.last_hash = invoice.content_hash
        issuer.save(update_fields=["next_number", "last_hash"])
        if invoice.corrects_id and invoice.kind == Invoice.Kind.CANCELLATION:
            Invoice.objects.filter(pk=invoice.corrects_id).update(
                status=Invoice.Status.CANCELLED, updated_at=timezone.now()
            )
        if invoice.corrects_id and invoice.kind == Invoice.Kind.CREDIT_NOTE:
            _settle(Invoice.objects.select_for_update().get(pk=invoice.corrects_id))
    return invoice


def cancel_invoice(member: Member, invoice: Invoice, *, reason: str) -> Invoice:
    """Cancel an issued invoice with an issued cancellation invoice that repeats its
    lines and refers to it; the time it billed becomes billable again."""
    member.require_manager()
    member.require_same_agency(invoice)
    if invoice.is_draft or invoice.status == Invoice.Status.CANCELLED:
        raise ValidationError(_("Only issued invoices can be cancelled."))
    if invoice.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("A cancellation cannot be cancelled."))
    if invoice.credited_total > 0:
        raise ValidationError(
            _("This invoice has credit notes: credit the rest with another credit note.")
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    with transaction.atomic():
        correction = Invoice.objects.create(
            agency_id=invoice.agency_id,
            issuer_id=invoice.issuer_id,
            client_id=invoice.client_id,
            kind=Invoice.Kind.CANCELLATION,
            corrects=invoice,
            note=reason.strip(),
            **{name: getattr(invoice, name) for name in DRAFT_FIELDS if name != "note"},
            currency=invoice.currency,
            vat_treatment=invoice.vat_treatment,
        )
        for line in invoice.lines.all():
            InvoiceLine.objects.create(
                agency_id=line.agency_id, invoice=correction, position=line.position,
                description=line.description, quantity=line.quantity, unit=line.unit,
                unit_price=line.unit_price, vat_rate=line.vat_rate, net_amount=line.net_amount,
            )  # fmt: skip
        correction = issue_invoice(member, correction)
        InvoicedTime.objects.filter(invoice=invoice).delete()
    return correction


# --- after issuing -----------------------------------------------------------------------


def _settle(invoice: Invoice) -> None:
    """The paid and credited totals and the status that follows from them: credited
    in full, paid (payments cover what the credit notes left), partly paid, partly
    credited, or sent / issued."""
    paid = invoice.payments.aggregate(total=Sum("amount"))["total"] or ZERO
    credited = (
        Invoice.objects.filter(corrects=invoice, kind=Invoice.Kind.CREDIT_NOTE)
        .exclude(status=Invoice.Status.DRAFT)
        .aggregate(total=Sum("gross_total"))["total"]
        or ZERO
    )
    invoice.paid_total, invoice.credited_total = paid, credited
    if invoice.status != Invoice.Status.CANCELLED:
        if credited >= invoice.gross_total:
            invoice.status = Invoice.Status.CREDITED
        elif paid >= invoice.gross_total - credited:
            invoice.status = Invoice.Status.PAID
        elif paid > 0:
            invoice.status = Invoice.Status.PARTLY_PAID
        elif credited > 0:
            invoice.status = Invoice.Status.PARTLY_CREDITED
        else:
            invoice.status = Invoice.Status.SENT if invoice.sent_at else Invoice.Status.ISSUED
    invoice.save(update_fields=["paid_total", "credited_total", "status", "updated_at"])


def record_payment(
    member: Member, invoice: Invoice, *, amount: Decimal, paid_on: dt.date, note: str = ""
) -> Payment:
    """A payment entered by hand; the status follows (partly paid / paid)."""
    member.require_manager()
    member.require_same_agency(invoice)
    if not isinstance(amount, Decimal) or amount <= 0:
        raise ValidationError({"amount": _("Enter a positive amount.")})
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.is_draft or invoice.status == Invoice.Status.CANCELLED:
            raise ValidationError(_("Payments are recorded on issued invoices."))
        payment = Payment.objects.create(
            agency_id=invoice.agency_id, invoice=invoice, amount=money(amount),
            paid_on=paid_on, note=note.strip()[:200], recorded_by=member,
        )  # fmt: skip
        _settle(invoice)
    return payment


def mark_sent(invoice: Invoice) -> None:
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.sent_at is None:
            locked.sent_at = timezone.now()
            if locked.status == Invoice.Status.ISSUED:
                locked.status = Invoice.Status.SENT
            locked.save(update_fields=["sent_at", "status", "updated_at"])


# --- the chain ---------------------------------------------------------------------------


def verify_chain(issuer: Issuer) -> list[str]:
    """Problems in ``issuer``'s series: a snapshot whose hash does not match, a broken
    link, or a number neither issued nor recorded as a gap. Empty means intact."""
    problems = []
    previous = ""
    invoices = Invoice.objects.filter(issuer=issuer).exclude(status=Invoice.Status.DRAFT)
    by_sequence = {invoice.sequence: invoice for invoice in invoices}
    gaps = set(NumberGap.objects.filter(issuer=issuer).values_list("sequence", flat=True))
    for sequence in range(1, issuer.next_number):
        invoice = by_sequence.get(sequence)
        if invoice is None:
            if sequence not in gaps:
                problems.append(f"{issuer.format_number(sequence)}: missing, no recorded gap")
            continue
        if invoice.previous_hash != previous:
            problems.append(f"{invoice.number}: does not link to the invoice before it")
        if chain_hash(invoice.previous_hash, invoice.snapshot) != invoice.content_hash:
            problems.append(f"{invoice.number}: content does not match its hash")
        if invoice.number != invoice.snapshot.get("number"):
            problems.append(f"{invoice.number}: number differs from the snapshot")
        previous = invoice.content_hash
    if issuer.last_hash != previous:
        problems.append(f"{issuer}: the last hash does not match the last invoice")
    return problems


# --- sending -----------------------------------------------------------------------------


def send_invoice(member: Member, invoice: Invoice) -> None:
    """Queue the invoice for email to the recipient, with the PDF and the XML attached
    (the job is safe to run twice: a sent invoice is not sent again)."""
    member.require_manager()
    member.require_same_agency(invoice)
    if invoice.is_draft or invoice.status == Invoice.Status.CANCELLED:
        raise ValidationError(_("Only issued invoices can be sent."))
    if not invoice.recipient_email:
        raise ValidationError(_("The recipient has no email address."))
    from delegate.billing.jobs import deliver_invoice

    invoice_id = str(invoice.pk)
    transaction.on_commit(lambda: deliver_invoice.enqueue(invoice_id))


def deliver(invoice_id: Any) -> bool:
    """Email an issued invoice now; False if it was sent already or cannot be sent."""
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string

    from delegate.billing.pdf import invoice_documents

    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if (
        invoice is None
        or invoice.sent_at
        or invoice.is_draft
        or invoice.status == Invoice.Status.CANCELLED  # cancelled after it was queued
        or not invoice.recipient_email
    ):
        return False
    snapshot = invoice.snapshot
    with translation.override(invoice.language):
        document = str(Invoice.Kind(invoice.kind).label)
        names = {"number": invoice.number, "issuer": snapshot["issuer"]["legal_name"]}
        if invoice.kind == Invoice.Kind.INVOICE:
            subject = _("Invoice %(number)s from %(issuer)s") % names
        else:
            subject = _("%(document)s %(number)s from %(issuer)s") % {**names, "document": document}
        body = render_to_string("billing/email/invoice.txt", {"s": snapshot, "document": document})
    message = EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [invoice.recipient_email],
        reply_to=[snapshot["issuer"]["email"]],
    )
    pdf, xml = invoice_documents(invoice)  # the XML is built once for both
    message.attach(f"{invoice.number}.pdf", pdf, "application/pdf")
    message.attach(f"{invoice.number}.xml", xml, "application/xml")
    message.send()
    mark_sent(invoice)
    return True
