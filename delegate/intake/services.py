"""Intake: every channel ends here.

``receive`` stores a message raw — nothing else happens before it is committed — and
enqueues ``process_inbound`` on commit. Processing parses the raw bytes again (so a
retry after a bug fix sees the fixed parser), resolves the sender against contact
identities, and either continues a task, creates one, quarantines the message (unknown
sender) or ignores it (automatic mail). It runs under a row lock in one transaction
with the task writes, so it is safe to run twice: a settled message is never handled
again, and a crash half-way leaves it ``received`` for the sweep to enqueue again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import TaskResultStatus
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from delegate.agencies.models import Agency, Member
from delegate.clients import services as client_services
from delegate.clients.models import Client, Contact, ContactIdentity
from delegate.core.models import new_code
from delegate.intake.models import InboundMessage, OutboundDelivery, TelegramLinkCode
from delegate.intake.parsed import InboundFile, ParsedInbound
from delegate.tasks import services as task_services
from delegate.tasks.models import Task

logger = logging.getLogger(__name__)

State = InboundMessage.State


class InboundRefused(ValueError):
    """The quarantine action does not fit the message's state."""


# --- storing --------------------------------------------------------------------------


def receive(
    agency: Agency,
    *,
    channel: str,
    raw: bytes,
    dedupe_key: str = "",
    recipient: str = "",
    envelope_sender: str = "",
    client_hint: Client | None = None,
) -> tuple[InboundMessage, bool]:
    """Store ``raw`` and enqueue its processing on commit. Returns the message and
    whether it is new: a second delivery (same ``dedupe_key``, which defaults to the
    SHA-256 of the bytes) returns the first one and enqueues nothing."""
    digest = hashlib.sha256(raw).hexdigest()
    key = (dedupe_key or digest).replace("\x00", "")
    inbound = InboundMessage(
        agency=agency,
        channel=channel,
        raw=raw,
        size=len(raw),
        content_sha256=digest,
        dedupe_key=key[:200],
        recipient=recipient.replace("\x00", "")[:320],
        envelope_sender=envelope_sender.replace("\x00", "")[:320],
        client_hint=client_hint,
    )
    try:
        with transaction.atomic():
            inbound.save(force_insert=True)
            _enqueue_with(inbound.pk)
    except IntegrityError:
        existing = InboundMessage.objects.filter(
            agency=agency, channel=channel, dedupe_key=key[:200]
        ).first()
        if existing is None:  # not a duplicate after all: let the caller see the error
            raise
        return existing, False
    return inbound, True


def _enqueue(inbound_id: Any) -> None:
    from delegate.intake.jobs import process_inbound

    process_inbound.enqueue(str(inbound_id))


def _enqueue_with(inbound_id: Any) -> None:
    """Enqueue processing together with the write that made it necessary. With the
    database backend the job row is written in the same transaction: one commit (one
    fsync) instead of two per message, and no moment where the message is stored but
    its job is not (the sweep still covers a job lost to a killed worker). Any other
    backend gets the job on commit, so it never runs before the row is visible."""
    if _database_queue():
        _enqueue(inbound_id)
    else:
        transaction.on_commit(lambda: _enqueue(inbound_id))


# --- processing -----------------------------------------------------------------------


def parse(inbound: InboundMessage) -> ParsedInbound:
    """The channel's parser applied to the raw bytes, with NUL characters removed from
    every text (PostgreSQL text cannot hold them; hostile mail does)."""
    parsed = PARSERS[inbound.channel](inbound)
    return without_nul(parsed)


def without_nul(parsed: ParsedInbound) -> ParsedInbound:
    for name, value in vars(parsed).items():
        if isinstance(value, str) and "\x00" in value:
            setattr(parsed, name, value.replace("\x00", ""))
    parsed.references = [ref.replace("\x00", "") for ref in parsed.references]
    parsed.files = [
        InboundFile(name=f.name.replace("\x00", "") or "file", data=f.data) for f in parsed.files
    ]
    return parsed


def _parse_email(inbound: InboundMessage) -> ParsedInbound:
    from delegate.intake.mail.addresses import task_code_in
    from delegate.intake.mail.parse import parse_email

    return parse_email(
        bytes(inbound.raw),
        recipient_code=task_code_in(inbound.recipient),
        envelope_sender=inbound.envelope_sender,
    )


def _parse_sms(inbound: InboundMessage) -> ParsedInbound:
    from delegate.intake.sms import parse_sms

    return parse_sms(bytes(inbound.raw))


def _parse_telegram(inbound: InboundMessage) -> ParsedInbound:
    from delegate.intake.telegram import bot_for_agency, parse_update

    # The webhook stores the bot's agency slug as the recipient; files come through it.
    return parse_update(bytes(inbound.raw), bot=bot_for_agency(inbound.recipient))


