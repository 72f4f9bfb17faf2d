"""The invoice as a PDF/A-3 (fpdf2, with embedded DejaVu fonts and an sRGB output
intent) with the EN 16931 CII XML embedded as ``factur-x.xml`` (fpdf2 writes the associated
file and factur-x's XMP metadata, ``_attach_xml``). Rendered from the issued invoice's
snapshot only. The font is parsed and subset once per process, not per document
(``_add_font``, ``_embedded_subset``; bench/invoices/README.md has the figures).

fpdf2 over weasyprint: no Pango needed, and it is several times faster per page, which
the invoice-run benchmark (``bench/invoices``) needs."""

from __future__ import annotations

import functools
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_currency, format_decimal
from django.utils import translation
from django.utils.translation import gettext as _

from delegate.billing import einvoice
from delegate.billing.models import Invoice, InvoiceLine

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian: fonts-dejavu-core
# Latin (with Extended-A/B), general punctuation, currency symbols: the scripts of the
# European names and addresses invoices carry. Parsing the full DejaVu (6,000 glyphs)
# for every document cost ten times the rest of the PDF.
GLYPH_RANGES = ((0x20, 0x24F), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2116, 0x2122))


_SUBSET_FILES: dict[str, str] = {}  # the file ``_font`` made -> the DejaVu font's name


@functools.cache
def _font(name: str) -> str:
    """A Latin subset of a DejaVu font, made once per process in the temp folder."""
    import hashlib
    import tempfile

    from fontTools import subset

    source = FONT_DIR / name
    digest = hashlib.sha256(f"{source.stat().st_mtime_ns}{GLYPH_RANGES}".encode()).hexdigest()
    target = Path(tempfile.gettempdir()) / f"delegate-{digest[:16]}-{name}"
    if not target.exists():
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        font = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(
            unicodes=[c for start, end in GLYPH_RANGES for c in range(start, end + 1)]
        )
        subsetter.subset(font)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(partial))
        partial.replace(target)  # atomic: concurrent processes never read half a file
    _SUBSET_FILES[str(target)] = name
    return str(target)


# Characters every embedded font subset carries, whether a document uses them or not:
# with them, nearly all invoices need the same subset, which is then made once per
# process (``_embedded_subset``) instead of once per document.
COMMON_CHARACTERS = "".join(chr(c) for c in range(0x20, 0x7F)) + "\xa0äöüÄÖÜß€–—·§°„“”‚‘’…×"
# fpdf2's own subsetting options (fpdf/output.py, ``_add_fonts``).
_DROP_TABLES = ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT",
                "CBLC", "EBDT", "EBLC", "EBSC", "SVG ", "CPAL", "COLR"]  # fmt: skip


class _SubsetFont:
    """Stands in for fpdf2's parsed font at output time: an embedded subset made
    before, with what fpdf2 reads from it (``getGlyphID``, ``save``)."""

    def __init__(self, data: bytes, glyph_ids: dict[str, int]) -> None:
        self.data, self.glyph_ids = data, glyph_ids

    def getGlyphID(self, name: str) -> int:
        return self.glyph_ids[name]

    def save(self, file: Any) -> None:
        file.write(self.data)

    def __contains__(self, table: str) -> bool:
        return False  # no CFF table: a TrueType font

    def close(self) -> None:
        pass


@functools.lru_cache(maxsize=64)
def _embedded_subset(name: str, extra_glyphs: frozenset[str]) -> _SubsetFont:
    """The font ``name`` subset to the common characters and ``extra_glyphs``, as
    fpdf2 would subset it, compiled once per process."""
    import io

    from fontTools import subset, ttLib

    font = ttLib.TTFont(_font(name))
    cmap = font.getBestCmap()
    glyphs = {cmap[ord(c)] for c in COMMON_CHARACTERS if ord(c) in cmap} | extra_glyphs
    options = subset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += _DROP_TABLES
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=sorted(glyphs))
    subsetter.subset(font)
    output = io.BytesIO()
    font.save(output)
    return _SubsetFont(output.getvalue(), {g: font.getGlyphID(g) for g in font.getGlyphOrder()})


