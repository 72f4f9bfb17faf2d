from __future__ import annotations

import pytest
from django.urls import reverse

from delegate.clients.models import Contact
from delegate.intake.models import InboundMessage
from delegate.intake.tests.conftest import Deliver
from delegate.intake.tests.mails import mail
from delegate.tasks.models import Task
from delegate.testing import Cast, db_state

State = InboundMessage.State


@pytest.fixture
def quarantined(cast: Cast, deliver: Deliver) -> InboundMessage:
    return deliver(mail(sender="Paul Peters <paul@acme.test>", subject="Neue Anfrage"))


def test_the_list_shows_what_arrived_and_how_it_was_handled(
    cast: Cast, deliver: Deliver, quarantined: InboundMessage
) -> None:
    handled = deliver(mail(subject="Hotel buchen"))
    response = cast.login(cast.dora).get(reverse("intake:list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Neue Anfrage" in page and "paul@acme.test" in page and "Quarantined" in page
    assert handled.task is not None and handled.task.code in page
    filtered = cast.login(cast.dora).get(reverse("intake:list"), {"state": "quarantined"})
    assert "Neue Anfrage" in filtered.content.decode()
    assert "Hotel buchen" not in filtered.content.decode()


def test_it_speaks_german(cast: Cast, quarantined: InboundMessage) -> None:
    http = cast.login(cast.dora)
    response = http.get(reverse("intake:detail", args=[quarantined.pk]), HTTP_ACCEPT_LANGUAGE="de")
    page = response.content.decode()
    assert "Unbekannter Absender" in page and "Ablehnen" in page


def test_a_dispatcher_assigns_a_quarantined_message_and_adds_the_contact(
    cast: Cast, quarantined: InboundMessage
) -> None:
    url = reverse("intake:release", args=[quarantined.pk])
    data = {"client": cast.acme.pk, "add_contact": "on", "contact_name": "Paul P."}
    response = cast.login(cast.dora).post(url, data)
    assert response.status_code == 302
    quarantined.refresh_from_db()
    assert quarantined.state == State.ATTACHED
    assert Contact.objects.get(name="Paul P.").client == cast.acme


def test_a_dispatcher_rejects_and_retries(
    cast: Cast, quarantined: InboundMessage, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = cast.login(cast.dora)
    assert http.post(reverse("intake:reject", args=[quarantined.pk])).status_code == 302
    quarantined.refresh_from_db()
    assert quarantined.state == State.REJECTED

    from delegate.intake import services

    monkeypatch.setitem(services.PARSERS, "email", lambda i: 1 / 0)
    failed = deliver(mail(subject="Kaputt"))
    assert failed.state == State.FAILED
    assert (
        "ZeroDivisionError" in http.get(reverse("intake:detail", args=[failed.pk])).content.decode()
    )
    assert http.post(reverse("intake:retry", args=[failed.pk])).status_code == 302
    failed.refresh_from_db()
    assert failed.state == State.RECEIVED and failed.error == ""


def test_the_original_is_a_download(cast: Cast, quarantined: InboundMessage) -> None:
    response = cast.login(cast.dora).get(reverse("intake:raw", args=[quarantined.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == bytes(quarantined.raw)


@pytest.mark.parametrize("name", ["detail", "raw", "retry", "release", "reject"])
def test_outsiders_get_404_and_assistants_403(
    cast: Cast, quarantined: InboundMessage, name: str
) -> None:
    url = reverse(f"intake:{name}", args=[quarantined.pk])
    method = "get" if name in ("detail", "raw") else "post"
    data = {"client": cast.globex.pk, "add_contact": "on"} if method == "post" else None
    before = db_state(InboundMessage, Task, Contact)
    assert getattr(cast.login(cast.mallory), method)(url, data).status_code == 404
    assert getattr(cast.login(cast.bob), method)(url, data).status_code == 403
    assert getattr(cast.login(cast.carol), method)(url, data).status_code == 403
    assert db_state(InboundMessage, Task, Contact) == before


def test_the_list_is_for_managers_only(cast: Cast, quarantined: InboundMessage) -> None:
    assert cast.login(cast.bob).get(reverse("intake:list")).status_code == 403
    # Another agency's owner sees her own (empty) list, never agency A's messages.
    page = cast.login(cast.mallory).get(reverse("intake:list")).content.decode()
    assert "Neue Anfrage" not in page