PARSERS: dict[str, Callable[[InboundMessage], ParsedInbound]] = {
    InboundMessage.Channel.EMAIL: _parse_email,
    InboundMessage.Channel.SMS: _parse_sms,
    InboundMessage.Channel.TELEGRAM: _parse_telegram,
}


PROCESSING_FIELDS = [
    "state", "error", "note", "attempts", "processed_at", "sender", "subject",
    "header_message_id", "summary", "contact", "task", "message", "is_new_task",
]  # fmt: skip


def process_inbound(inbound_id: Any) -> str | None:
    """Handle one stored message; returns its state afterwards (None if it is gone).
    Safe to run any number of times, concurrently too.

    Parsing happens before the row lock and the transaction: it can be slow (MMS media
    are fetched over the network, big HTML is cleaned) and on SQLite a transaction
    holds the database's only write lock."""
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None or inbound.state in InboundMessage.SETTLED_STATES:
        return None if inbound is None else str(inbound.state)
    parsed: ParsedInbound | None = None
    parse_error: Exception | None = None
    try:
        parsed = parse(inbound)
    except Exception as exc:
        parse_error = exc
    with transaction.atomic():
        locked = (
            InboundMessage.objects.select_for_update().defer("raw").filter(pk=inbound_id).first()
        )
        if locked is None:
            return None
        if locked.state in InboundMessage.SETTLED_STATES:
            return str(locked.state)  # another worker got there first
        locked.attempts += 1
        try:
            if parse_error is not None:
                raise parse_error
            assert parsed is not None
            with transaction.atomic():
                _process(locked, parsed)
        except Exception as exc:
            logger.exception("intake: processing inbound %s failed", locked.pk)
            locked.state = State.FAILED
            locked.error = f"{type(exc).__name__}: {exc}"[:2000]
        locked.processed_at = timezone.now()
        # Never write the raw bytes back: they are what arrived, and may be megabytes.
        locked.save(update_fields=PROCESSING_FIELDS)
        return str(locked.state)


def _process(inbound: InboundMessage, parsed: ParsedInbound) -> None:
    inbound.sender = (parsed.sender_value or parsed.sender_display)[:320]
    inbound.subject = parsed.subject[:300]
    inbound.header_message_id = parsed.message_id[:300]
    inbound.summary = parsed.text[:2000]
    inbound.error = ""
    inbound.state = State.PARSED
    if parsed.is_automatic:
        # Bounces, autoresponders, lists: recorded, never a task, never answered.
        inbound.state = State.IGNORED
        inbound.note = parsed.automatic_reason[:300]
        return
    if parsed.link_code and _link_chat(inbound, parsed):
        return
    contact = resolve_sender(inbound.agency_id, parsed)
    if contact is None:
        inbound.state = State.QUARANTINED
        inbound.note = (parsed.sender_problem or "unknown sender")[:300]
        return
    _deliver(inbound, parsed, actor=contact, client=contact.client)


def resolve_sender(agency_id: Any, parsed: ParsedInbound) -> Contact | None:
    """The active contact of an active (or prospect) client whose identity matches the
    sender exactly, or None."""
    if not parsed.sender_value:
        return None
    identity = (
        ContactIdentity.objects.select_related("contact__client")
        .filter(agency_id=agency_id, kind=parsed.sender_kind, value=parsed.sender_value)
        .first()
    )
    if identity is None:
        return None
    contact = identity.contact
    if not contact.is_active or contact.client.status == Client.Status.ENDED:
        return None
    return contact


def find_thread(
    client: Client, parsed: ParsedInbound, *, contact: Contact | None = None, channel: str = ""
) -> Task | None:
    """The task of ``client`` this message continues: one it answers (our Message-IDs,
    or an earlier inbound message's), the task named in the reply address, or the
    ``[CODE]`` token in the subject. Only the client's own tasks can match, so a token
    copied into another client's mail never reaches a foreign task. SMS and chat have no
    threading: there a message continues the sender's task that waits on them."""
    tasks = Task.objects.filter(agency_id=client.agency_id, client=client).exclude(
        status=Task.Status.CANCELLED
    )
    if parsed.references:
        earlier = (
            InboundMessage.objects.filter(
                agency_id=client.agency_id,
                header_message_id__in=parsed.references,
                task__client=client,
            )
            .exclude(task=None)
            .order_by("-received_at")
            .values_list("task_id", flat=True)
            .first()
        )
        if earlier is not None:
            task = tasks.filter(pk=earlier).first()
            if task is not None:
                return task
    for code in parsed.thread_codes:
        task = tasks.filter(code=code).first()
        if task is not None:
            return task
    if contact is not None and channel != InboundMessage.Channel.EMAIL:
        return (
            tasks.filter(requester=contact, status=Task.Status.WAITING_ON_CLIENT)
            .order_by("-status_changed_at")
            .first()
        )
    return None


