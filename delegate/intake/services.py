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
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Q
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
            wake_with()
    except IntegrityError:
        existing = InboundMessage.objects.filter(
            agency=agency, channel=channel, dedupe_key=key[:200]
        ).first()
        if existing is None:  # not a duplicate after all: let the caller see the error
            raise
        return existing, False
    return inbound, True


def wake_with() -> bool:
    """Make sure a worker drains the stored messages once the caller's transaction has
    committed (``process_pending``), with one job per burst instead of one per message.

    With the database queue a drain job that has not started yet is enough, and it is
    locked until this transaction ends, so no worker can start it before the message
    written with it is visible (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; a job another
    transaction holds counts as missing and one more is queued; SQLite: the write lock
    this IMMEDIATE transaction holds keeps workers from claiming anything meanwhile).
    Any other backend gets a job on commit, each time. Returns whether a job was
    queued."""
    from delegate.intake.jobs import drain_inbound

    if not _database_queue():
        transaction.on_commit(lambda: drain_inbound.enqueue())
        return True
    from django_tasks_db.models import DBTaskResult

    waiting = (
        DBTaskResult.objects.ready()
        .filter(task_path=drain_inbound.module_path)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    if list(waiting[:1]):
        return False
    drain_inbound.enqueue()
    return True


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

# The raw bytes a batch may hold in memory (a few big mails make a batch of their
# own); how many messages at most is INTAKE_BATCH_SIZE.
BATCH_BYTES = 32 * 1024 * 1024
# A drain job hands over to a fresh one after this long (one more job claim per few
# seconds), so a worker asked to stop gracefully is not held for long by a burst.
DRAIN_SECONDS = 5.0


def process_inbound(inbound_id: Any) -> str | None:
    """Handle one stored message; returns its state afterwards (None if it is gone).
    Safe to run any number of times, concurrently too. A batch of one: see
    ``process_batch``."""
    return process_batch([inbound_id]).get(str(inbound_id))


def process_pending(*, max_seconds: float = DRAIN_SECONDS) -> int:
    """Process stored messages in batches until none is left to claim (or for about
    ``max_seconds``, then a fresh job continues). Returns how many were handled.
    Several workers may run this at once: each claims its own messages."""
    started = time.monotonic()
    handled = 0
    while True:
        ids = claim_pending()
        if not ids:
            return handled
        try:
            process_batch(ids)
        except Exception:
            # The batch as a whole failed (a database error outside any one message):
            # each message again on its own, so a bad one fails alone.
            logger.exception("intake: batch of %s failed, processing one by one", len(ids))
            for inbound_id in ids:
                try:
                    process_batch([inbound_id])
                except Exception:
                    logger.exception("intake: processing inbound %s failed", inbound_id)
        handled += len(ids)
        if time.monotonic() - started > max_seconds:
            with transaction.atomic():
                wake_with()
            return handled


def claim_pending(*, limit: int | None = None, max_bytes: int = BATCH_BYTES) -> list[Any]:
    """Claim the oldest unclaimed unprocessed messages (at most ``limit``, default
    INTAKE_BATCH_SIZE, together at most ``max_bytes`` but always one) for this worker;
    returns their ids. Claimed messages are invisible to other workers' claims (``SKIP
    LOCKED`` while the claim is being written, ``claimed_at`` after)."""
    limit = limit or settings.INTAKE_BATCH_SIZE
    with transaction.atomic():
        candidates = list(
            InboundMessage.objects.select_for_update(skip_locked=True)
            .filter(state__in=(State.RECEIVED, State.PARSED), claimed_at=None)
            .order_by("received_at")
            .values_list("pk", "size")[:limit]
        )
        ids: list[Any] = []
        total = 0
        for pk, size in candidates:
            if ids and total + size > max_bytes:
                break
            ids.append(pk)
            total += size
        if ids:
            InboundMessage.objects.filter(pk__in=ids).update(claimed_at=timezone.now())
    return ids


def process_batch(inbound_ids: Sequence[Any]) -> dict[str, str]:
    """Handle stored messages together; returns the state of each one found.

    Parsing happens before the row locks and the transaction: it can be slow (MMS media
    are fetched over the network, big HTML is cleaned) and on SQLite a transaction
    holds the database's only write lock. Then one transaction locks the rows, skips
    those another worker settled meanwhile, resolves all senders in one query, creates
    the new tasks together and writes every message's outcome in one statement. Each
    message that needs more (attachments, a thread to continue, a chat to link) runs in
    its own savepoint, and so does any that fails: a bad message is marked failed (with
    the error) and the others go through."""
    ids = list(dict.fromkeys(inbound_ids))
    parsed: dict[Any, ParsedInbound | Exception] = {}
    states: dict[str, str] = {}
    for inbound in InboundMessage.objects.filter(pk__in=ids).select_related("agency"):
        if inbound.state in InboundMessage.SETTLED_STATES:
            states[str(inbound.pk)] = str(inbound.state)
            continue
        try:
            parsed[inbound.pk] = parse(inbound)
        except Exception as exc:
            parsed[inbound.pk] = exc
    if not parsed:
        return states
    # The new tasks of the batch, with or without attachments, are triaged together.
    with task_services.triage_batched(), transaction.atomic():
        # A fixed order, so two workers locking overlapping batches cannot deadlock.
        locked = list(
            InboundMessage.objects.select_for_update(of=("self",))
            .select_related("agency")
            .defer("raw")
            .filter(pk__in=list(parsed))
            .order_by("pk")
        )
        # Handled in arrival order: a message may continue the thread of one before it.
        todo = sorted(
            (inbound for inbound in locked if inbound.state not in InboundMessage.SETTLED_STATES),
            key=lambda inbound: (inbound.received_at, str(inbound.pk)),
        )
        _handle(todo, parsed)
        now = timezone.now()
        for inbound in todo:
            inbound.attempts += 1
            inbound.processed_at = now
        # Never write the raw bytes back: they are what arrived, and may be megabytes.
        _save_outcomes(todo)
    states.update({str(inbound.pk): str(inbound.state) for inbound in locked})
    return states


def _save_outcomes(rows: list[InboundMessage]) -> None:
    """``save(update_fields=PROCESSING_FIELDS)`` for each row as one prepared statement
    run for all of them (``executemany``: one round trip with psycopg 3's pipeline).
    ``bulk_update`` would build a CASE expression per field and row, which costs more
    CPU than the rest of processing a mail."""
    if not rows:
        return
    meta = InboundMessage._meta
    fields = [meta.get_field(name) for name in PROCESSING_FIELDS]
    concrete = [field for field in fields if isinstance(field, Field)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in concrete)
    table, pk = quote(meta.db_table), quote(str(meta.pk.column))
    # Names from the model, quoted; every value is a parameter.
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in concrete]
        + [meta.pk.get_db_prep_value(row.pk, connection)]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _handle(todo: list[InboundMessage], parsed: dict[Any, ParsedInbound | Exception]) -> None:
    senders = resolve_senders(
        [(i.agency_id, p) for i in todo if isinstance(p := parsed[i.pk], ParsedInbound)]
    )
    new_tasks: list[tuple[InboundMessage, ParsedInbound, Contact]] = []

    def create_pending(*, visible: bool) -> None:
        if new_tasks:
            _create_tasks(new_tasks)
            if visible:
                _save_outcomes([inbound for inbound, _parsed, _contact in new_tasks])
            new_tasks.clear()

    for inbound in todo:
        result = parsed[inbound.pk]
        if isinstance(result, Exception):
            _fail(inbound, result)
            continue
        _record_parsed(inbound, result)
        contact = senders.get((inbound.agency_id, result.sender_kind, result.sender_value))
        if contact is not None and _is_plain_request(result, inbound.channel):
            new_tasks.append((inbound, result, contact))
            continue
        # This one may continue a thread started earlier in the batch (a reply, the next
        # photo of an album): the earlier ones' tasks and outcomes must be in the
        # database for find_thread, and so must this one's for the next.
        create_pending(visible=True)
        _alone(inbound, result, contact)
        _save_outcomes([inbound])
    create_pending(visible=False)  # the caller writes every outcome


