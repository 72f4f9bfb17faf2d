"""Contracts, the prepaid-hours ledger's records, issuers, invoices and payments.

Money is ``Decimal`` with two places (``MONEY``); hours are kept as whole minutes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import LANGUAGE_CHOICES, Agency, AssistantProfile, Member
from delegate.clients.models import Client, Contact
from delegate.core.models import UUIDModel
from delegate.tasks.models import Category
from delegate.timetracking.models import TimeEntry
from delegate.timetracking.rounding import PER_ENTRY, PER_TASK

ZERO = Decimal("0.00")


def money_field(label: Any, **kwargs: Any) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(
        label,
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(ZERO)],
        **kwargs,
    )


def validate_iban(value: str) -> None:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(value)
    except SchwiftyException as exc:
        raise ValidationError(_("Enter a valid IBAN.")) from exc


def validate_bic(value: str) -> None:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        BIC(value)
    except SchwiftyException as exc:
        raise ValidationError(_("Enter a valid BIC.")) from exc


# --- contracts ---------------------------------------------------------------------------


class Contract(UUIDModel):
    """How a client pays, from ``starts_on``: hourly rates, per-task prices, a flat
    monthly fee and/or a prepaid package of hours per month. The contract in force on
    a day is the latest one starting on or before it."""

    class Rounding(models.TextChoices):
        PER_ENTRY = PER_ENTRY, _("each entry")
        PER_TASK = PER_TASK, _("each task's total")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contracts")
    starts_on = models.DateField(_("starts on"))
    hourly_rate = money_field(_("hourly rate"))
    rounding_increment = models.PositiveSmallIntegerField(
        _("rounding increment (minutes)"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    rounding_mode = models.CharField(
        _("round"), max_length=10, choices=Rounding.choices, default=PER_ENTRY
    )
    monthly_fee = money_field(_("flat monthly fee"))
    package_hours = models.DecimalField(
        _("prepaid hours per month"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    package_fee = money_field(_("package fee per month"))
    rollover_cap_hours = models.DecimalField(
        _("rollover cap (hours)"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    rollover_months = models.PositiveSmallIntegerField(
        _("rolled-over hours expire after (months)"), default=0
    )
    overage_rate = money_field(_("overage hourly rate"))
    overage_needs_approval = models.BooleanField(
        _("overage needs the client's approval"), default=False
    )
    needs_time_approval = models.BooleanField(
        _("client approves hours before billing"), default=False
    )
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=14)
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("19"),
        choices=[(Decimal("19.00"), "19 %"), (Decimal("7.00"), "7 %"), (Decimal("0.00"), "0 %")],
    )
    is_business = models.BooleanField(_("client is a business"), default=True)
    leitweg_id = models.CharField(
        _("Leitweg-ID"), max_length=46, blank=True, help_text=_("public-sector recipients")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client", "-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "starts_on"], name="uniq_contract_client_start"
            ),
            models.CheckConstraint(
                condition=Q(rounding_increment__gte=1) & Q(rounding_increment__lte=60),
                name="contract_rounding_range",
            ),
        ]
        verbose_name = _("contract")

    @property
    def package_minutes(self) -> int:
        return int(self.package_hours * 60)

    @property
    def rollover_cap_minutes(self) -> int:
        return int(self.rollover_cap_hours * 60)

    @property
    def has_package(self) -> bool:
        return self.package_hours > 0


class ContractRate(models.Model):
    """An hourly rate for one assistant level or one assistant (the assistant's wins)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="rates")
    level = models.CharField(max_length=10, choices=AssistantProfile.Level.choices, blank=True)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True)
    hourly_rate = money_field(_("hourly rate"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="") & Q(member__isnull=False))
                | (~Q(level="") & Q(member__isnull=True)),
                name="rate_level_xor_member",
            ),
            models.UniqueConstraint(fields=["contract", "level", "member"], name="uniq_rate"),
        ]


