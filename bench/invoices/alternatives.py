"""Other PDF libraries drawing the same invoice page as ``delegate.billing.pdf``, for
``documents.py``'s comparison. Only the libraries installed are measured; they are
not project dependencies (``uv run --with reportlab …``, see README.md)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

from delegate.billing.pdf import FONT_DIR


def reportlab_page(snapshot: dict[str, Any]) -> Callable[[], bytes]:
    """The same text, lines and rules with reportlab's canvas and an embedded DejaVu
    subset (not PDF/A: the open-source edition writes no output intent or PDF/A
    metadata)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", str(FONT_DIR / "DejaVuSans.ttf")))
    issuer, recipient = snapshot["issuer"], snapshot["recipient"]

    def render() -> bytes:
        buffer = io.BytesIO()
        page = canvas.Canvas(buffer, pagesize=A4)
        page.setFont("DejaVu", 8)
        y = 800.0
        page.drawString(28, y, f"{issuer['legal_name']} · {issuer['street']} · {issuer['city']}")
        y -= 30
        page.setFont("DejaVu", 10)
        for text in (recipient["name"], recipient["street"], recipient["city"]):
            page.drawString(28, y, text)
            y -= 14
        page.setFont("DejaVu", 15)
        page.drawString(28, y, f"Rechnung {snapshot['number']}")
        y -= 20
        page.setFont("DejaVu", 10)
        for line in snapshot["lines"]:
            description = line["description"]
            page.drawString(28, y, str(line["position"]))
            page.drawString(56, y, description[:45])
            page.drawRightString(380, y, line["quantity"])
            page.drawRightString(450, y, line["unit_price"])
            page.drawRightString(490, y, line["vat_rate"])
            page.drawRightString(560, y, line["net_amount"])
            if description[45:]:
                y -= 14
                page.drawString(56, y, description[45:])
            page.line(28, y - 3, 560, y - 3)
            y -= 14
        for text in (snapshot["net_total"], snapshot["vat_total"], snapshot["gross_total"]):
            page.drawRightString(560, y, text)
            y -= 14
        page.drawString(28, y, f"IBAN {issuer['iban']}, {snapshot['number']}")
        page.setFont("DejaVu", 7)
        page.drawCentredString(297, 40, f"{issuer['legal_name']} · {issuer['vat_id']}")
        page.showPage()
        page.save()
        return buffer.getvalue()

    return render


def available(snapshot: dict[str, Any]) -> dict[str, Callable[[], object]]:
    found: dict[str, Callable[[], object]] = {}
    with contextlib.suppress(ImportError):  # not installed: not measured
        found["pdf_reportlab_ms"] = reportlab_page(snapshot)
    return found