def _alone(inbound: InboundMessage, parsed: ParsedInbound, contact: Contact | None) -> None:
    """Process one message in its own savepoint; a failure marks it failed."""
    try:
        with transaction.atomic():
            _process(inbound, parsed, contact)
    except Exception as exc:
        _fail(inbound, exc)


def _fail(inbound: InboundMessage, exc: Exception) -> None:
    logger.error("intake: processing inbound %s failed", inbound.pk, exc_info=exc)
    inbound.state = State.FAILED
    inbound.error = f"{type(exc).__name__}: {exc}"[:2000]


def _create_tasks(new: list[tuple[InboundMessage, ParsedInbound, Contact]]) -> None:
    """New requests without attachments, all in one write (a savepoint); if that fails,
    each on its own, so only the bad one fails."""
    requests = []
    for inbound, parsed, contact in new:
        text = _text(parsed, kept=0)
        spec = task_services.NewTask(
            client=contact.client,
            title=_title(parsed, text),
            channel=inbound.channel,
            description=text,
            requester=contact,
        )
        requests.append((contact, spec))
    try:
        with transaction.atomic():
            tasks = task_services.create_tasks_of(requests)
    except Exception:
        logger.warning("intake: creating %s tasks together failed, one by one", len(new))
        for inbound, parsed, contact in new:
            _alone(inbound, parsed, contact)
        return
    for (inbound, _parsed, contact), task in zip(new, tasks, strict=True):
        _attached(inbound, task=task, contact=contact, is_new_task=True)


