"""``analyse`` on odd input: it never raises and always says how sure it is."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delegate.triage.classifier import seed_classifier
from delegate.triage.engine import Message, analyse, analyse_many

RECEIVED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
WORDS = st.sampled_from(
    ["bis", "Freitag", "morgen", "früh", "by", "EOD", "asap", "30.", "Februar", "31.11.",
     "halb", "drei", "in", "2", "Tagen", "Ende", "nächster", "Woche", "€", "1.200,00",
     "+49 170 1234567", "a@b.de", "https://x.de", "🙏", "Пожалуйста", "予約", "\n> quoted",
     "-- ", "Viele Grüße", "the", "14th", "before", "my", "flight", "on"]
)  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=40).map(" ".join)))
def test_it_never_raises_and_stays_within_bounds(text: str) -> None:
    result = analyse(text, classifier=seed_classifier(), received_at=RECEIVED)
    confidences = result.confidences()
    assert all(0.0 <= value <= 1.0 for value in confidences.values())
    assert result.priority in (1, 2, 3, 4)
    assert result.needs_check == bool(result.reasons)
    if result.due_at is not None:
        assert result.due_at.tzinfo is not None


def test_batch_and_single_analysis_agree() -> None:
    texts = ["Bitte bis Freitag ein Hotel in Hamburg buchen", "", "Pay the AWS invoice asap"]
    classifier = seed_classifier()
    batch = analyse_many([Message(t, RECEIVED) for t in texts], classifier=classifier)
    single = [analyse(t, classifier=classifier, received_at=RECEIVED) for t in texts]
    assert batch == single
    assert batch[1].reasons[0] == "no text" and batch[1].needs_check


def priority(text: str, service_level: str = "standard") -> int:
    return analyse(
        text, classifier=seed_classifier(), received_at=RECEIVED, service_level=service_level
    ).priority


def test_priority_follows_urgency_deadline_and_service_level() -> None:
    assert priority("Bitte Rechnung an Müller schreiben") == 2
    assert priority("Bitte Rechnung an Müller schreiben", "vip") == 3
    assert priority("Bitte Rechnung an Müller schreiben", "priority") == 2
    assert priority("Keine Eile: Rechnung an Müller schreiben") == 1
    assert priority("DRINGEND!! Rechnung an Müller schreiben") == 4
    # Received Tuesday 09:30: 11:00 is within four working hours, Thursday is not close.
    assert priority("Rechnung an Müller bis 11 Uhr") == 4
    assert priority("Rechnung an Müller bis Donnerstag") == 2
    assert priority("Rechnung an Müller bis heute 15 Uhr", "priority") == 4
    assert priority("Rechnung an Müller bis 31. Januar") == 1


# The bad inputs the issue names (bench/triage times the same ones), each with the reason
# a person is asked to check it.
BAD_INPUTS = {
    "": "no text",
    "📎 scan_0042.pdf": "no text",
    "Bitte die Rechnung bis Freitag schreiben. " * 25_000: "text truncated",
    "🙏🙏🙏 🎄✈️📅 !!! 😬" * 20: "no text",
    "Пожалуйста 予約 please bitte مرحبا ✈️ bis morgen 10 Uhr": "low language confidence",
    "Bitte den Termin am 30. Februar eintragen": "date that does not exist",
    "Bitte\n" * 170_000: "text truncated",
}


def test_bad_input_is_flagged_for_a_check_and_never_crashes() -> None:
    results = analyse_many(
        [Message(text, RECEIVED) for text in BAD_INPUTS], classifier=seed_classifier()
    )
    for (text, reason), result in zip(BAD_INPUTS.items(), results, strict=True):
        assert result.needs_check and reason in result.reasons, (text[:40], result.reasons)
    # "30. Februar" sets no deadline; a real date next to it would.
    assert results[5].due_at is None
