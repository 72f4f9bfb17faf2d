"""Preparing a client's message for triage: only the client's own words count.

Quoted history ("> …", "On … wrote:", "-----Original Message-----") is cut off, and the
body ends at the sign-off ("Viele Grüße", "Best,", "-- "), so a date in a quoted mail or
a phone number in a signature never becomes the task's deadline. Entities are still taken
from the signature (its phone number is useful), so both parts are returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Triage reads at most this much of a message: a 1 MB paste must not take seconds, and
# the request is at the top of a message anyway.
MAX_CHARS = 10_000
# … and at most this many lines (a paste of one word per line costs per line).
MAX_LINES = 300

_QUOTE_START = re.compile(
    r"""^\s*(?:
        >                                                   # quoted line
      | -{2,}\s*(?:ursprüngliche\s+nachricht|original\s+message|forwarded\s+message
                 |weitergeleitete\s+nachricht)
      | (?:on|am)\s.{4,200}(?:wrote|schrieb)\s*:?\s*$       # "On Mon, … wrote:"
      | (?:von|from):\s.+                                   # a header block
      | _{5,}
    )""",
    re.IGNORECASE | re.VERBOSE,
)

_SIGN_OFF = re.compile(
    r"""^\s*(?:
        --\s*$
      | (?:viele|beste|liebe|herzliche|freundliche|schöne|sonnige)\s+grüße\b.*
      | (?:mit\s+)?(?:freundlichen|besten|herzlichen)\s+grü(?:ß|ss)en\b.*
      | freundliche\s+grüsse\b.*
      | (?:mfg|lg|vg|gruß|grüße|gruss)\b[\s,!.]*\S{0,40}$
      | (?:best|kind|warm|many)?\s*(?:regards|wishes)\b.*
      | (?:best|cheers|thanks|thank\s+you|many\s+thanks|ta|thx|danke(?:\s+(?:dir|euch|schön))?
         |danke\s*&\s*gruß|merci|cordialement|groeten|saludos)\s*[,!.]?\s*\S{0,30}\s*$
      | sent\s+from\s+my\b.*
      | von\s+meinem\s+\w+\s+gesendet.*
    )""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class PreparedText:
    body: str  # the client's request: no quotes, no signature
    full: str  # without quoted history, with signature (for entities)
    truncated: bool


def prepare(text: str) -> PreparedText:
    """Split a message into the request body and the rest (see the module docstring)."""
    text = text or ""
    lines = text[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    truncated = len(text) > MAX_CHARS or len(lines) > MAX_LINES
    own: list[str] = []
    for line in lines[:MAX_LINES]:
        if _QUOTE_START.match(line):
            break
        own.append(line)
    body: list[str] = []
    has_request = False
    for line in own:
        # A sign-off needs some request above it: "Danke!" alone is the whole message.
        if has_request and _SIGN_OFF.match(line):
            break
        body.append(line)
        has_request = has_request or bool(line.strip())
    return PreparedText(
        body="\n".join(body).strip(), full="\n".join(own).strip(), truncated=truncated
    )