class TaskPrice(models.Model):
    """A fixed price for a finished task of a category; its time is not billed by the
    hour."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="task_prices")
    category = models.ForeignKey(Category, on_delete=models.CASCADE)
    price = money_field(_("price"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "category"], name="uniq_task_price")
        ]


class OverageApproval(models.Model):
    """The client agreed to be billed for hours beyond the package in a month."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    month = models.DateField()  # first day
    approved_by = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True)
    approved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "month"], name="uniq_overage_approval")
        ]


class BudgetAlert(models.Model):
    """An alert sent once per client, month and threshold (80 or 100 per cent); the
    unique constraint makes concurrent checks send it once."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    month = models.DateField()
    threshold = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "month", "threshold"], name="uniq_budget_alert"
            )
        ]


# --- issuers -----------------------------------------------------------------------------


class Issuer(UUIDModel):
    """Who an invoice is from: the agency itself, or a client whose invoicing the agency
    runs. Each has its legal details, bank account and its own number series."""

    class Kind(models.TextChoices):
        AGENCY = "agency", _("the agency")
        CLIENT = "client", _("a client (invoicing on their behalf)")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="issuers")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="issuers"
    )
    legal_name = models.CharField(_("legal name"), max_length=200)
    street = models.CharField(_("street"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="DE")
    vat_id = models.CharField(_("VAT id"), max_length=20, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True)
    register_entry = models.CharField(_("commercial register"), max_length=100, blank=True)
    managing_directors = models.CharField(_("managing directors"), max_length=200, blank=True)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    is_small_business = models.BooleanField(_("small business (§ 19 UStG)"), default=False)
    number_prefix = models.CharField(_("number prefix"), max_length=20, default="RE-")
    number_digits = models.PositiveSmallIntegerField(default=5)
    next_number = models.PositiveIntegerField(default=1, editable=False)
    last_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="agency") & Q(client__isnull=True))
                | (Q(kind="client") & Q(client__isnull=False)),
                name="issuer_kind_client",
            ),
            models.UniqueConstraint(
                fields=["agency", "number_prefix"], name="uniq_issuer_number_prefix"
            ),
        ]
        verbose_name = _("issuer")

    def __str__(self) -> str:
        return self.legal_name

    def format_number(self, sequence: int) -> str:
        return f"{self.number_prefix}{sequence:0{self.number_digits}d}"


class NumberGap(models.Model):
    """A number of a series that was skipped on purpose, with the reason."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="gaps")
    sequence = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    recorded_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "sequence"], name="uniq_gap_sequence")
        ]


# --- invoices ----------------------------------------------------------------------------


class ImmutableInvoiceError(RuntimeError):
    """An issued invoice cannot be changed or deleted: correct it with a credit note."""


