from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from delegate.tasks import services
from delegate.testing import Cast


@pytest.fixture
def german_default(settings: object) -> None:
    settings.LANGUAGE_CODE = "de"  # type: ignore[attr-defined]


def test_it_speaks_german_by_default(db: None, german_default: None) -> None:
    page = HttpClient().get("/accounts/login/").content.decode()
    assert '<html lang="de">' in page
    assert "Anmelden" in page


def test_it_follows_the_browsers_language(db: None, german_default: None) -> None:
    page = HttpClient(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").get("/accounts/login/")
    assert "Log in" in page.content.decode()


def test_it_switches_language_on_request(cast: Cast, german_default: None) -> None:
    http = cast.login(cast.bob)
    assert "Meine Aufgaben" in http.get("/desk/").content.decode()
    http.post("/i18n/setlang/", {"language": "en", "next": "/desk/"})
    assert "My queue" in http.get("/desk/").content.decode()


def test_it_localises_dates(cast: Cast, german_default: None) -> None:
    due = timezone.make_aware(dt.datetime(2031, 3, 4, 15, 30))
    services.update_task(cast.bob, cast.task, due_at=due)
    http = cast.login(cast.bob)
    german = http.get(f"/tasks/{cast.task.pk}/").content.decode()
    assert "04.03.2031" in german
    http.post("/i18n/setlang/", {"language": "en", "next": "/desk/"})
    english = http.get(f"/tasks/{cast.task.pk}/").content.decode()
    assert "04.03.2031" not in english
    assert "2031" in english