class _Subsetter:
    """fontTools' ``Subsetter`` as fpdf2's output uses it, leaving a ``_SubsetFont``
    as it is (it is a subset already)."""

    def __init__(self, options: Any) -> None:
        from fontTools import subset

        self.subsetter = subset.Subsetter(options)

    def populate(self, **kwargs: Any) -> None:
        self.subsetter.populate(**kwargs)

    def subset(self, font: Any) -> None:
        if not isinstance(font, _SubsetFont):
            self.subsetter.subset(font)


@functools.cache
def _output_producer() -> type:
    """fpdf2's output producer, embedding our fonts from ``_embedded_subset``."""
    import types

    from fontTools import subset
    from fpdf import output
    from fpdf.fonts import TTFFont

    # fpdf2 subsets with ``output.ftsubset.Subsetter``; ours passes other fonts on.
    output.ftsubset = types.SimpleNamespace(Options=subset.Options, Subsetter=_Subsetter)

    class Producer(output.OutputProducer):
        def _add_fonts(self, *args: Any, **kwargs: Any) -> Any:
            for font in self.fpdf.fonts.values():
                name = _SUBSET_FILES.get(str(getattr(font, "ttffile", "")))
                if name and isinstance(font, TTFFont) and not font.color_font:
                    used = frozenset(font.subset.get_all_glyph_names())
                    font.ttfont = _embedded_subset(name, used - _common_glyphs(name))
            return super()._add_fonts(*args, **kwargs)

    return Producer


