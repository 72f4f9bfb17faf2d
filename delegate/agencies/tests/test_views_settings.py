"""The agency settings page: owners change office hours, intake domain and legal details;
dispatchers read them; nobody else reaches them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from delegate import testing
from delegate.agencies.models import Agency
from delegate.testing import Cast
from delegate.triage.services import work_calendar

URL = reverse("agencies:settings")


def _data(agency: Agency, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": agency.name,
        "time_zone": agency.time_zone,
        "default_language": agency.default_language,
        "work_days_set": list(agency.work_days),
        "work_starts_at": agency.work_starts_at.strftime("%H:%M"),
        "work_ends_at": agency.work_ends_at.strftime("%H:%M"),
        "intake_domain": agency.intake_domain,
        "legal_name": agency.legal_name,
        "email": agency.email,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_owner_changes_office_hours_and_triage_counts_in_them(cast: Cast) -> None:
    http = cast.login(cast.alice)
    assert http.get(URL).status_code == 200
    response = http.post(
        URL,
        _data(
            cast.agency_a,
            work_days_set=["1", "2", "3"],
            work_starts_at="08:30",
            work_ends_at="12:00",
            intake_domain=" Mail.Alpha-Assist.DE. ",
            legal_name="Alpha Assist GmbH",
        ),
    )
    assert response.status_code == 302
    agency = Agency.objects.get(pk=cast.agency_a.pk)
    assert agency.work_days == "123"
    assert (agency.work_starts_at, agency.work_ends_at) == (dt.time(8, 30), dt.time(12))
    assert agency.intake_domain == "mail.alpha-assist.de"
    assert agency.legal_name == "Alpha Assist GmbH"
    # a client without hours of its own now works the agency's
    cast.acme.refresh_from_db()
    assert (cast.acme.work_days, cast.acme.work_starts_at) == ("", None)
    calendar = work_calendar(cast.acme)
    monday = dt.date(2030, 1, 7)
    assert not calendar.is_working_day(monday)
    assert calendar.is_working_day(monday + dt.timedelta(days=1))


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"work_starts_at": "17:00", "work_ends_at": "09:00"}, "work_ends_at"),
        ({"work_days_set": None}, "work_days_set"),
        ({"work_days_set": ["7"]}, "work_days_set"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"intake_domain": "not a domain"}, "intake_domain"),
        ({"intake_domain": "localhost"}, "intake_domain"),  # the shared intake domain
        ({"name": ""}, "name"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    cast: Cast, overrides: dict[str, Any], field: str
) -> None:
    before = testing.db_state(Agency)
    response = cast.login(cast.alice).post(URL, _data(cast.agency_a, **overrides))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field)
    assert testing.db_state(Agency) == before


def test_an_intake_domain_of_another_agency_is_refused(cast: Cast) -> None:
    Agency.objects.filter(pk=cast.agency_b.pk).update(intake_domain="mail.beta.de")
    before = testing.db_state(Agency)
    response = cast.login(cast.alice).post(URL, _data(cast.agency_a, intake_domain="MAIL.beta.de"))
    assert response.status_code == 400
    assert response.context["form"].errors.get("intake_domain")
    assert testing.db_state(Agency) == before


def test_dispatchers_read_owners_write_others_are_refused(cast: Cast) -> None:
    dispatcher = cast.login(cast.dora)
    page = dispatcher.get(URL)
    assert page.status_code == 200
    assert all(f.disabled for f in page.context["form"].fields.values())
    before = testing.db_state(Agency)
    assert dispatcher.post(URL, _data(cast.agency_a, name="Taken over")).status_code == 403
    for outsider in (cast.bob, cast.carol):
        http = cast.login(outsider)
        assert http.get(URL).status_code == 403
        assert http.post(URL, _data(cast.agency_a, name="Taken over")).status_code == 403
    # the owner of agency B changes agency B, never A
    response = cast.login(cast.mallory).post(URL, _data(cast.agency_b, name="Beta renamed"))
    assert response.status_code == 302
    assert Agency.objects.get(pk=cast.agency_b.pk).name == "Beta renamed"
    after = testing.db_state(Agency)
    assert [a for a in after["Agency"] if a["id"] == cast.agency_a.pk] == [
        a for a in before["Agency"] if a["id"] == cast.agency_a.pk
    ]


def test_the_page_speaks_german(cast: Cast) -> None:
    http = cast.login(cast.alice)
    body = http.get(URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Einstellungen der Agentur" in body and "Arbeitstage" in body
