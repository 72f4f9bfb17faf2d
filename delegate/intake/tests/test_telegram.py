"""Telegram: the webhook, idempotency under concurrency, chat linking from the portal,
and replies by sendMessage against a local server with the Bot API's shapes."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connections
from django.test import Client as HttpClient
from django.urls import reverse

from delegate.clients.models import ContactIdentity
from delegate.intake import services
from delegate.intake.models import InboundMessage, TelegramLinkCode
from delegate.intake.tests import providers
from delegate.intake.tests.providers import FakeProvider
from delegate.tasks import services as task_services
from delegate.tasks.models import Task, TaskEvent
from delegate.tasks.notifications import send_event_notifications
from delegate.testing import Cast, db_state, make_cast

SECRET = providers.TELEGRAM_SECRET
CHAT = 700100200


def _update(update_id: int, text: str, chat: int = CHAT) -> dict[str, Any]:
    person = {"id": chat, "is_bot": False, "first_name": "Carol", "language_code": "de"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": person,
            "chat": {"id": chat, "type": "private", "first_name": "Carol"},
            "date": 1767225600,
            "text": text,
        },
    }


def _post(update: dict[str, Any], secret: str = SECRET) -> int:
    response = HttpClient().post(
        reverse("hooks:telegram"),
        json.dumps(update),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret,
    )
    return int(response.status_code)


def _process_all() -> None:
    for pk in InboundMessage.objects.values_list("pk", flat=True):
        services.process_inbound(pk)


@pytest.mark.parametrize("secret", ["", "webhook-secret-B"])
def test_a_wrong_secret_is_refused(cast: Cast, telegram: FakeProvider, secret: str) -> None:
    before = db_state(InboundMessage)
    assert _post(_update(1, "Hallo"), secret=secret) == 403
    assert db_state(InboundMessage) == before


@pytest.mark.django_db(transaction=True)
def test_the_same_update_ten_times_at_once_is_processed_once(telegram: FakeProvider) -> None:
    cast = make_cast()
    ContactIdentity.objects.create(
        agency=cast.agency_a, contact=cast.carol, kind="telegram", value=str(CHAT)
    )
    barrier = threading.Barrier(10)
    codes: list[int] = []

    def deliver() -> None:
        barrier.wait()
        try:
            codes.append(_post(_update(42, "Bitte Paket abholen")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert codes == [200] * 10
    assert InboundMessage.objects.filter(channel="telegram").count() == 1
    _process_all()
    _process_all()
    assert Task.objects.filter(channel="telegram", requester=cast.carol).count() == 1


def test_a_contact_links_their_chat_with_a_one_time_code(
    cast: Cast, telegram: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    portal = cast.login(cast.carol)
    assert "Get a code" in portal.get(reverse("intake:telegram_link")).content.decode()
    page = portal.post(reverse("intake:telegram_link")).content.decode()
    code = TelegramLinkCode.objects.get(contact=cast.carol).code
    assert code in page

    _post(_update(1, f"/start {code}"))
    with django_capture_on_commit_callbacks(execute=True):
        _process_all()
    assert InboundMessage.objects.get().state == InboundMessage.State.LINKED
    assert ContactIdentity.objects.filter(contact=cast.carol, kind="telegram", value=str(CHAT))
    # Used once: the same code from another chat links nothing.
    _post(_update(2, code, chat=999))
    _process_all()
    assert not ContactIdentity.objects.filter(value="999").exists()
    assert InboundMessage.objects.get(dedupe_key="2").state == InboundMessage.State.QUARANTINED

    # From now on the chat is Carol: a request becomes her task, a desk reply goes back.
    _post(_update(3, "Bitte Geschenk für Oma besorgen"))
    _process_all()
    task = Task.objects.get(channel="telegram")
    assert task.requester == cast.carol
    message = task_services.post_message(cast.bob, task, text="Welches Budget?")
    send_event_notifications(TaskEvent.objects.get(data__message=str(message.pk)).pk)
    sent = [r.json for r in telegram.requests if r.path.endswith("/sendMessage")]
    assert sent[-1]["chat_id"] == str(CHAT)
    assert sent[-1]["text"].startswith("Welches Budget?")


def test_the_link_page_is_for_contacts_only(cast: Cast, telegram: FakeProvider) -> None:
    before = db_state(TelegramLinkCode)
    assert cast.login(cast.bob).post(reverse("intake:telegram_link")).status_code == 403
    assert cast.login(cast.mallory).post(reverse("intake:telegram_link")).status_code == 403
    assert db_state(TelegramLinkCode) == before
    # Gina (another agency's contact) gets a code of her own agency, never Carol's.
    cast.login(cast.gina).post(reverse("intake:telegram_link"))
    assert TelegramLinkCode.objects.get().agency == cast.agency_b