def _files(parsed: ParsedInbound) -> list[SimpleUploadedFile]:
    limit = settings.ATTACHMENT_MAX_BYTES
    return [SimpleUploadedFile(f.name, f.data) for f in parsed.files if len(f.data) <= limit]


def _deliver(
    inbound: InboundMessage,
    parsed: ParsedInbound,
    *,
    actor: Contact | Member,
    client: Client,
    requester: Contact | None = None,
) -> None:
    channel = inbound.channel
    files = _files(parsed)
    text = parsed.text
    dropped = parsed.files_dropped + len(parsed.files) - len(files)
    if dropped:
        text += "\n\n" + _("[%(count)s more attachment(s) kept in the original message only]") % {
            "count": dropped
        }
    contact = actor if isinstance(actor, Contact) else requester
    task = find_thread(client, parsed, contact=contact, channel=channel)
    if task is not None:
        message = task_services.post_message(
            actor, task, text=text or "-", html=parsed.html, channel=channel, files=files
        )
        inbound.message = message
        inbound.is_new_task = False
    else:
        title = parsed.subject or (text.strip().splitlines() or [_("Request")])[0]
        task = task_services.create_task(
            actor,
            client=client,
            title=_clean_title(title),
            channel=channel,
            description=text,
            requester=actor if isinstance(actor, Contact) else requester,
            files=files,
        )
        inbound.is_new_task = True
    inbound.task = task
    inbound.contact = actor if isinstance(actor, Contact) else requester
    inbound.state = State.ATTACHED
    inbound.note = ""


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    for prefix in ("re:", "aw:", "fwd:", "wg:", "fw:"):
        while title.lower().startswith(prefix):
            title = title[len(prefix) :].strip()
    return title[:200] or "-"


# --- retries and the quarantine -------------------------------------------------------


def retry_inbound(member: Member | None, inbound: InboundMessage) -> InboundMessage:
    """Process a failed (or stuck) message again. Members must be managers; ``None`` is
    the command line."""
    if member is not None:
        member.require_manager()
        member.require_same_agency(inbound)
    with transaction.atomic():
        locked = InboundMessage.objects.select_for_update().get(pk=inbound.pk)
        if not locked.is_retryable:
            raise InboundRefused(_("Only failed or unprocessed messages can be retried."))
        locked.state = State.RECEIVED
        locked.error = ""
        locked.save(update_fields=["state", "error"])
        _enqueue_with(locked.pk)
    return locked


def _locked_quarantined(member: Member, inbound: InboundMessage) -> InboundMessage:
    member.require_manager()
    member.require_same_agency(inbound)
    locked = InboundMessage.objects.select_for_update().defer("raw").get(pk=inbound.pk)
    if locked.state != State.QUARANTINED:
        raise InboundRefused(_("This message is not in the quarantine."))
    return locked


def release_to_client(member: Member, inbound: InboundMessage, *, client: Client) -> InboundMessage:
    """A dispatcher decides a quarantined message belongs to ``client`` without adding
    the sender as a contact: it becomes a task (or continues one) of that client, with
    the dispatcher as the actor."""
    member.require_manager()
    member.require_same_agency(inbound, client)
    parsed = parse(inbound)
    with transaction.atomic():
        locked = _locked_quarantined(member, inbound)
        _deliver(locked, parsed, actor=member, client=client)
        locked.handled_by = member
        locked.save(update_fields=[*PROCESSING_FIELDS, "handled_by"])
    return locked


def release_as_new_contact(
    member: Member, inbound: InboundMessage, *, client: Client, name: str
) -> InboundMessage:
    """Create a contact of ``client`` with the sender's address, then handle the message
    as theirs; their next messages are recognised."""
    member.require_manager()
    member.require_same_agency(inbound, client)
    parsed = parse(inbound)
    with transaction.atomic():
        locked = _locked_quarantined(member, inbound)
        if not parsed.sender_value:
            raise ValidationError({"name": _("The sender's address is not usable.")})
        kind, value = parsed.sender_kind, [parsed.sender_value]
        contact = client_services.create_contact(
            member,
            client,
            name=name or parsed.sender_display or parsed.sender_value,
            emails=value if kind == ContactIdentity.Kind.EMAIL else (),
            phones=value if kind == ContactIdentity.Kind.PHONE else (),
            telegram_ids=value if kind == ContactIdentity.Kind.TELEGRAM else (),
        )
        _deliver(locked, parsed, actor=contact, client=client)
        locked.handled_by = member
        locked.save(update_fields=[*PROCESSING_FIELDS, "handled_by"])
    return locked


