"""Forms of the billing pages. They only parse; choices are limited to the member's
agency and the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Member
from delegate.billing.models import Contract, Invoice, InvoiceLine, Issuer
from delegate.billing.vat import VAT_RATES
from delegate.clients.models import Client
from delegate.tasks.forms import add_service_errors
from delegate.tasks.models import Category

__all__ = ["ContractForm", "DraftForm", "LineForm", "PaymentForm", "RunForm", "add_service_errors"]

MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


class RunForm(forms.Form):
    issuer = forms.ModelChoiceField(label=_("Issuer"), queryset=Issuer.objects.none())
    month = forms.DateField(label=_("Month"), widget=MONTH, input_formats=["%Y-%m", "%Y-%m-%d"])

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = Issuer.objects.filter(  # type: ignore[attr-defined]
            agency_id=member.agency_id
        )


class LineForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=500)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=10, decimal_places=2)
    unit = forms.ChoiceField(label=_("Unit"), choices=InvoiceLine.Unit.choices)
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=12, decimal_places=2)
    vat_rate = forms.TypedChoiceField(
        label=_("VAT rate (%)"),
        choices=[(str(rate), f"{rate.normalize()} %") for rate in VAT_RATES],
        coerce=lambda value: next(rate for rate in VAT_RATES if str(rate) == value),
        initial=str(VAT_RATES[0]),
    )


class DraftForm(forms.ModelForm[Invoice]):
    class Meta:
        model = Invoice
        fields = [
            "recipient_name", "recipient_street", "recipient_postal_code", "recipient_city",
            "recipient_country", "recipient_vat_id", "recipient_email", "leitweg_id",
            "language", "period_start", "period_end", "payment_terms_days", "note",
        ]  # fmt: skip
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }


class NewDraftForm(DraftForm):
    issuer = forms.ModelChoiceField(label=_("Issuer"), queryset=Issuer.objects.none())

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = Issuer.objects.filter(  # type: ignore[attr-defined]
            agency_id=member.agency_id
        )

    class Meta(DraftForm.Meta):
        fields = ["issuer", *DraftForm.Meta.fields]


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2)
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class GapForm(forms.Form):
    issuer = forms.ModelChoiceField(label=_("Issuer"), queryset=Issuer.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = Issuer.objects.filter(  # type: ignore[attr-defined]
            agency_id=member.agency_id
        )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ContractForm(forms.ModelForm[Contract]):
    """All terms of a contract version: the contract's fields, an hourly rate per
    assistant level and per assistant, and a fixed price per task category of the
    agency (empty: none). ``contract`` fills it with that version's terms."""

    junior_rate = forms.DecimalField(label=_("Hourly rate, junior"), required=False, min_value=0)
    regular_rate = forms.DecimalField(label=_("Hourly rate, regular"), required=False, min_value=0)
    senior_rate = forms.DecimalField(label=_("Hourly rate, senior"), required=False, min_value=0)

    class Meta:
        model = Contract
        fields = [
            "starts_on", "hourly_rate", "rounding_increment", "rounding_mode", "monthly_fee",
            "package_hours", "package_fee", "rollover_cap_hours", "rollover_months",
            "overage_rate", "overage_needs_approval", "needs_time_approval",
            "payment_terms_days", "vat_rate", "is_business", "leitweg_id",
        ]  # fmt: skip
        widgets = {"starts_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(
        self, member: Member, *args: Any, contract: Contract | None = None, **kwargs: Any
    ) -> None:
        if contract is not None:
            kwargs.setdefault("instance", Contract(**{
                f.attname: getattr(contract, f.attname)
                for f in Contract._meta.concrete_fields if f.name != "id"
            }))  # fmt: skip
        super().__init__(*args, **kwargs)
        self.assistants = list(
            Member.objects.filter(agency_id=member.agency_id, is_active=True)
            .select_related("user")
            .order_by("user__name")
        )
        self.categories = list(Category.objects.filter(agency_id=member.agency_id))
        for assistant in self.assistants:
            self.fields[f"rate_{assistant.pk.hex}"] = forms.DecimalField(
                label=_("Hourly rate, %(name)s") % {"name": assistant},
                required=False,
                min_value=0,
            )
        for category in self.categories:
            self.fields[f"price_{category.pk.hex}"] = forms.DecimalField(
                label=_("Price per task, %(category)s") % {"category": category},
                required=False,
                min_value=0,
            )
        if contract is not None and not self.is_bound:
            for rate in contract.rates.all():
                name = f"rate_{rate.member_id.hex}" if rate.member_id else f"{rate.level}_rate"
                if name in self.fields:
                    self.initial[name] = rate.hourly_rate
            for price in contract.task_prices.all():
                self.initial[f"price_{price.category_id.hex}"] = price.price

    def level_rates(self) -> dict[str, Any]:
        return {
            level: self.cleaned_data[f"{level}_rate"]
            for level in ("junior", "regular", "senior")
            if self.cleaned_data.get(f"{level}_rate") is not None
        }

    def member_rates(self) -> dict[Member, Any]:
        return {
            assistant: self.cleaned_data[f"rate_{assistant.pk.hex}"]
            for assistant in self.assistants
            if self.cleaned_data.get(f"rate_{assistant.pk.hex}") is not None
        }

    def task_prices(self) -> dict[Category, Any]:
        return {
            category: self.cleaned_data[f"price_{category.pk.hex}"]
            for category in self.categories
            if self.cleaned_data.get(f"price_{category.pk.hex}") is not None
        }

    def contract_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def terms(self) -> dict[str, Any]:
        """Everything ``services.create_contract`` takes."""
        return {
            "level_rates": self.level_rates(),
            "member_rates": self.member_rates(),
            "task_prices": self.task_prices(),
            **self.contract_fields(),
        }


