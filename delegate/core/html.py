"""HTML from outside (client mail, API) reduced to harmless formatting."""

from __future__ import annotations

import nh3

ALLOWED_HTML_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}


def sanitize_html(html: str) -> str:
    """Keep formatting, drop scripts, styles, event handlers and unknown tags; links get
    rel=noopener. Used when HTML is stored and again when it is shown."""
    return nh3.clean(html, tags=ALLOWED_HTML_TAGS, link_rel="noopener noreferrer nofollow")
