"""The deadline rules against the conventions in eval/triage/README.md."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from delegate.triage.temporal import extract_deadline
from delegate.triage.workdays import WorkCalendar

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday, 1 December 2026, 09:30 in Berlin.
TUESDAY = dt.datetime(2026, 12, 1, 9, 30, tzinfo=BERLIN)


def deadline(text: str, received: dt.datetime = TUESDAY, region: str = "DE-BE") -> str | None:
    found = extract_deadline(
        text, received_at=received, time_zone=str(received.tzinfo), region=region
    )
    return found.at.strftime("%Y-%m-%d %H:%M") if found.at else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bitte bis Freitag 10 Uhr erledigen", "2026-12-04 10:00"),
        ("Die Mail sollte morgen früh raus sein.", "2026-12-02 09:00"),
        ("Das Schreiben muss übermorgen raus.", "2026-12-03 17:00"),
        ("Bitte bis Ende nächster Woche", "2026-12-11 17:00"),
        ("Kannst du das bis zum 3.12. machen?", "2026-12-03 17:00"),
        ("Bitte in 2 Tagen erledigen", "2026-12-03 17:00"),
        ("Please have it done by next Tuesday EOD", "2026-12-08 17:00"),
        ("Invoices need to go out by end of month", "2026-12-31 17:00"),
        ("I need to know before my flight on the 14th.", "2026-12-13 17:00"),
        ("Answer them within the next 2 hours pls", "2026-12-01 11:30"),
        ("Bitte asap zurückrufen", "2026-12-01 11:30"),
        ("Bis halb drei wär gut", "2026-12-01 14:30"),
        ("Reply before noon", "2026-12-01 12:00"),
        ("Bitte bis 3. Dezember 2026", "2026-12-03 17:00"),
    ],
)
def test_it_resolves_deadlines(text: str, expected: str) -> None:
    assert deadline(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Zahnarzt am Dienstag um 8:30 bitte in meinen Kalender",
        "Hotel in München vom 14. bis 16.12., max 150 € die Nacht",
        "Can you book a table for 4 for Saturday 7:30pm?",
        "Kannst du ab sofort die Anfragen übernehmen?",
        "Bitte die Rechnung 2026-0456 über 1.180,00 € prüfen",
        "",
        "🙏🙏🙏",
    ],
)
def test_it_invents_no_deadline(text: str) -> None:
    assert deadline(text) is None


def test_a_date_that_does_not_exist_gives_none_and_low_confidence() -> None:
    found = extract_deadline(
        "Bitte bis 30. Februar erledigen", received_at=TUESDAY, time_zone="Europe/Berlin"
    )
    assert found.at is None
    assert found.invalid == ("30. Februar",)
    assert found.confidence < 0.5


def test_asap_after_hours_counts_working_hours_only() -> None:
    friday_evening = dt.datetime(2026, 12, 4, 19, 0, tzinfo=BERLIN)
    assert deadline("asap please", friday_evening) == "2026-12-07 11:00"


def test_period_ends_skip_the_public_holidays_of_the_clients_state() -> None:
    # Week of 21 December 2026: Friday the 25th is Christmas Day everywhere.
    monday = dt.datetime(2026, 12, 21, 10, 0, tzinfo=BERLIN)
    assert deadline("Muss diese Woche noch passieren", monday) == "2026-12-24 17:00"
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
    after_new_year = dt.datetime(2027, 1, 4, 10, 0, tzinfo=BERLIN)
    assert deadline("bitte innerhalb von 2 Werktagen", after_new_year, "DE-BY") == (
        "2027-01-07 17:00"
    )
    assert deadline("bitte innerhalb von 2 Werktagen", after_new_year, "DE-BE") == (
        "2027-01-06 17:00"
    )


def test_the_clients_time_zone_decides_the_day() -> None:
    # 23:30 in Berlin is already Wednesday in Berlin but still Tuesday in New York.
    late = dt.datetime(2026, 12, 1, 23, 30, tzinfo=BERLIN)
    new_york = late.astimezone(ZoneInfo("America/New_York"))
    assert deadline("by tomorrow", late) == "2026-12-02 17:00"
    found = extract_deadline(
        "by tomorrow", received_at=late, time_zone="America/New_York", region="US-NY"
    )
    assert found.at is not None
    assert found.at.date() == new_york.date() + dt.timedelta(days=1)


def test_the_work_calendar_knows_state_holidays() -> None:
    assert not WorkCalendar("DE-BY").is_working_day(dt.date(2027, 1, 6))
    assert WorkCalendar("DE-BE").is_working_day(dt.date(2027, 1, 6))
    assert not WorkCalendar("DE").is_working_day(dt.date(2026, 12, 25))
    assert WorkCalendar("XX-YY").is_working_day(dt.date(2026, 12, 25))  # unknown: weekdays


def test_asap_counts_in_the_clients_own_days_and_hours() -> None:
    # Tuesday to Saturday, 10:00–14:00; received on a Friday at 13:30.
    calendar = WorkCalendar.of("DE-BE", days="12345", starts_at=dt.time(10), ends_at=dt.time(14))
    received = dt.datetime(2026, 12, 4, 13, 30, tzinfo=BERLIN)
    text = "Bitte asap zurückrufen"
    own = extract_deadline(text, received_at=received, region="DE-BE", calendar=calendar)
    assert own.at == dt.datetime(2026, 12, 5, 11, 30, tzinfo=BERLIN)  # half an hour + 1.5 h
    default = extract_deadline(text, received_at=received, region="DE-BE")
    assert default.at == dt.datetime(2026, 12, 4, 15, 30, tzinfo=BERLIN)


def test_asap_skips_the_holidays_of_the_clients_state() -> None:
    # 6 January is a holiday in Bavaria, not in Berlin; the client works 08:00–12:00.
    received = dt.datetime(2027, 1, 5, 11, 0, tzinfo=BERLIN)
    for region, due in (
        ("DE-BY", dt.datetime(2027, 1, 7, 9, 0)),
        ("DE-BE", dt.datetime(2027, 1, 6, 9, 0)),
    ):
        calendar = WorkCalendar.of(region, starts_at=dt.time(8), ends_at=dt.time(12))
        found = extract_deadline(
            "asap bitte", received_at=received, region=region, calendar=calendar
        )
        assert found.at == due.replace(tzinfo=BERLIN), region


def test_a_calendar_with_nonsense_settings_falls_back_to_office_hours() -> None:
    odd = WorkCalendar.of("DE", days="9x", starts_at=dt.time(18), ends_at=dt.time(8))
    assert odd == WorkCalendar("DE")
