"""The e-invoice: CII XML checked against the EN 16931 XSD and the official EN 16931
Schematron for every VAT case, XRechnung with a Leitweg-ID, cancellations; and the
PDF/A-3 carrying the XML."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from delegate.billing import invoicing
from delegate.billing.einvoice import XRECHNUNG, ZUGFERD, cii_xml
from delegate.billing.models import Invoice
from delegate.billing.pdf import invoice_pdf
from delegate.billing.tests.helpers import draft, issuer
from delegate.billing.tests.schematron import schematron_errors, xsd_errors
from delegate.testing import Cast

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def _xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


def _issued(cast: Cast, *, small: bool = False, **fields: object) -> Invoice:
    invoice = draft(cast, issuer(cast, is_small_business=small), **fields)
    invoicing.add_line(
        cast.alice, invoice, description="Travel booking", quantity=Decimal("1"),
        unit_price=Decimal("12.34"), vat_rate=Decimal("7.00"),
    )  # fmt: skip
    return invoicing.issue_invoice(cast.alice, invoice)


@pytest.mark.parametrize(
    ("fields", "small", "categories"),
    [
        ({}, False, ["S", "S"]),
        ({}, True, ["E"]),
        ({"recipient_country": "AT", "recipient_vat_id": "ATU13585627"}, False, ["AE"]),
        ({"recipient_country": "US"}, False, ["O"]),
    ],
    ids=["domestic-19-7", "small-business", "reverse-charge", "non-eu"],
)
def test_it_passes_the_en16931_rules_in_every_vat_case(
    cast: Cast, fields: dict[str, str], small: bool, categories: list[str]
) -> None:
    invoice = _issued(cast, small=small, **fields)
    xml = cii_xml(invoice)
    assert xsd_errors(xml) == []
    assert schematron_errors(xml) == []
    found = _xpath(
        xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()"
    )
    assert found == categories
    assert _xpath(xml, "//rsm:ExchangedDocument/ram:ID/text()") == [invoice.number]
    assert _xpath(xml, "//ram:DuePayableAmount/text()") == [str(invoice.gross_total)]


def test_the_rules_catch_a_wrong_total(cast: Cast) -> None:
    """The checker is not a rubber stamp."""
    xml = cii_xml(_issued(cast))
    broken = xml.replace(b"<ram:DuePayableAmount>", b"<ram:DuePayableAmount>1")
    assert any(error.startswith("BR-CO-16") for error in schematron_errors(broken))


def test_it_writes_xrechnung_for_a_leitweg_id(cast: Cast) -> None:
    invoice = _issued(cast, leitweg_id="991-12345-06")
    xml = cii_xml(invoice)
    assert _xpath(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()") == [
        XRECHNUNG
    ]
    assert _xpath(xml, "//ram:BuyerReference/text()") == ["991-12345-06"]
    # XRechnung needs the seller's contact (BR-DE-2) and electronic addresses (BT-34/49).
    assert _xpath(
        xml,
        "//ram:SellerTradeParty/ram:DefinedTradeContact/ram:TelephoneUniversalCommunication/ram:CompleteNumber/text()",
    )
    assert _xpath(xml, "//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID/text()")
    assert xsd_errors(xml) == []
    # The Factur-X Schematron allows only Factur-X profile ids in the context (its rule
    # FX-SCH-A-000556); every EN 16931 rule must pass.
    errors = schematron_errors(xml)
    assert [e for e in errors if not e.startswith("FX-SCH-A-000556:")] == []


def test_a_cancellation_refers_to_the_original(cast: Cast) -> None:
    original = _issued(cast)
    correction = invoicing.cancel_invoice(cast.alice, original, reason="Wrong month")
    xml = cii_xml(correction)
    assert _xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert _xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [
        original.number
    ]
    assert schematron_errors(xml) == []


def test_it_embeds_the_xml_in_a_pdf_a_3(cast: Cast) -> None:
    invoice = _issued(cast, language="de")
    pdf = invoice_pdf(invoice)
    filename, xml = get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == cii_xml(invoice, flavour=ZUGFERD)
    reader = PdfReader(io.BytesIO(pdf))
    root: Any = reader.trailer["/Root"]
    metadata = root["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in metadata
    assert b"<pdfaid:conformance>B</pdfaid:conformance>" in metadata
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in metadata
    assert b"<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in metadata
    assert b"<pdfaSchema:prefix>fx</pdfaSchema:prefix>" in metadata  # extension schema
    (intent,) = root["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    profile = intent.get_object()["/DestOutputProfile"].get_object().get_data()
    assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB "  # an ICC RGB profile
    # The XML is the associated file of the document (PDF/A-3), relationship Data.
    (filespec,) = [f.get_object() for f in root["/AF"]]
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/F"] == filespec["/UF"] == "factur-x.xml"
    embedded = filespec["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/text/xml"
    assert embedded.get_data() == xml
    assert root["/Names"]["/EmbeddedFiles"]["/Names"][0] == "factur-x.xml"
    # Every font is embedded and draws the characters the text claims.
    assert _embedded_font_texts(pdf)
    text = reader.pages[0].extract_text()
    for expected in (invoice.number, "Rechnungsdatum", "Leistungszeitraum", "Hafenstraße 1",
                     "DE136695976", "DE89370400440532013000", "Gesamtbetrag 251,20"):  # fmt: skip
        assert expected in text


def test_drafts_have_no_e_invoice(cast: Cast) -> None:
    with pytest.raises(ValueError):
        cii_xml(draft(cast, issuer(cast)))


def test_the_pdf_wraps_long_text_without_losing_any() -> None:
    from fpdf import FPDF

    from delegate.billing.pdf import _wrap

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    text = "Recherche " * 30 + "Donaudampfschifffahrtsgesellschaftskapitänsmützenhalter" * 2
    lines = _wrap(pdf, text.strip(), 40)
    assert len(lines) > 10
    assert all(pdf.get_string_width(line) <= 40 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert _wrap(pdf, "kurz", 40) == ["kurz"]


def _embedded_font_texts(pdf: bytes) -> list[str]:
    """Each page's text as the embedded font draws it: every character code goes
    through the CIDToGIDMap to a glyph of the embedded TrueType font, and that glyph
    must be the one the font's own cmap gives for the character ToUnicode claims."""
    import re

    from fontTools.ttLib import TTFont

    reader = PdfReader(io.BytesIO(pdf))
    texts = []
    for page in reader.pages:
        fonts: Any = page["/Resources"]["/Font"]  # type: ignore[index]
        for ref in fonts.values():
            font = ref.get_object()
            cid_font = font["/DescendantFonts"][0].get_object()
            descriptor = cid_font["/FontDescriptor"].get_object()
            embedded = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
            glyph_order, cmap = embedded.getGlyphOrder(), embedded.getBestCmap()
            cid_to_gid = cid_font["/CIDToGIDMap"].get_object().get_data()
            to_unicode = font["/ToUnicode"].get_object().get_data().decode()
            drawn = []
            for code, unicode in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]{4})>", to_unicode):
                cid, char = int(code, 16), chr(int(unicode, 16))
                if char in "\x00\uffff":  # fpdf2 gives .notdef these
                    continue
                gid = int.from_bytes(cid_to_gid[2 * cid : 2 * cid + 2], "big")
                assert glyph_order[gid] == cmap[ord(char)], char
                drawn.append(char)
            texts.append("".join(drawn))
    return texts


def test_the_embedded_font_draws_the_right_glyphs_in_every_document() -> None:
    """The font subset is made once per process per set of characters
    (``pdf._embedded_subset``): documents with different rare characters, one after
    the other, each get a font that has their glyphs at the places the PDF says."""
    from bench.invoices.documents import sample_snapshot
    from delegate.billing.pdf import render_pdf

    names = ["Client 0042 GmbH", "Łódź Żółć Sp. z o.o.", "Ørsted ApS", "Client 0042 GmbH"]
    for name in names:
        snapshot = sample_snapshot()
        snapshot["recipient"]["name"] = name
        pdf = render_pdf(snapshot)
        (drawn,) = _embedded_font_texts(pdf)
        assert set(name) <= set(drawn)
        assert name in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
