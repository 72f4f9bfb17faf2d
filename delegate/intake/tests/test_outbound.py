"""A reply written in the desk goes to the client with threading headers, and the
client's answer to it comes back to the same task."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import pytest
from django.core import mail as django_mail

from delegate.intake.models import InboundMessage
from delegate.intake.tests.conftest import Deliver
from delegate.intake.tests.mails import mail
from delegate.tasks import services as task_services
from delegate.tasks.models import NotificationDelivery, TaskEvent
from delegate.tasks.notifications import send_event_notifications
from delegate.testing import Cast


def _send_reply(cast: Cast, text: str) -> tuple[TaskEvent, Any]:
    message = task_services.post_message(cast.bob, cast.task, text=text)
    event = TaskEvent.objects.get(data__message=str(message.pk))
    django_mail.outbox.clear()
    assert send_event_notifications(event.pk) == 1
    raw = django_mail.outbox[0].message().as_bytes()
    return event, message_from_bytes(raw, policy=policy.default)


def test_a_desk_reply_threads_and_the_answer_comes_back(cast: Cast, deliver: Deliver) -> None:
    first = deliver(mail(subject=f"[{cast.task.code}] Flug", message_id="<c1@acme.test>"))
    assert first.task == cast.task
    event, sent = _send_reply(cast, "Welcher Flughafen?")
    reply_to = f"alpha+task-{cast.task.code.lower()}@localhost"
    own_id = f"<delegate.{cast.task.code}.{event.pk}@localhost>"
    assert sent["Message-ID"] == own_id
    assert sent["In-Reply-To"] == "<c1@acme.test>"
    assert "<c1@acme.test>" in sent["References"]
    assert sent["Reply-To"] == reply_to
    assert sent["Auto-Submitted"] == "auto-generated"

    # The client answers from a mail program that keeps only the threading headers.
    answer = deliver(
        mail(subject="Re: Flug", body="Hamburg, bitte.", headers={"In-Reply-To": own_id}),
        to=reply_to,
    )
    assert answer.state == InboundMessage.State.ATTACHED and answer.task == cast.task
    assert not answer.is_new_task

    _event, second = _send_reply(cast, "Gebucht.")
    refs = second["References"].split()
    assert refs[-2:] == [own_id, answer.header_message_id]  # the conversation in order
    assert second["In-Reply-To"] == answer.header_message_id


def test_the_breaker_caps_automatic_mail_per_recipient(
    cast: Cast, settings: pytest.FixtureRequest
) -> None:
    settings.AUTO_MAIL_MAX_PER_RECIPIENT_PER_HOUR = 2  # type: ignore[attr-defined]
    sent = 0
    for n in range(4):
        message = task_services.post_message(cast.bob, cast.task, text=f"Nachricht {n}")
        event = TaskEvent.objects.get(data__message=str(message.pk))
        sent += send_event_notifications(event.pk)
    assert sent == 2
    assert NotificationDelivery.objects.filter(recipient="carol@acme.test").count() == 2