@functools.cache
def _parsed_font(family: str, name: str) -> Any:
    """fpdf2's font object for ``name`` (fontTools parses the TTF), made once per process."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font(family, "", _font(name))
    return pdf.fonts[family.lower()]


def _add_font(pdf: Any, family: str, name: str) -> None:
    """``pdf.add_font(family, "", _font(name))`` without parsing the font again: a copy
    of the parsed font object sharing the parsed font and its metrics, with its own
    state for this document (as fpdf2's ``TTFFont.__init__`` sets it up)."""
    import copy

    from fpdf.fonts import SubsetMap

    parsed = _parsed_font(family, name)
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    font.cw = copy.copy(parsed.cw)
    font.glyph_ids = dict(parsed.glyph_ids)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.desc = copy.copy(parsed.desc)
    font.subset = SubsetMap(font)
    pdf.fonts[family.lower()] = font


@functools.cache
def _common_glyphs(name: str) -> frozenset[str]:
    return frozenset(_embedded_subset(name, frozenset()).glyph_ids)


@functools.cache
def _srgb_profile() -> bytes:
    from PIL import ImageCms

    profile: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile


def _money(value: str, currency: str, locale: str) -> str:
    return format_currency(Decimal(value), currency, locale=locale)


def _date(value: str, language: str) -> str:
    year, month, day = value.split("-")
    return f"{day}.{month}.{year}" if language == "de" else f"{year}-{month}-{day}"


def _title(snapshot: dict[str, Any]) -> str:
    if snapshot["kind"] == Invoice.Kind.CANCELLATION:
        return _("Cancellation invoice")
    if snapshot["kind"] == Invoice.Kind.CREDIT_NOTE:
        return _("Credit note")
    return _("Invoice")


def render_pdf(snapshot: dict[str, Any], xml: bytes | None = None) -> bytes:
    """The invoice as a PDF/A-3B; with ``xml``, that embedded as ``factur-x.xml``
    (Factur-X / ZUGFeRD, profile EN 16931) with the Factur-X XMP metadata."""
    import datetime as dt

    import fpdf
    from fpdf import FPDF
    from fpdf.enums import OutputIntentSubType
    from fpdf.output import PDFICCProfile

    language = snapshot["language"]
    locale = "de_DE" if language == "de" else "en_GB"
    issuer, recipient = snapshot["issuer"], snapshot["recipient"]

    class InvoicePDF(FPDF):
        def footer(self) -> None:  # on every page, below the page-break margin
            _footer(self, issuer)

    with translation.override(language):
        pdf = InvoicePDF(format="A4", enforce_compliance="PDFA_3B")
        pdf.set_lang(language)
        pdf.set_title(f"{_title(snapshot)} {snapshot['number']}")
        pdf.set_author(issuer["legal_name"])
        pdf.set_creator("Delegate")
        pdf.set_producer(f"fpdf2 {fpdf.FPDF_VERSION}")
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        pdf.set_creation_date(created)
        if xml is not None:
            _attach_xml(pdf, xml, snapshot, created)
        pdf.add_output_intent(
            OutputIntentSubType.PDFA,
            output_condition_identifier="sRGB",
            registry_name="https://www.color.org",
            dest_output_profile=PDFICCProfile(contents=_srgb_profile(), n=3, alternate="DeviceRGB"),
            info="sRGB IEC61966-2.1",
        )
        # One embedded font: each one costs time in every document.
        _add_font(pdf, "DejaVu", "DejaVuSans.ttf")
        pdf.set_auto_page_break(auto=True, margin=25)
        pdf.add_page()
        pdf.set_font("DejaVu", size=8)
        sender = " · ".join(
            (issuer["legal_name"], issuer["street"], f"{issuer['postal_code']} {issuer['city']}")
        )
        _cell(pdf, 0, 5, sender, next_line=True)
        pdf.ln(4)
        pdf.set_font("DejaVu", size=10)
        address = [
            recipient["name"],
            recipient["street"],
            f"{recipient['postal_code']} {recipient['city']}",
            recipient["country"] if recipient["country"] != "DE" else "",
        ]
        if recipient["vat_id"]:
            address.append(_("VAT id: %(id)s") % {"id": recipient["vat_id"]})
        for line in filter(None, address):
            _cell(pdf, 0, 5, line, next_line=True)
        pdf.ln(8)
        pdf.set_font("DejaVu", size=15)
        _cell(pdf, 0, 8, f"{_title(snapshot)} {snapshot['number']}", next_line=True)
        pdf.set_font("DejaVu", size=10)
        facts = [
            (_("Invoice date"), _date(snapshot["issue_date"], language)),
            (
                _("Service period"),
                f"{_date(snapshot['period_start'], language)} – "
                f"{_date(snapshot['period_end'], language)}",
            ),
            (_("Due date"), _date(snapshot["due_date"], language)),
        ]
        if snapshot["corrects"]:
            facts.append((_("Corrects invoice"), snapshot["corrects"]))
        if snapshot["leitweg_id"]:
            facts.append((_("Leitweg-ID"), snapshot["leitweg_id"]))
        for label, value in facts:
            _cell(pdf, 45, 5, label)
            _cell(pdf, 0, 5, value, next_line=True)
        pdf.ln(5)
        _lines_table(pdf, snapshot, locale)
        pdf.ln(4)
        for text in (snapshot["vat_note"], snapshot["note"], _payment_text(snapshot, locale)):
            if text:
                for part in _wrap(pdf, text, pdf.epw):
                    _cell(pdf, 0, 5, part, next_line=True)
                pdf.ln(2)
        return bytes(pdf.output(output_producer_class=_output_producer()))


# Column widths (mm) and alignment of the lines table; A4 less 10 mm margins is 190 mm.
COLUMNS = ((10, "L"), (84, "L"), (26, "R"), (28, "R"), (14, "R"), (28, "R"))
ROW_HEIGHT = 5


def _wrap(pdf: Any, text: str, width: float) -> list[str]:
    """``text`` broken into lines that fit ``width`` in the current font, at spaces
    (a word too long for a line is cut). fpdf2's ``multi_cell`` measures each line
    again for every character added, which made wrapped text the slowest part."""
    room = width - 2 * pdf.c_margin
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if pdf.get_string_width(candidate) <= room:
                line = candidate
                continue
            if line:
                lines.append(line)
            while pdf.get_string_width(word) > room and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and pdf.get_string_width(word[:cut]) > room:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _cell(
    pdf: Any, width: float, height: float, text: str, align: str = "L", *, next_line: bool = False
) -> None:
    """One line of plain text in a box ``width`` wide (0: to the right margin), placed
    as fpdf2's ``cell`` places it (padding, baseline, alignment), then to the right of
    the box or to the next line. ``cell`` goes through fpdf2's text layout (markdown,
    shaping, fragments) for every call, which was most of the PDF's time; ``text``
    writes the string directly, through the same font subset."""
    if pdf.will_page_break(height):
        pdf.add_page()
    room = width or (pdf.w - pdf.r_margin - pdf.x)
    if text:
        text_width = pdf.get_string_width(text)
        if align == "R":
            dx = room - pdf.c_margin - text_width
        elif align == "C":
            dx = (room - text_width) / 2
        else:
            dx = pdf.c_margin
        pdf.text(pdf.x + dx, pdf.y + 0.5 * height + 0.3 * pdf.font_size, text)
    if next_line:
        pdf.set_xy(pdf.l_margin, pdf.y + height)
    else:
        pdf.set_x(pdf.x + room)


def _row(pdf: Any, cells: list[str]) -> None:
    """One table row, the description wrapping over as many lines as it needs.

    Plain cells rather than fpdf2's ``table()``, which lays every cell out twice and
    cost half the time of the whole document (bench/invoices/documents.py)."""
    left = pdf.l_margin
    description = _wrap(pdf, cells[1], COLUMNS[1][0])
    height = ROW_HEIGHT * len(description)
    if pdf.will_page_break(height):
        pdf.add_page()
    top = pdf.get_y()
    x = left
    for index, (text, (column_width, align)) in enumerate(zip(cells, COLUMNS, strict=True)):
        if index == 1:
            for number, part in enumerate(description):
                pdf.set_xy(x, top + number * ROW_HEIGHT)
                _cell(pdf, column_width, ROW_HEIGHT, part, align)
        else:
            pdf.set_xy(x, top)
            _cell(pdf, column_width, ROW_HEIGHT, text, align)
        x += column_width
    pdf.set_xy(left, top + height)
    pdf.line(left, top + height, left + sum(w for w, _a in COLUMNS), top + height)


def _lines_table(pdf: Any, snapshot: dict[str, Any], locale: str) -> None:
    currency = snapshot["currency"]
    units = dict(InvoiceLine.Unit.choices)
    pdf.set_font("DejaVu", size=9)
    _row(pdf, ["#", _("Description"), _("Quantity"), _("Unit price"), _("VAT"), _("Amount")])
    pdf.set_font("DejaVu", size=10)
    for line in snapshot["lines"]:
        _row(
            pdf,
            [
                str(line["position"]),
                line["description"],
                f"{format_decimal(Decimal(line['quantity']), locale=locale)} "
                f"{units.get(line['unit'], line['unit'])}",
                _money(line["unit_price"], currency, locale),
                f"{format_decimal(Decimal(line['vat_rate']), locale=locale)} %",
                _money(line["net_amount"], currency, locale),
            ],
        )
    pdf.ln(2)
    rows = [(_("Net amount"), snapshot["net_total"])]
    for group in snapshot["vat_groups"]:
        rate = format_decimal(Decimal(group["rate"]), locale=locale)
        rows.append(
            (
                _("VAT %(rate)s %% on %(basis)s")
                % {"rate": rate, "basis": _money(group["basis"], currency, locale)},
                group["tax"],
            )
        )
    rows.append((_("Total"), snapshot["gross_total"]))
    for index, (label, amount) in enumerate(rows):
        if index == len(rows) - 1:
            pdf.set_font("DejaVu", size=11)
        _cell(pdf, 130, 6, label, "R")
        _cell(pdf, 0, 6, _money(amount, currency, locale), "R", next_line=True)
    pdf.set_font("DejaVu", size=10)


def _payment_text(snapshot: dict[str, Any], locale: str) -> str:
    issuer = snapshot["issuer"]
    if snapshot["kind"] != Invoice.Kind.INVOICE:
        return _("%(amount)s is credited against invoice %(number)s of %(date)s.") % {
            "amount": _money(snapshot["gross_total"], snapshot["currency"], locale),
            "number": snapshot["corrects"],
            "date": _date(snapshot["corrects_date"], snapshot["language"]),
        }
    return _(
        "Please pay %(amount)s by %(due)s to %(name)s, IBAN %(iban)s%(bic)s, quoting %(number)s."
    ) % {
        "amount": _money(snapshot["gross_total"], snapshot["currency"], locale),
        "due": _date(snapshot["due_date"], snapshot["language"]),
        "name": issuer["legal_name"],
        "iban": issuer["iban"],
        "bic": f", BIC {issuer['bic']}" if issuer["bic"] else "",
        "number": snapshot["number"],
    }


def _footer(pdf: Any, issuer: dict[str, str]) -> None:
    pdf.set_y(-22)
    pdf.set_font("DejaVu", size=7)
    parts = [
        issuer["legal_name"],
        f"{issuer['street']}, {issuer['postal_code']} {issuer['city']}",
        issuer["email"],
        issuer["phone"],
    ]
    tax = []
    if issuer["vat_id"]:
        tax.append(_("VAT id: %(id)s") % {"id": issuer["vat_id"]})
    if issuer["tax_number"]:
        tax.append(_("Tax number: %(number)s") % {"number": issuer["tax_number"]})
    legal = [issuer["register_entry"], issuer["managing_directors"]]
    for row in (parts, tax, legal):
        text = " · ".join(filter(None, row))
        if text:
            _cell(pdf, 0, 4, text, "C", next_line=True)


def warm_up() -> None:
    """Import the PDF and e-invoice libraries and make the font subset and the colour
    profile now, so processes forked afterwards (invoice-run workers) share them
    instead of each paying for them with its first invoice."""
    import facturx  # noqa: F401
    import fpdf  # noqa: F401

    _parsed_font("DejaVu", "DejaVuSans.ttf")
    _common_glyphs("DejaVuSans.ttf")
    _srgb_profile()


def _attach_xml(pdf: Any, xml: bytes, snapshot: dict[str, Any], created: Any) -> None:
    """fpdf2 embeds ``xml`` as the Factur-X associated file (AFRelationship Data,
    listed in the catalogue's /AF) and writes factur-x's XMP (pdfaid part 3 /
    conformance B, the Factur-X extension schema and fields), with the title, author
    and producer of the document information dictionary, which PDF/A needs to agree."""
    from facturx.facturx import FACTURX_FILENAME, FACTURX_LEVEL2xmp, generate_xmp_object
    from lxml import etree

    title = f"{_title(snapshot)} {snapshot['number']}"
    pdf.set_subject(title)
    pdf.embed_file(
        bytes=xml,
        basename=FACTURX_FILENAME,
        modification_date=created,
        mime_type="text/xml",
        associated_file_relationship="Data",
        desc="Factur-X XML file",
        compress=True,
        checksum=True,
    )
    xmp = generate_xmp_object(
        {
            "pdfa3_flavor": "B",
            "title": title,
            "author": snapshot["issuer"]["legal_name"],
            "subject": title,
            "producer": pdf.producer,
            "creator_tool": pdf.creator,
            "timestamp": created.isoformat(),
            "version": "1.0",
            "documenttype": "INVOICE",
            "xml_filename": FACTURX_FILENAME,
            "xmp_level": FACTURX_LEVEL2xmp["en16931"],
            "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        }
    )
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    for description in xmp.iter(f"{rdf}Description"):
        description.set(f"{rdf}about", "")  # XMP packets in PDF/A name their resource
    pdf.set_xmp_metadata(etree.tostring(xmp, encoding="unicode"))


def documents(snapshot: dict[str, Any]) -> tuple[bytes, bytes]:
    """The PDF/A-3 with the CII XML embedded, and the XML itself (built once)."""
    xml = einvoice.snapshot_xml(snapshot)
    return render_pdf(snapshot, xml), xml


def invoice_documents(invoice: Invoice) -> tuple[bytes, bytes]:
    """An issued invoice's PDF (with the XML embedded) and its CII XML."""
    if invoice.is_draft:
        raise ValueError("Only issued invoices have documents")
    return documents(invoice.snapshot)


def invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF/A-3 with the CII XML embedded (Factur-X / ZUGFeRD, profile EN 16931)."""
    return invoice_documents(invoice)[0]
