"""bench/invoices/documents.py: CPU time per invoice document, stage by stage, without
a database: the CII XML (drafthorse, with and without its XSD check), the visible PDF
(fpdf2, and the alternatives that are installed), and embedding the XML (PDF/A-3).

    .venv/bin/python bench/invoices/documents.py [--count 200]
    # with the alternatives (installed for this run only, not project dependencies):
    .cache/bootstrap/bin/uv run --with reportlab python bench/invoices/documents.py
    (uv then runs the project's environment with reportlab added for this run)

Times are CPU seconds of this process (``time.process_time``), so they hold on a busy
machine; the median of ``--rounds`` rounds is printed. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def sample_snapshot(lines: int = 6) -> dict[str, Any]:
    """A German invoice with ``lines`` lines, as ``invoicing._snapshot`` freezes it."""
    rows = [
        {
            "position": n,
            "description": f"Assistance, 10/2026 — Buchhaltung und Terminplanung {n}",
            "quantity": "2.25",
            "unit": "HUR",
            "unit_price": "60.00",
            "vat_rate": "19.00",
            "vat_category": "S",
            "net_amount": "135.00",
        }
        for n in range(1, lines + 1)
    ]
    net = 135 * lines
    return {
        "number": "RE-00042", "kind": "invoice", "corrects": "", "corrects_date": "",
        "issue_date": "2026-11-02", "due_date": "2026-11-16", "period_start": "2026-10-01",
        "period_end": "2026-10-31", "payment_terms_days": 14, "language": "de",
        "currency": "EUR", "vat_treatment": "domestic", "vat_note": "", "note": "",
        "leitweg_id": "",
        "issuer": {
            "legal_name": "Bench Büro GmbH", "street": "Hafenstraße 1", "postal_code": "20457",
            "city": "Hamburg", "country": "DE", "vat_id": "DE136695976",
            "tax_number": "22/815/08154", "register_entry": "HRB 12345, Amtsgericht Hamburg",
            "managing_directors": "Olga Owner", "email": "billing@bench.test",
            "phone": "+49 40 1234567", "contact_name": "", "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX", "bank_name": "",
        },
        "recipient": {
            "name": "Client 0042 GmbH", "street": "Am Markt 5", "postal_code": "28195",
            "city": "Bremen", "country": "DE", "vat_id": "", "email": "c42@bench.test",
        },
        "lines": rows,
        "vat_groups": [
            {"category": "S", "rate": "19.00", "basis": f"{net}.00",
             "tax": f"{net * 19 / 100:.2f}"}
        ],
        "net_total": f"{net}.00",
        "vat_total": f"{net * 19 / 100:.2f}",
        "gross_total": f"{net * 119 / 100:.2f}",
    }  # fmt: skip


def cpu_ms(work: Callable[[], object], count: int, rounds: int) -> float:
    """Median CPU milliseconds of one call, over ``rounds`` rounds of ``count`` calls."""
    work()  # imports, caches and font subsets are made once per process
    medians = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(count):
            work()
        medians.append((time.process_time() - started) / count * 1000)
    return round(statistics.median(medians), 2)


def embed_xml(visible: bytes, xml: bytes, snapshot: dict[str, Any]) -> bytes:
    """The visible PDF with ``xml`` embedded as ``factur-x.xml`` (Factur-X / ZUGFeRD,
    profile EN 16931) and the Factur-X XMP metadata, by factur-x re-writing the PDF.
    How invoices were made before ``render_pdf`` embedded the XML itself; kept here as
    the comparison."""
    from facturx import generate_from_binary

    result: bytes = generate_from_binary(
        visible,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # drafthorse checked it against the same XSD
        lang=snapshot["language"],
        pdf_metadata={
            "author": snapshot["issuer"]["legal_name"],
            "keywords": "Factur-X, ZUGFeRD",
            "title": f"{snapshot['number']}",
            "subject": f"{snapshot['number']}",
        },
    )
    return result


def stages(snapshot: dict[str, Any]) -> dict[str, Callable[[], object]]:
    from delegate.billing import einvoice, pdf

    xml = einvoice.build(snapshot).serialize(schema="FACTUR-X_EN16931")
    visible = pdf.render_pdf(snapshot)
    found: dict[str, Callable[[], object]] = {
        "xml_ms": lambda: einvoice.build(snapshot).serialize(schema="FACTUR-X_EN16931"),
        "xml_without_xsd_ms": lambda: einvoice.build(snapshot).serialize(schema=None),
        "pdf_fpdf2_ms": lambda: pdf.render_pdf(snapshot),
        "embed_facturx_ms": lambda: embed_xml(visible, xml, snapshot),  # the old way
        "pdf_with_xml_fpdf2_ms": lambda: pdf.render_pdf(snapshot, xml),  # fpdf2 embeds it
        "pdf_and_xml_ms": lambda: pdf.documents(snapshot),
    }
    from bench.invoices import alternatives

    found.update(alternatives.available(snapshot))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50, help="documents per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, default=6, help="lines per invoice")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "delegate.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    snapshot = sample_snapshot(args.lines)
    figures: dict[str, Any] = {"bench": "invoice_documents", "lines": args.lines}
    for name, work in stages(snapshot).items():
        figures[name] = cpu_ms(work, args.count, args.rounds)
        print(f"{name:28} {figures[name]:8.2f} ms CPU per document")
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
