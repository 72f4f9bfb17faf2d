from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from delegate.triage.entities import extract_entities
from delegate.triage.temporal import extract_deadline

RECEIVED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))


def entities(text: str, kind: str) -> list[object]:
    deadline = extract_deadline(text, received_at=RECEIVED, time_zone="Europe/Berlin")
    return [e["value"] for e in extract_entities(text, deadline=deadline) if e["type"] == kind]


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("Rechnung über 1.245,80 EUR prüfen", "1245.80", "EUR"),
        ("Pay the AWS invoice, it's $1,840.22", "1840.22", "USD"),
        ("Rechnung an Bühler AG, CHF 4'300.-", "4300", "CHF"),
        ("Invoice them £85/h for 12 hours", "85", "GBP"),
        ("Budget 300 €", "300", "EUR"),
        ("max 150 € die Nacht", "150", "EUR"),
    ],
)
def test_it_finds_amounts_with_their_currency(text: str, amount: str, currency: str) -> None:
    assert entities(text, "amount") == [{"amount": amount, "currency": currency}]


def test_it_finds_contact_details_and_places() -> None:
    text = (
        "Bitte Herrn Albers zurückrufen: 0221 4455667, oder an linda.perez@example.com "
        "schreiben. Details: https://shop.example/orders/55821. Adresse: Lindenstr. 14, "
        "50674 Köln"
    )
    assert entities(text, "phone") == ["+492214455667"]
    assert entities(text, "email") == ["linda.perez@example.com"]
    assert entities(text, "url") == ["https://shop.example/orders/55821"]
    places = entities(text, "place")
    assert "Lindenstr. 14" in places and "50674 Köln" in places


def test_every_date_is_an_entity_not_only_the_deadline() -> None:
    text = "Zahnarzt am Dienstag um 8:30 eintragen, Bestätigung bis morgen"
    found = entities(text, "datetime")
    assert "2026-12-08T08:30:00+01:00" in found  # the appointment
    assert "2026-12-02T17:00:00+01:00" in found  # the deadline


def test_a_date_that_does_not_exist_is_kept_without_a_value() -> None:
    assert entities("Termin am 30. Februar", "date") == [None]
