"""What an assistant needs to pick out of a request: dates and times, places, amounts
with their currency, phone numbers, email addresses and URLs. Each entity is a plain
dict (stored as JSON): ``{"type", "text", "value", "confidence"}``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from delegate.triage.temporal import Deadline

Entity = dict[str, Any]

# Entities are read from the top of a message (a 1 MB paste must stay fast); phone
# matching is the slowest step, so it reads less.
ENTITY_CHARS = 3000
PHONE_SCAN_CHARS = 3000
# Digit runs the phone matcher may try (a pasted table of numbers has thousands).
PHONE_TRIES = 30
MAX_ENTITIES = 50

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL = re.compile(
    r"\bhttps?://[^\s<>\"')\]]+|\bwww\.[\w-]+(?:\.[\w-]+)+(?:/[^\s<>\"')\]]*)?"
    r"|(?<![@\w.])[\w-]+\.(?:de|com|org|net|io|eu|at|ch|co\.uk|example)\b(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
_CURRENCIES = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD",
    "£": "GBP", "gbp": "GBP", "chf": "CHF", "fr.": "CHF",
}  # fmt: skip
_CUR = r"€|eur|euros?|\$|usd|£|gbp|chf"
_NUMBER = r"\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?(?:\.-)?|\d+(?:[.,]\d{1,2})?"
_AMOUNT = re.compile(
    rf"(?P<cur1>{_CUR})\s?(?P<num1>{_NUMBER})(?!\d)|(?<![\w.,])(?P<num2>{_NUMBER})\s?(?P<cur2>{_CUR})\b"
    r"|(?<![\w.,])(?P<num3>" + _NUMBER + r")\s?(?P<cur3>€|\$|£)",
    re.IGNORECASE,
)
_STREET = re.compile(
    r"\b[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer)"
    r"\s+\d+[a-z]?\b|\b\d+\s+[A-Z][a-z]+\s+(?:Street|St|Road|Rd|Avenue|Ave|Lane)\b"
)
_POSTAL_CITY = re.compile(r"\b\d{5}\s+[A-ZÄÖÜ][\wäöüß]+(?:\s+(?:am|an der)\s+[A-ZÄÖÜ]\w+)?")
CITIES = frozenset(
    [
        "Berlin",
        "Hamburg",
        "München",
        "Munich",
        "Köln",
        "Cologne",
        "Frankfurt",
        "Stuttgart",
        "Düsseldorf",
        "Leipzig",
        "Dortmund",
        "Essen",
        "Bremen",
        "Dresden",
        "Hannover",
        "Nürnberg",
        "Duisburg",
        "Bochum",
        "Wuppertal",
        "Bielefeld",
        "Bonn",
        "Münster",
        "Mannheim",
        "Karlsruhe",
        "Augsburg",
        "Wiesbaden",
        "Mainz",
        "Kiel",
        "Lübeck",
        "Rostock",
        "Potsdam",
        "Freiburg",
        "Heidelberg",
        "Darmstadt",
        "Regensburg",
        "Würzburg",
        "Ulm",
        "Garmisch",
        "Wien",
        "Vienna",
        "Graz",
        "Linz",
        "Salzburg",
        "Zürich",
        "Zurich",
        "Basel",
        "Bern",
        "Genf",
        "Geneva",
        "London",
        "Manchester",
        "Paris",
        "Lisbon",
        "Lissabon",
        "Madrid",
        "Barcelona",
        "Rome",
        "Rom",
        "Milan",
        "Mailand",
        "Amsterdam",
        "Utrecht",
        "Rotterdam",
        "Brussels",
        "Brüssel",
        "Prague",
        "Prag",
        "Warsaw",
        "Warschau",
        "Copenhagen",
        "Stockholm",
        "Oslo",
        "Dublin",
        "Edinburgh",
        "NYC",
        "York",
        "Boston",
        "Chicago",
        "Austin",
        "Singapore",
        "Singapur",
        "Tokyo",
        "Teneriffa",
        "Tenerife",
        "Peterborough",
        "Leeds",
    ]
)
_CITY = re.compile(r"\b(?:" + "|".join(sorted(CITIES, key=len, reverse=True)) + r")\b")


def _decimal(raw: str) -> Decimal | None:
    text = raw.replace("'", "").replace(" ", "").removesuffix(".-")
    if "," in text and "." in text:
        # The later separator is the decimal one: 1.245,80 or 1,840.22
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = f"{head.replace(',', '')}.{tail}" if len(tail) <= 2 else text.replace(",", "")
    elif "." in text:
        head, _, tail = text.rpartition(".")
        text = f"{head.replace('.', '')}.{tail}" if len(tail) <= 2 else text.replace(".", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def extract_entities(text: str, *, deadline: Deadline, region: str = "DE") -> list[Entity]:
    """Entities of ``text`` (quoted history already removed). ``deadline`` carries every
    date and time the temporal parser found; ``region`` is the default country for
    phone numbers written without one."""
    text = text[:ENTITY_CHARS]
    entities: list[Entity] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, raw: str, value: Any, confidence: float) -> None:
        key = (kind, str(value))
        if key in seen or len(entities) >= MAX_ENTITIES:
            return
        seen.add(key)
        entities.append(
            {"type": kind, "text": raw.strip(), "value": value, "confidence": confidence}
        )

    for raw, iso in deadline.found_dates:
        add("datetime", raw, iso, 0.8)
    for raw in deadline.invalid:
        add("date", raw, None, 0.2)
    emails = set()
    for match in _EMAIL.finditer(text):
        emails.add(match.group(0))
        add("email", match.group(0), match.group(0).lower(), 0.95)
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if not any(url in email for email in emails):
            add("url", url, url, 0.9)
    country = (region or "DE").split("-")[0].upper()
    if len(country) != 2:
        country = "DE"
    try:
        matcher = phonenumbers.PhoneNumberMatcher(
            text[:PHONE_SCAN_CHARS], country, max_tries=PHONE_TRIES
        )
        for found in matcher:
            number = phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164)
            add("phone", found.raw_string, number, 0.9)
    except phonenumbers.NumberParseException:
        pass
    for match in _AMOUNT.finditer(text):
        groups = match.groupdict()
        num = groups["num1"] or groups["num2"] or groups["num3"]
        cur = (groups["cur1"] or groups["cur2"] or groups["cur3"] or "").lower()
        value = _decimal(num)
        if value is not None:
            add(
                "amount", match.group(0), {"amount": str(value), "currency": _CURRENCIES[cur]}, 0.85
            )
    for match in _STREET.finditer(text):
        add("place", match.group(0), match.group(0), 0.7)
    for match in _POSTAL_CITY.finditer(text):
        add("place", match.group(0), match.group(0), 0.7)
    for match in _CITY.finditer(text):
        add("place", match.group(0), match.group(0), 0.6)
    return entities
