"""Mail bodies to clean text: HTML to text and sanitised HTML within a time bound, and
quoted replies and signatures cut off (German and English mail clients)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from delegate.core.html import sanitize_html

# HTML beyond this many characters is not looked at: both the text conversion and the
# sanitiser are linear, so this bounds the time a single mail can take (a mail with
# thousands of links still costs milliseconds). The raw mail keeps everything.
HTML_MAX_CHARS = 400_000

_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
    "pre", "ul", "ol", "section", "article", "header", "footer",
}  # fmt: skip
_SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html[:HTML_MAX_CHARS])
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_html(html: str) -> str:
    return sanitize_html(html[:HTML_MAX_CHARS])


# Lines that start the quoted original in a reply. Gmail and Apple Mail may wrap the
# attribution line, so it is matched on a line and the one after it joined.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\s.{1,200}\swrote:"  # On Tue, 3 Mar 2026 at 10:00, Carol <c@x> wrote:
    r"|Am\s.{1,200}\sschrieb\s.{0,200}:"  # Am 03.03.2026 um 10:00 schrieb Carol <c@x>:
    r"|Am\s.{1,200}\shat\s.{1,200}\sgeschrieben:"
    r"|-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Originalnachricht)\s*-{2,}"
    r"|_{10,}"  # Outlook on the web draws a line above its header block
    r")\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|Von):\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(Sent|Gesendet|Date|Datum|To|An|Subject|Betreff):\*?\s", re.IGNORECASE
)
_SIGNATURE = re.compile(
    r"^(?:-- |--|Sent from my \w+.*|Von meinem \w+.* gesendet\.?|Gesendet von meinem .*)$"
)


def strip_quoted(text: str) -> str:
    """The new part of a reply: everything before the quoted original, an Outlook
    header block, a trailing block of ``>`` lines or the signature. If nothing would be
    left, the whole text is kept (a message that is only a quote still says something)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        joined = line + " " + lines[i + 1].strip() if i + 1 < len(lines) else line
        if _ATTRIBUTION.match(line) or (
            not line.rstrip().endswith(":") and _ATTRIBUTION.match(joined)
        ):
            cut = i
            break
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1 : i + 3]):
            cut = i
            break
        if _SIGNATURE.match(line.rstrip("\n")) and line.strip() != "":
            cut = i
            break
    kept = lines[:cut]
    while kept and (kept[-1].lstrip().startswith(">") or not kept[-1].strip()):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()
