from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from delegate.accounts.models import LoginAttempt
from delegate.agencies import services as agency_services
from delegate.testing import PASSWORD, Cast

LOGIN = "/accounts/login/"


def _login(http: HttpClient, email: str, password: str) -> int:
    return http.post(LOGIN, {"username": email, "password": password}).status_code


def test_it_logs_in_and_sends_people_to_their_start_page(cast: Cast) -> None:
    cases = [
        ("dora@alpha.test", "/dispatch/"),
        ("bob@alpha.test", "/desk/"),
        ("carol@acme.test", "/portal/"),
    ]
    for email, start in cases:
        http = HttpClient()
        assert _login(http, email, PASSWORD) == 302
        assert http.get("/")["Location"] == start


def test_it_throttles_repeated_failures(cast: Cast, settings: object) -> None:
    settings.LOGIN_THROTTLE_MAX_FAILURES = 3  # type: ignore[attr-defined]
    http = HttpClient()
    for _ in range(3):
        assert _login(http, "bob@alpha.test", "wrong") == 200
    assert LoginAttempt.objects.filter(email="bob@alpha.test").count() == 3
    # Even the right password is refused while throttled, with a clear message.
    response = http.post(LOGIN, {"username": "bob@alpha.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in http.session
    assert (
        "Too many failed attempts" in response.content.decode()
        or "Zu viele" in response.content.decode()
    )
    # Another account from elsewhere is unaffected.
    assert _login(HttpClient(), "dora@alpha.test", PASSWORD) == 302


def test_it_clears_failures_after_a_successful_login(cast: Cast) -> None:
    http = HttpClient()
    _login(http, "bob@alpha.test", "wrong")
    assert _login(http, "bob@alpha.test", PASSWORD) == 302
    assert not LoginAttempt.objects.filter(email="bob@alpha.test").exists()


def test_it_switches_between_the_users_agencies_only(cast: Cast) -> None:
    # bob also works for agency B.
    agency_services.add_member(cast.mallory, email="bob@alpha.test", name="Bob", role="assistant")
    http = cast.login(cast.bob)
    response = http.post(
        reverse("accounts:switch_agency"), {"agency": str(cast.agency_b.pk), "next": "/desk/"}
    )
    assert response.status_code == 302
    assert http.session["agency_id"] == str(cast.agency_b.pk)
    # An agency the user does not belong to is ignored.
    eve = cast.login(cast.eve)
    eve.post(reverse("accounts:switch_agency"), {"agency": str(cast.agency_b.pk)})
    assert "agency_id" not in eve.session


def test_it_refuses_open_redirects_after_switching(cast: Cast) -> None:
    http = cast.login(cast.bob)
    response = http.post(
        reverse("accounts:switch_agency"),
        {"agency": str(cast.agency_a.pk), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


@pytest.mark.parametrize("path", ["/desk/", "/dispatch/", "/portal/", "/manage/clients/", "/team/"])
def test_it_sends_anonymous_visitors_to_the_login(path: str, db: None) -> None:
    response = HttpClient().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
