"""What Delegate sends to clients through intake's channels.

Mail: threading headers for mail Delegate sends to a client about a task.

Our Message-IDs are ``<delegate.<task code>.<event id>@<domain>>``: derived from the
event, so a retried send repeats the same id, and a client's answer quoting it in
In-Reply-To or References finds its task again (see ``mail.parse.OWN_MESSAGE_ID``).
References list the conversation so far — the client's mails we received on the task
and our earlier mails — and Reply-To is the task's own intake address.

SMS and Telegram: a reply written in the desk on a task that came in by SMS or Telegram
goes back on that channel (``send_channel_reply``, run by the notification job).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from delegate.clients.models import ContactIdentity
from delegate.intake.mail.addresses import task_reply_address
from delegate.intake.models import InboundMessage, OutboundDelivery
from delegate.tasks.models import Message, Task, TaskEvent

MAX_REFERENCES = 20


def own_message_id(task: Task, event_id: int) -> str:
    return f"<delegate.{task.code}.{event_id}@{settings.INTAKE_EMAIL_DOMAINS[0]}>"


def client_mail_headers(task: Task, event: TaskEvent) -> dict[str, str]:
    thread: list[tuple[datetime, str]] = [
        (received_at, message_id)
        for received_at, message_id in InboundMessage.objects.filter(
            task=task, channel=InboundMessage.Channel.EMAIL, received_at__lte=event.created_at
        )
        .exclude(header_message_id="")
        .values_list("received_at", "header_message_id")
    ]
    earlier_replies = TaskEvent.objects.filter(
        task=task,
        kind=TaskEvent.Kind.MESSAGE,
        data__direction=Message.Direction.OUTBOUND,
        pk__lt=event.pk,
    ).values_list("created_at", "pk")
    thread += [(created_at, own_message_id(task, pk)) for created_at, pk in earlier_replies]
    references = [message_id for _at, message_id in sorted(thread)][-MAX_REFERENCES:]
    headers = {"Message-ID": own_message_id(task, event.pk), "Reply-To": task_reply_address(task)}
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    return headers


def _identity(task: Task, kind: str) -> str | None:
    requester = task.requester
    if requester is None or not requester.is_active:
        return None
    return (
        ContactIdentity.objects.filter(contact=requester, kind=kind)
        .order_by("-is_primary", "value")
        .values_list("value", flat=True)
        .first()
    )


def send_channel_reply(event: TaskEvent) -> int:
    """Send an outbound message on an SMS or Telegram task to the requester by that
    channel. One ``OutboundDelivery`` per (event, channel), written in the transaction
    that sends, so running twice sends once. Returns how many were sent (0 or 1)."""
    if event.kind != TaskEvent.Kind.MESSAGE:
        return 0
    if event.data.get("direction") != Message.Direction.OUTBOUND:
        return 0
    task = event.task
    channel = task.channel
    kind = {"sms": ContactIdentity.Kind.PHONE, "telegram": ContactIdentity.Kind.TELEGRAM}
    if channel not in kind:
        return 0
    recipient = _identity(task, kind[channel])
    message = Message.objects.filter(pk=event.data.get("message"), is_internal=False).first()
    if recipient is None or message is None:
        return 0
    try:
        with transaction.atomic():
            delivery = OutboundDelivery.objects.create(
                agency_id=task.agency_id, event=event, channel=channel, recipient=recipient
            )
            text = f"{message.text}\n[{task.code}]"
            if channel == "sms":
                result = _send_sms(task, recipient, text)
                delivery.provider_id = str(result.get("sid", ""))
                delivery.status = str(result.get("status", ""))
            else:
                sent = _send_telegram(task, recipient, text)
                delivery.provider_id = str(sent.get("message_id", ""))
                delivery.status = "sent"
            delivery.save(update_fields=["provider_id", "status"])
    except IntegrityError:
        return 0  # sent already
    return 1


def _send_sms(task: Task, to: str, text: str) -> dict[str, str]:
    from delegate.intake.sms import numbers_of, send_sms

    numbers = numbers_of(task.agency.slug)
    if not numbers:
        raise RuntimeError(f"no SMS number configured for agency {task.agency.slug}")
    callback = settings.SITE_URL + reverse("hooks:twilio_status")
    return send_sms(to=to, body=text, sender=numbers[0], status_callback=callback)


def _send_telegram(task: Task, chat_id: str, text: str) -> dict[str, object]:
    from delegate.intake.telegram import bot_for_agency, send_message

    bot = bot_for_agency(task.agency.slug)
    if bot is None:
        raise RuntimeError(f"no Telegram bot configured for agency {task.agency.slug}")
    return send_message(bot, chat_id=chat_id, text=text)
