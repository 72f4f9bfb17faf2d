"""Which VAT rules an invoice follows, and the note each case must carry.

* the issuer is a small business (§ 19 UStG): no VAT, with the § 19 note;
* a business in another EU country with a VAT id: reverse charge (§ 13b UStG,
  Art. 196 of the VAT Directive), no VAT, both VAT ids on the invoice;
* a recipient outside the EU: the service is not taxable in Germany (§ 3a Abs. 2 UStG
  for businesses), no VAT;
* everything else (German recipients, EU consumers): German VAT at 19, 7 or 0 %.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from delegate.billing.models import Invoice

EU_COUNTRIES = frozenset(
    (
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    )
)  # fmt: skip
VAT_RATES = (Decimal("19.00"), Decimal("7.00"), Decimal("0.00"))

NOTES: dict[str, Any] = {
    Invoice.Vat.SMALL_BUSINESS: _("No VAT is charged: small business according to § 19 UStG."),
    Invoice.Vat.REVERSE_CHARGE: _(
        "Reverse charge: the recipient of the service is liable for the VAT"
        " (§ 13b UStG, Art. 196 Directive 2006/112/EC)."
    ),
    Invoice.Vat.NON_EU: _(
        "Not taxable in Germany: the place of supply is outside Germany (§ 3a Abs. 2 UStG)."
    ),
}

# EN 16931 VAT category codes (UNTDID 5305).
CATEGORY: dict[str, str] = {
    Invoice.Vat.SMALL_BUSINESS: "E",
    Invoice.Vat.REVERSE_CHARGE: "AE",
    Invoice.Vat.NON_EU: "O",
}


def treatment(
    *, issuer_is_small_business: bool, country: str, vat_id: str, is_business: bool
) -> str:
    if issuer_is_small_business:
        return Invoice.Vat.SMALL_BUSINESS
    country = country.upper()
    if country == "DE":
        return Invoice.Vat.DOMESTIC
    if country in EU_COUNTRIES:
        return Invoice.Vat.REVERSE_CHARGE if (is_business and vat_id) else Invoice.Vat.DOMESTIC
    return Invoice.Vat.NON_EU


def effective_rate(vat_treatment: str, rate: Decimal) -> Decimal:
    """The rate a line is taxed at: its own under German VAT, else zero."""
    return rate if vat_treatment == Invoice.Vat.DOMESTIC else Decimal("0.00")


def category(vat_treatment: str, rate: Decimal) -> str:
    if vat_treatment == Invoice.Vat.DOMESTIC:
        return "S" if rate > 0 else "Z"
    return CATEGORY[vat_treatment]