def _record_parsed(inbound: InboundMessage, parsed: ParsedInbound) -> None:
    inbound.sender = (parsed.sender_value or parsed.sender_display)[:320]
    inbound.subject = parsed.subject[:300]
    inbound.header_message_id = parsed.message_id[:300]
    inbound.summary = parsed.text[:2000]
    inbound.error = ""
    inbound.state = State.PARSED


def _process(inbound: InboundMessage, parsed: ParsedInbound, contact: Contact | None) -> None:
    """One message's outcome; ``contact`` is its sender resolved (or None)."""
    _record_parsed(inbound, parsed)
    if parsed.is_automatic:
        # Bounces, autoresponders, lists: recorded, never a task, never answered.
        inbound.state = State.IGNORED
        inbound.note = parsed.automatic_reason[:300]
        return
    if parsed.link_code and _link_chat(inbound, parsed):
        return
    if contact is None:
        inbound.state = State.QUARANTINED
        inbound.note = (parsed.sender_problem or "unknown sender")[:300]
        return
    _deliver(inbound, parsed, actor=contact, client=contact.client)


def _is_plain_request(parsed: ParsedInbound, channel: str) -> bool:
    """A mail from a person that can only be a new task without attachments: nothing
    for ``find_thread`` to look for (no references, no task codes), no chat to link.
    Those are created together; everything else goes through ``_process`` alone."""
    return not (
        parsed.is_automatic
        or parsed.link_code
        or parsed.files
        or may_continue_thread(parsed, channel)
    )


def resolve_sender(agency_id: Any, parsed: ParsedInbound) -> Contact | None:
    """The active contact of an active (or prospect) client whose identity matches the
    sender exactly, or None."""
    return resolve_senders([(agency_id, parsed)]).get(
        (agency_id, parsed.sender_kind, parsed.sender_value)
    )


def resolve_senders(
    messages: Sequence[tuple[Any, ParsedInbound]],
) -> dict[tuple[Any, str, str], Contact]:
    """``resolve_sender`` for many messages in one query: the contact per (agency id,
    sender kind, sender value), for the senders that resolve."""
    wanted = {(agency, p.sender_kind, p.sender_value) for agency, p in messages if p.sender_value}
    if not wanted:
        return {}
    found: dict[tuple[Any, str, str], Contact] = {}
    identities = ContactIdentity.objects.select_related("contact__client").filter(
        agency_id__in={agency_id for agency_id, _k, _v in wanted},
        value__in={value for _a, _k, value in wanted},
    )
    for identity in identities:
        key = (identity.agency_id, identity.kind, identity.value)
        contact = identity.contact
        if key in wanted and contact.is_active and contact.client.status != Client.Status.ENDED:
            found[key] = contact
    return found