def reject_inbound(member: Member, inbound: InboundMessage) -> InboundMessage:
    """Drop a quarantined message from the queue. It stays stored, marked rejected."""
    with transaction.atomic():
        locked = _locked_quarantined(member, inbound)
        locked.state = State.REJECTED
        locked.handled_by = member
        locked.note = _("rejected by %(name)s") % {"name": member.name}
        locked.save(update_fields=[*PROCESSING_FIELDS, "handled_by"])
    return locked


def enqueue_stale(*, older_than: timedelta | None = None) -> int:
    """Enqueue again every message still unprocessed after a while: its job was lost
    (a worker killed mid-way, a crash between commit and enqueue)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.INTAKE_STALE_SECONDS)
    cutoff = timezone.now() - older_than
    stale = list(
        InboundMessage.objects.filter(
            Q(state=State.RECEIVED) | Q(state=State.PARSED), received_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    if not stale:
        return 0  # the usual case: the queue is not read at all
    queued = _queued_inbound_ids()
    ids = [inbound_id for inbound_id in stale if str(inbound_id) not in queued]
    for inbound_id in ids:
        _enqueue(inbound_id)
    return len(ids)


def _database_queue() -> bool:
    """Whether intake's jobs go to the database queue (django-tasks-db)."""
    from django_tasks_db.backend import DatabaseBackend

    from delegate.intake.jobs import process_inbound

    return isinstance(process_inbound.get_backend(), DatabaseBackend)


def _queued_inbound_ids() -> set[str]:
    """Ids of messages whose processing job is still waiting in the queue: a long
    queue after a burst is not a lost job, and enqueuing those again would add to the
    backlog every sweep. Running jobs do not count: a worker killed mid-job leaves its
    job "running" for good. Only the database backend can be asked."""
    from django_tasks_db.models import DBTaskResult

    from delegate.intake.jobs import process_inbound

    if not _database_queue():
        return set()
    pending = DBTaskResult.objects.filter(
        task_path=process_inbound.module_path, status=TaskResultStatus.READY
    ).values_list("args_kwargs", flat=True)
    return {str(arg) for args_kwargs in pending for arg in args_kwargs.get("args", [])[:1]}


# --- Telegram chats linked from the portal --------------------------------------------

LINK_CODE_VALIDITY = timedelta(minutes=30)


def create_telegram_link_code(contact: Contact) -> TelegramLinkCode:
    """A fresh one-time code for ``contact`` to send to the agency's bot; earlier unused
    codes of the contact stop working."""
    now = timezone.now()
    with transaction.atomic():
        TelegramLinkCode.objects.filter(contact=contact, used_at=None).update(used_at=now)
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    return TelegramLinkCode.objects.create(
                        agency_id=contact.agency_id,
                        contact=contact,
                        code=new_code(),
                        expires_at=now + LINK_CODE_VALIDITY,
                    )
            except IntegrityError:
                continue
    raise RuntimeError("no free link code")


def _link_chat(inbound: InboundMessage, parsed: ParsedInbound) -> bool:
    """Link the chat to the contact whose valid code it sent; False if the code is not
    one (then the message is handled like any other)."""
    link = (
        TelegramLinkCode.objects.select_for_update()
        .select_related("contact")
        .filter(
            agency_id=inbound.agency_id,
            code=parsed.link_code,
            used_at=None,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if link is None or not parsed.sender_value:
        return False
    taken = ContactIdentity.objects.filter(
        agency_id=inbound.agency_id, kind=ContactIdentity.Kind.TELEGRAM, value=parsed.sender_value
    ).first()
    if taken is not None and taken.contact_id != link.contact_id:
        inbound.state = State.QUARANTINED
        inbound.note = "chat already linked to another contact"
        return True
    if taken is None:
        ContactIdentity.objects.create(
            agency_id=inbound.agency_id,
            contact=link.contact,
            kind=ContactIdentity.Kind.TELEGRAM,
            value=parsed.sender_value,
        )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    inbound.contact = link.contact
    inbound.state = State.LINKED
    inbound.note = f"linked to {link.contact.name}"[:300]
    chat_id, agency_slug = parsed.sender_value, inbound.agency.slug
    language = link.contact.effective_language
    transaction.on_commit(lambda: _confirm_link(agency_slug, chat_id, language))
    return True


def _confirm_link(agency_slug: str, chat_id: str, language: str) -> None:
    from delegate.intake.jobs import send_telegram_text

    with translation.override(language):
        text = _("Your chat is linked. Send us your requests here.")
    send_telegram_text.enqueue(agency_slug, chat_id, text)


def record_delivery_status(*, channel: str, provider_id: str, status: str, error: str = "") -> int:
    """A provider's delivery report (sent, delivered, failed …) for a message we sent."""
    if not provider_id:
        return 0
    return OutboundDelivery.objects.filter(channel=channel, provider_id=provider_id).update(
        status=status[:30], error=error[:2000], updated_at=timezone.now()
    )
