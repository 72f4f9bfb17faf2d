from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from delegate.clients.models import Contact, ContactIdentity
from delegate.intake import services
from delegate.intake.models import InboundMessage
from delegate.intake.tests.conftest import Deliver
from delegate.intake.tests.mails import mail
from delegate.tasks import services as task_services
from delegate.tasks.models import Attachment, Message, Task
from delegate.testing import Cast, db_state

State = InboundMessage.State


def test_it_creates_a_task_for_a_known_sender(cast: Cast, deliver: Deliver) -> None:
    raw = mail(attachments=[("angebot.pdf", b"%PDF-1.4 test", "application/pdf")])
    inbound = deliver(raw)
    assert inbound.state == State.ATTACHED
    assert bytes(inbound.raw) == raw
    task = inbound.task
    assert task is not None and inbound.is_new_task
    assert (task.client, task.requester, task.channel) == (cast.acme, cast.carol, "email")
    assert task.title == "Bitte Hotel in Hamburg buchen"
    assert "Hotel für nächsten Dienstag" in task.description
    attachment = Attachment.objects.get(task=task)
    assert (attachment.filename, attachment.content_type) == ("angebot.pdf", "application/pdf")


def test_the_same_mail_twice_is_one_task(cast: Cast, deliver: Deliver) -> None:
    raw = mail()
    first = deliver(raw)
    second = deliver(raw)
    assert first.pk == second.pk
    assert InboundMessage.objects.count() == 1
    assert Task.objects.filter(client=cast.acme, channel="email").count() == 1
    # Processing again changes nothing either.
    assert services.process_inbound(first.pk) == State.ATTACHED
    assert Task.objects.filter(client=cast.acme, channel="email").count() == 1


def test_the_same_message_id_with_other_content_is_two_messages(
    cast: Cast, deliver: Deliver
) -> None:
    first = deliver(mail(message_id="<same@acme.test>", body="Erste Bitte"))
    second = deliver(mail(message_id="<same@acme.test>", body="Zweite Bitte", subject="Neu"))
    assert first.pk != second.pk
    assert {first.state, second.state} == {State.ATTACHED}
    assert InboundMessage.objects.count() == 2


def test_a_reply_continues_its_task_and_reopens_it(cast: Cast, deliver: Deliver) -> None:
    task_services.change_status(cast.bob, cast.task, to=Task.Status.IN_PROGRESS)
    task_services.change_status(cast.bob, cast.task, to=Task.Status.WAITING_ON_CLIENT)
    body = (
        "Lieber Hamburg.\n\nAm 03.03.2026 um 10:00 schrieb Bob Becker <bob@alpha.test>:\n"
        "> Which airport do you prefer?\n"
    )
    inbound = deliver(mail(subject=f"AW: [{cast.task.code}] New reply", body=body))
    assert inbound.state == State.ATTACHED and not inbound.is_new_task
    assert inbound.task == cast.task
    assert inbound.message is not None
    message = inbound.message
    assert message.text == "Lieber Hamburg."
    assert (message.direction, message.channel, message.author_contact) == (
        "inbound", "email", cast.carol,
    )  # fmt: skip
    cast.task.refresh_from_db()
    assert cast.task.status == Task.Status.IN_PROGRESS


def test_a_reply_is_threaded_by_in_reply_to(cast: Cast, deliver: Deliver) -> None:
    first = deliver(mail(message_id="<first@acme.test>"))
    reply = deliver(
        mail(subject="Noch etwas", body="Taxi.", headers={"In-Reply-To": "<first@acme.test>"})
    )
    assert reply.task == first.task and not reply.is_new_task


def test_a_reply_to_the_task_address_continues_it(cast: Cast, deliver: Deliver) -> None:
    to = f"alpha+task-{cast.task.code.lower()}@localhost"
    inbound = deliver(mail(subject="Ohne Token", body="Lieber Hamburg."), to=to)
    assert inbound.task == cast.task


def test_a_token_of_another_clients_task_never_reaches_it(cast: Cast, deliver: Deliver) -> None:
    other = task_services.create_task(
        cast.alice,
        client=_second_client(cast),
        title="Secret",
        channel=Task.Channel.DESK,
    )
    inbound = deliver(mail(subject=f"Re: [{other.code}] Secret"))
    assert inbound.task != other and inbound.is_new_task
    assert inbound.task is not None and inbound.task.client == cast.acme
    assert not other.messages.exists()


def _second_client(cast: Cast) -> Any:
    from delegate.clients import services as client_services

    return client_services.create_client(cast.alice, name="Zeta KG")


def test_an_unknown_sender_is_quarantined(cast: Cast, deliver: Deliver) -> None:
    before = Task.objects.count()
    inbound = deliver(mail(sender="Fremd <stranger@example.org>"))
    assert inbound.state == State.QUARANTINED
    assert inbound.sender == "stranger@example.org"
    assert Task.objects.count() == before