def may_continue_thread(parsed: ParsedInbound, channel: str) -> bool:
    """Whether ``find_thread`` has anything to look for: references, task codes, or a
    channel without threading (where the sender's waiting task continues)."""
    return bool(parsed.references or parsed.thread_codes or channel != InboundMessage.Channel.EMAIL)


def find_thread(
    client: Client, parsed: ParsedInbound, *, contact: Contact | None = None, channel: str = ""
) -> Task | None:
    """The task of ``client`` this message continues: one it answers (our Message-IDs,
    or an earlier inbound message's), the task named in the reply address, or the
    ``[CODE]`` token in the subject. Only the client's own tasks can match, so a token
    copied into another client's mail never reaches a foreign task. SMS and chat have no
    threading: there a message continues the sender's task that waits on them."""
    if not may_continue_thread(parsed, channel):
        return None
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


def _text(parsed: ParsedInbound, *, kept: int) -> str:
    """The message's text, with a note when attachments were left out (``kept`` of
    ``parsed.files`` are stored with it)."""
    dropped = parsed.files_dropped + len(parsed.files) - kept
    if not dropped:
        return parsed.text
    return (
        parsed.text
        + "\n\n"
        + _("[%(count)s more attachment(s) kept in the original message only]") % {"count": dropped}
    )


def _title(parsed: ParsedInbound, text: str) -> str:
    return _clean_title(parsed.subject or (text.strip().splitlines() or [_("Request")])[0])


def _attached(
    inbound: InboundMessage, *, task: Task, contact: Contact | None, is_new_task: bool
) -> None:
    inbound.task = task
    inbound.contact = contact
    inbound.is_new_task = is_new_task
    inbound.state = State.ATTACHED
    inbound.note = ""


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
    text = _text(parsed, kept=len(files))
    contact = actor if isinstance(actor, Contact) else requester
    task = find_thread(client, parsed, contact=contact, channel=channel)
    if task is not None:
        message = task_services.post_message(
            actor, task, text=text or "-", html=parsed.html, channel=channel, files=files
        )
        inbound.message = message
        _attached(inbound, task=task, contact=contact, is_new_task=False)
        return
    task = task_services.create_task(
        actor,
        client=client,
        title=_title(parsed, text),
        channel=channel,
        description=text,
        requester=contact,
        files=files,
    )
    _attached(inbound, task=task, contact=contact, is_new_task=True)


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
    """Queue again what is still unprocessed after a while because its job was lost (a
    worker killed mid-way). A message claimed into a batch that long ago gets a job of
    its own: alone, so a message that kills its worker cannot take a batch down with it
    every time. Unclaimed ones get a drain job unless one waits. Returns how many jobs
    were queued."""
    if older_than is None:
        older_than = timedelta(seconds=settings.INTAKE_STALE_SECONDS)
    cutoff = timezone.now() - older_than
    stale = list(
        InboundMessage.objects.filter(
            Q(state=State.RECEIVED) | Q(state=State.PARSED), received_at__lt=cutoff
        ).values_list("pk", "claimed_at")[:1000]
    )
    if not stale:
        return 0  # the usual case: the queue is not read at all
    queued = _queued_inbound_ids()
    abandoned = [
        pk
        for pk, claimed_at in stale
        if claimed_at is not None and claimed_at < cutoff and str(pk) not in queued
    ]
    for inbound_id in abandoned:
        _enqueue(inbound_id)
    woken = False
    if any(claimed_at is None for _pk, claimed_at in stale):
        with transaction.atomic():
            woken = wake_with()
    return len(abandoned) + woken


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
