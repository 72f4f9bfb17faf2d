"""Who hears about a task event, and the emails they get.

Deliveries are recorded per (event, recipient) inside the transaction that sends them, so
a job that runs twice (a retried worker, two workers racing) sends each email once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from delegate.agencies.models import Member
from delegate.clients.models import Contact, ContactIdentity
from delegate.tasks.models import Message, NotificationDelivery, Task, TaskEvent

logger = logging.getLogger(__name__)

# Extra headers for mail to a client, from apps that know more about the conversation
# (intake adds Message-ID, In-Reply-To, References and a Reply-To routing back to the
# task). Registered in the app's ``ready()``; tasks depends on nobody.
ClientHeaderHook = Callable[["Task", "TaskEvent"], dict[str, str]]
CLIENT_HEADER_HOOKS: list[ClientHeaderHook] = []
# Called for every event the notification job handles, e.g. to send a reply by SMS or
# Telegram when the task came in on that channel; each hook is idempotent itself.
EventHook = Callable[["TaskEvent"], int]
EVENT_HOOKS: list[EventHook] = []


@dataclass(frozen=True)
class Notice:
    recipient: str
    language: str
    template: str  # under tasks/email/
    link: str
    to_client: bool = False


def contact_email(contact: Contact | None) -> str | None:
    if contact is None or not contact.is_active:
        return None
    identity = (
        ContactIdentity.objects.filter(contact=contact, kind=ContactIdentity.Kind.EMAIL)
        .order_by("-is_primary", "value")
        .first()
    )
    if identity:
        return identity.value
    return contact.user.email if contact.user_id and contact.user else None


def _member_notice(member: Member | None, event: TaskEvent, template: str) -> list[Notice]:
    if member is None or not member.is_active or member.pk == event.actor_member_id:
        return []
    link = settings.SITE_URL + reverse("tasks:detail", args=[event.task_id])
    return [Notice(member.user.email, member.user.language, template, link)]


def _client_notice(task: Task, event: TaskEvent, template: str) -> list[Notice]:
    requester = task.requester
    email = contact_email(requester)
    if requester is None or email is None or requester.pk == event.actor_contact_id:
        return []
    link = settings.SITE_URL + reverse("portal:task", args=[task.pk])
    return [Notice(email, requester.effective_language, template, link, to_client=True)]


def notices_for(event: TaskEvent) -> list[Notice]:
    task = event.task
    if event.kind == TaskEvent.Kind.ASSIGNED and event.data.get("to"):
        assignee = Member.objects.select_related("user").filter(pk=event.data["to"]).first()
        return _member_notice(assignee, event, "assigned")
    if event.kind == TaskEvent.Kind.MESSAGE:
        direction = event.data.get("direction")
        if direction == Message.Direction.INBOUND:
            return _member_notice(task.assignee, event, "client_replied")
        if direction == Message.Direction.OUTBOUND:
            return _client_notice(task, event, "reply")
    if event.kind == TaskEvent.Kind.STATUS_CHANGED and event.data.get("to") == Task.Status.DONE:
        return _client_notice(task, event, "done")
    return []


def send_event_notifications(event_id: int) -> int:
    event = (
        TaskEvent.objects.select_related(
            "task__client", "task__requester__user", "task__assignee__user", "task__agency"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return 0
    sent = 0
    for notice in notices_for(event):
        if _breaker_tripped(notice.recipient):
            logger.warning("notifications: breaker holds back mail to %s", notice.recipient)
            continue
        try:
            with transaction.atomic():
                NotificationDelivery.objects.create(
                    agency_id=event.agency_id, event=event, recipient=notice.recipient
                )
                _send(event, notice)
        except IntegrityError:
            continue  # delivered already, by an earlier run or another worker
        sent += 1
    for hook in EVENT_HOOKS:
        sent += hook(event)
    return sent


def _breaker_tripped(recipient: str) -> bool:
    """Whether the recipient has had as much automatic mail this hour as we send anyone:
    whatever loop or burst caused it, nobody gets flooded."""
    since = timezone.now() - timedelta(hours=1)
    sent = NotificationDelivery.objects.filter(recipient=recipient, sent_at__gte=since).count()
    return sent >= settings.AUTO_MAIL_MAX_PER_RECIPIENT_PER_HOUR


def _send(event: TaskEvent, notice: Notice) -> None:
    task = event.task
    message = None
    if event.data.get("message"):
        message = Message.objects.filter(pk=event.data["message"], is_internal=False).first()
    with translation.override(notice.language):
        context = {
            "task": task,
            "event": event,
            "link": notice.link,
            "message": message,
            "agency": task.agency,
        }
        subject = render_to_string(f"tasks/email/{notice.template}_subject.txt", context)
        body = render_to_string(f"tasks/email/{notice.template}.txt", context)
    headers = {"Auto-Submitted": "auto-generated", "X-Delegate-Task": task.code}
    if notice.to_client:
        for hook in CLIENT_HEADER_HOOKS:
            headers.update(hook(task, event))
    reply_to = headers.pop("Reply-To", None)
    email = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient],
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    email.send(fail_silently=False)