@pytest.mark.parametrize(
    "sender",
    [
        "stranger@x.org(<carol@acme.test>",
        "carol@acme.test<stranger@x.org>",
        '"carol@acme.test" <stranger@x.org>',
        "stranger@x.org, carol@acme.test",
    ],
)
def test_spoofing_address_forms_never_match_a_client(
    cast: Cast, deliver: Deliver, sender: str
) -> None:
    inbound = deliver(mail(sender=sender))
    assert inbound.state == State.QUARANTINED
    assert inbound.contact is None and inbound.task is None


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "carol@acme.test"),
        ({"Precedence": "bulk"}, "carol@acme.test"),
        ({"X-Auto-Response-Suppress": "All"}, "carol@acme.test"),
        ({}, "MAILER-DAEMON@acme.test"),
    ],
)
def test_automatic_mail_never_creates_a_task(
    cast: Cast, deliver: Deliver, headers: dict[str, str], sender: str
) -> None:
    before = Task.objects.count(), Message.objects.count()
    inbound = deliver(mail(sender=sender, headers=headers))
    assert inbound.state == State.IGNORED and inbound.note
    assert (Task.objects.count(), Message.objects.count()) == before


def test_a_bounce_with_an_empty_envelope_sender_is_ignored(cast: Cast, deliver: Deliver) -> None:
    inbound = deliver(mail(), envelope="<>")
    assert inbound.state == State.IGNORED


def test_a_failure_is_recorded_and_can_be_retried(
    cast: Cast, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(inbound: InboundMessage) -> Any:
        raise RuntimeError("parser exploded")

    monkeypatch.setitem(services.PARSERS, "email", broken)
    inbound = deliver(mail())
    assert inbound.state == State.FAILED
    assert "parser exploded" in inbound.error
    monkeypatch.undo()
    services.retry_inbound(cast.dora, inbound)
    assert services.process_inbound(inbound.pk) == State.ATTACHED
    inbound.refresh_from_db()
    assert (inbound.error, inbound.attempts) == ("", 2)


def test_only_managers_retry(cast: Cast, deliver: Deliver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(services.PARSERS, "email", lambda i: 1 / 0)
    inbound = deliver(mail())
    before = db_state(InboundMessage)
    with pytest.raises(PermissionDenied):
        services.retry_inbound(cast.bob, inbound)
    with pytest.raises(PermissionDenied):
        services.retry_inbound(cast.mallory, inbound)
    assert db_state(InboundMessage) == before


def test_a_dispatcher_creates_the_contact_from_the_quarantine(cast: Cast, deliver: Deliver) -> None:
    inbound = deliver(mail(sender="Paul Peters <Paul@Acme.test>"))
    services.release_as_new_contact(cast.dora, inbound, client=cast.acme, name="")
    inbound.refresh_from_db()
    contact = Contact.objects.get(identities__value="paul@acme.test")
    assert (contact.client, contact.name) == (cast.acme, "Paul Peters")
    assert inbound.state == State.ATTACHED and inbound.task is not None
    assert inbound.task.requester == contact and inbound.handled_by == cast.dora
    # The next mail from Paul is recognised.
    assert deliver(mail(sender="paul@acme.test", subject="Zweite")).contact == contact


def test_a_dispatcher_assigns_to_a_client_or_rejects(cast: Cast, deliver: Deliver) -> None:
    first = deliver(mail(sender="x@example.org", subject="Rechnung"))
    services.release_to_client(cast.dora, first, client=cast.acme)
    first.refresh_from_db()
    assert first.task is not None and first.task.client == cast.acme
    assert first.task.requester is None
    assert not ContactIdentity.objects.filter(value="x@example.org").exists()

    second = deliver(mail(sender="spam@example.org", subject="Gewinn"))
    services.reject_inbound(cast.dora, second)
    second.refresh_from_db()
    assert second.state == State.REJECTED and second.task is None
    with pytest.raises(services.InboundRefused):
        services.reject_inbound(cast.dora, second)


def test_quarantine_actions_are_for_managers_of_the_agency(cast: Cast, deliver: Deliver) -> None:
    inbound = deliver(mail(sender="x@example.org"))
    before = db_state(InboundMessage, Task, Contact)
    with pytest.raises(PermissionDenied):
        services.release_to_client(cast.bob, inbound, client=cast.acme)
    with pytest.raises(PermissionDenied):
        services.reject_inbound(cast.mallory, inbound)
    with pytest.raises(PermissionDenied):
        services.release_to_client(cast.mallory, inbound, client=cast.globex)
    assert db_state(InboundMessage, Task, Contact) == before


@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_one_message_at_once_make_one_task() -> None:
    import threading

    from django.db import connections

    from delegate.testing import make_cast

    cast = make_cast()
    inbound, _new = services.receive(cast.agency_a, channel="email", raw=mail())
    barrier = threading.Barrier(2)
    results: list[str | None] = []

    def work() -> None:
        barrier.wait()
        try:
            results.append(services.process_inbound(inbound.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [State.ATTACHED, State.ATTACHED]
    assert Task.objects.filter(channel="email").count() == 1
    inbound.refresh_from_db()
    assert inbound.attempts == 1