class IssuerForm(forms.ModelForm[Issuer]):
    """The agency itself, or (with ``client``) a client whose invoicing the agency runs."""

    client = forms.ModelChoiceField(
        label=_("Invoicing on behalf of (empty: the agency itself)"),
        queryset=Client.objects.none(),
        required=False,
    )

    class Meta:
        model = Issuer
        fields = [
            "legal_name", "street", "postal_code", "city", "country", "vat_id", "tax_number",
            "register_entry", "managing_directors", "email", "phone", "contact_name", "iban",
            "bic", "bank_name", "is_small_business", "number_prefix",
        ]  # fmt: skip

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(  # type: ignore[attr-defined]
            agency_id=member.agency_id
        )

    def issuer_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CreditForm(forms.Form):
    """A credit note for part of an invoice: per line, a quantity to credit or a net
    amount (empty: not credited), and the reason."""

    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, lines: list[InvoiceLine], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"quantity_{line.pk}"] = forms.DecimalField(
                label=_("Quantity to credit"), required=False, min_value=0,
                max_digits=10, decimal_places=2,
            )  # fmt: skip
            self.fields[f"amount_{line.pk}"] = forms.DecimalField(
                label=_("or net amount to credit"), required=False, min_value=0,
                max_digits=12, decimal_places=2,
            )  # fmt: skip

    def rows(self) -> list[tuple[InvoiceLine, forms.BoundField, forms.BoundField]]:
        return [
            (line, self[f"quantity_{line.pk}"], self[f"amount_{line.pk}"]) for line in self.lines
        ]

    def credits(self) -> dict[str, dict[Any, Any]]:
        """``quantities`` and ``amounts`` for ``credit_invoice`` (lines left empty or at
        zero are not credited)."""
        data = self.cleaned_data
        return {
            kind: {
                line.pk: data[f"{prefix}_{line.pk}"]
                for line in self.lines
                if data.get(f"{prefix}_{line.pk}")
            }
            for kind, prefix in (("quantities", "quantity"), ("amounts", "amount"))
        }
