"""Threading headers for mail Delegate sends to a client about a task.

Our Message-IDs are ``<delegate.<task code>.<event id>@<domain>>``: derived from the
event, so a retried send repeats the same id, and a client's answer quoting it in
In-Reply-To or References finds its task again (see ``mail.parse.OWN_MESSAGE_ID``).
References list the conversation so far — the client's mails we received on the task
and our earlier mails — and Reply-To is the task's own intake address.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from delegate.intake.mail.addresses import task_reply_address
from delegate.intake.models import InboundMessage
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