class Invoice(UUIDModel):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CANCELLATION = "cancellation", _("Cancellation invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        SENT = "sent", _("Sent")
        PARTLY_PAID = "partly_paid", _("Partly paid")
        PAID = "paid", _("Paid")
        PARTLY_CREDITED = "partly_credited", _("Partly credited")
        CREDITED = "credited", _("Credited in full")
        CANCELLED = "cancelled", _("Cancelled")

    class Vat(models.TextChoices):
        DOMESTIC = "domestic", _("German VAT")
        SMALL_BUSINESS = "small_business", _("§ 19 UStG (no VAT)")
        REVERSE_CHARGE = "reverse_charge", _("EU reverse charge")
        NON_EU = "non_eu", _("Outside the EU (not taxable in Germany)")

    # Once issued, only these columns may change (the database enforces it too).
    MUTABLE_AFTER_ISSUE = ("status", "sent_at", "paid_total", "credited_total", "updated_at")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="invoices")
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Set when issued, never again.
    sequence = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(_("invoice number"), max_length=40, blank=True)
    issue_date = models.DateField(_("invoice date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    snapshot = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    # Editable while a draft.
    period_start = models.DateField(_("service period from"))
    period_end = models.DateField(_("service period until"))
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=14)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES)
    currency = models.CharField(max_length=3, default="EUR")
    vat_treatment = models.CharField(max_length=20, choices=Vat.choices, default=Vat.DOMESTIC)
    recipient_name = models.CharField(_("recipient"), max_length=200, blank=True)
    recipient_street = models.CharField(_("street"), max_length=200, blank=True)
    recipient_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    recipient_city = models.CharField(_("city"), max_length=100, blank=True)
    recipient_country = models.CharField(_("country"), max_length=2, default="DE")
    recipient_vat_id = models.CharField(_("VAT id"), max_length=20, blank=True)
    recipient_email = models.EmailField(_("email"), blank=True)
    recipient_is_business = models.BooleanField(default=True)
    leitweg_id = models.CharField(_("Leitweg-ID"), max_length=46, blank=True)
    note = models.TextField(_("note"), blank=True)
    net_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    vat_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    gross_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    paid_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    # The gross total of the issued credit notes that correct this invoice.
    credited_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "sequence"], name="uniq_invoice_issuer_sequence"
            ),
            models.UniqueConstraint(
                fields=["issuer", "number"],
                condition=~Q(number=""),
                name="uniq_invoice_issuer_number",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number="", sequence__isnull=True)
                | (~Q(status="draft") & ~Q(number="") & Q(sequence__isnull=False)),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="invoice_period_order",
            ),
        ]
        indexes = [models.Index(fields=["agency", "status"], name="invoice_agency_status")]
        verbose_name = _("invoice")

    def __str__(self) -> str:
        return self.number or f"draft {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def open_amount(self) -> Decimal:
        """What is still to be paid: the total less credit notes and payments
        (negative if the recipient paid more, which is then owed back)."""
        return self.gross_total - self.credited_total - self.paid_total

    @property
    def can_be_credited(self) -> bool:
        return (
            self.kind == self.Kind.INVOICE
            and not self.is_draft
            and self.status not in (self.Status.CANCELLED, self.Status.CREDITED)
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            stored = (
                type(self)
                ._default_manager.filter(pk=self.pk)
                .values("status", *self._frozen_fields())
                .first()
            )
            if stored is not None and stored["status"] != self.Status.DRAFT:
                changed = [f for f in self._frozen_fields() if stored[f] != getattr(self, f)]
                if changed:
                    raise ImmutableInvoiceError(
                        f"Issued invoice {self.number}: {', '.join(changed)} cannot change"
                    )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.number or not self.is_draft:
            raise ImmutableInvoiceError("Issued invoices are kept, never deleted")
        return super().delete(*args, **kwargs)

    @classmethod
    def _frozen_fields(cls) -> list[str]:
        return [
            f.attname
            for f in cls._meta.concrete_fields
            if f.attname not in cls.MUTABLE_AFTER_ISSUE and f.attname != "id"
        ]


class InvoiceLine(UUIDModel):
    class Unit(models.TextChoices):
        HOUR = "HUR", _("hours")
        PIECE = "C62", _("pieces")
        MONTH = "MON", _("months")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=3, choices=Unit.choices, default=Unit.PIECE)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=4, decimal_places=2)
    net_amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The service period of a line whose service lies outside the invoice's period (time
    # billed late); empty otherwise.
    service_start = models.DateField(_("service from"), null=True, blank=True)
    service_end = models.DateField(_("service until"), null=True, blank=True)
    # On a credit note: the line of the corrected invoice this credits (part of).
    credits_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credits"
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="uniq_line_position")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if Invoice.objects.filter(pk=self.invoice_id).exclude(status="draft").exists():
            raise ImmutableInvoiceError("Lines of an issued invoice cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if Invoice.objects.filter(pk=self.invoice_id).exclude(status="draft").exists():
            raise ImmutableInvoiceError("Lines of an issued invoice cannot change")
        return super().delete(*args, **kwargs)


class InvoicedTime(models.Model):
    """Which time entries an invoice bills: each entry once."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="billed_time")
    time_entry = models.OneToOneField(TimeEntry, on_delete=models.PROTECT, related_name="+")


class Payment(UUIDModel):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on"]
