"""Writes on tasks: creation, updates, status changes, assignment, conversation and files.

Every service takes the acting member or contact first (``None`` only for background
work acting as the system), runs in one transaction, records a ``TaskEvent`` and enqueues
notifications on commit. Callers fetch the task through ``delegate.access`` first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import puremagic
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.access import Actor, role_on_task
from delegate.agencies.models import Member, Skill
from delegate.clients.models import Client, Contact
from delegate.core.html import sanitize_html
from delegate.core.validation import reject_unknown_fields
from delegate.tasks import status as machine
from delegate.tasks.models import Attachment, Category, Message, Task, TaskEvent

_local = threading.local()

TRUSTED_RELATIONS = [
    "code",
    "required_skills",
    "agency",
    "client",
    "requester",
    "category",
    "assignee",
]

EDITABLE_FIELDS = (
    "title",
    "description",
    "priority",
    "due_at",
    "category",
    "language",
    "estimate_minutes",
)


def _actor_fields(actor: Actor | None, prefix: str) -> dict[str, Any]:
    if isinstance(actor, Member):
        return {f"{prefix}_member": actor}
    if isinstance(actor, Contact):
        return {f"{prefix}_contact": actor}
    return {}


def record_event(
    task: Task, *, actor: Actor | None, kind: str, data: dict[str, Any] | None = None
) -> TaskEvent:
    """Append an event to the task's trail and notify the people concerned after commit."""
    event = TaskEvent.objects.create(
        agency_id=task.agency_id,
        task=task,
        kind=kind,
        data=data or {},
        **_actor_fields(actor, "actor"),
    )
    if not getattr(_local, "muted", False) and _may_notify(kind, data or {}):
        from delegate.tasks.jobs import notify_task_event

        event_id = event.pk
        transaction.on_commit(lambda: notify_task_event.enqueue(event_id))
    return event


def _may_notify(kind: str, data: dict[str, Any]) -> bool:
    """Whether ``delegate.tasks.notifications`` could have a recipient for this event;
    skipping the others saves a queued job on every plain create or edit."""
    if kind == TaskEvent.Kind.ASSIGNED:
        return bool(data.get("to"))
    if kind == TaskEvent.Kind.MESSAGE:
        return True
    return kind == TaskEvent.Kind.STATUS_CHANGED and data.get("to") == Task.Status.DONE


@contextmanager
def notifications_muted() -> Iterator[None]:
    """Record events without notifying anyone: for imports and demo data, where the
    people named are not waiting for email about history."""
    previous = getattr(_local, "muted", False)
    _local.muted = True
    try:
        yield
    finally:
        _local.muted = previous


def _check_agency(task_or_client: Task | Client, actor: Actor | None) -> None:
    if actor is not None and actor.agency_id != task_or_client.agency_id:
        raise PermissionDenied("Object belongs to another agency")


def _validated_skills(agency_id: Any, skills: Iterable[Skill]) -> list[Skill]:
    skills = list(skills)
    if any(skill.agency_id != agency_id for skill in skills):
        raise ValidationError({"required_skills": _("Unknown skill.")})
    return skills


@dataclass
class NewTask:
    """What ``create_task`` and ``create_tasks`` take for one task."""

    client: Client
    title: str
    channel: str
    description: str = ""
    requester: Contact | None = None
    priority: int = Task.Priority.NORMAL
    due_at: dt.datetime | None = None
    category: Category | None = None
    required_skills: Iterable[Skill] = ()
    language: str = ""
    estimate_minutes: int | None = None


def create_task(
    actor: Actor | None,
    *,
    client: Client,
    title: str,
    channel: str,
    description: str = "",
    requester: Contact | None = None,
    priority: int = Task.Priority.NORMAL,
    due_at: dt.datetime | None = None,
    category: Category | None = None,
    required_skills: Iterable[Skill] = (),
    language: str = "",
    estimate_minutes: int | None = None,
    files: Sequence[UploadedFile] = (),
) -> Task:
    """Create a task for ``client``. A contact may only create tasks for their own client
    (and is the requester); members must see the client (checked by the caller through
    ``access_client``). Files are validated before anything is written."""
    spec = NewTask(
        client=client, title=title, channel=channel, description=description,
        requester=requester, priority=priority, due_at=due_at, category=category,
        required_skills=required_skills, language=language,
        estimate_minutes=estimate_minutes,
    )  # fmt: skip
    task, skills = _validated_task(actor, spec)
    for upload in files:
        _check_upload(upload)
    # No savepoint inside a caller's transaction (two round trips on the hot API path):
    # a failure here rolls the whole outer transaction back, as the API wants anyway.
    with _FileGuard(), transaction.atomic(savepoint=False):
        task.save()
        if skills:
            task.required_skills.set(skills)
        task.required_skill_ids = sorted(skill.pk for skill in skills)
        record_event(task, actor=actor, kind=TaskEvent.Kind.CREATED, data={"channel": channel})
        for upload in files:
            _store_attachment(actor, task, upload, message=None)
        _enqueue_triage([task])
    return task


def create_tasks(actor: Actor | None, specs: Sequence[NewTask]) -> list[Task]:
    """Create many tasks at once (imports, integrations): every one is checked as
    ``create_task`` checks it, then all are written together, or none."""
    return create_tasks_of([(actor, spec) for spec in specs])


def create_tasks_of(requests: Sequence[tuple[Actor | None, NewTask]]) -> list[Task]:
    """``create_tasks`` with an actor per task (intake: each mail's sender). Every
    request is checked before anything is written; then all are written together (a
    savepoint inside a caller's transaction), or none."""
    validated = [_validated_task(actor, spec) for actor, spec in requests]
    tasks = [task for task, _skills in validated]
    links = [
        Task.required_skills.through(task_id=task.pk, skill_id=skill.pk)
        for task, skills in validated
        for skill in skills
    ]
    events = [
        TaskEvent(
            agency_id=task.agency_id,
            task=task,
            kind=TaskEvent.Kind.CREATED,
            data={"channel": task.channel},
            **_actor_fields(actor, "actor"),
        )
        for task, (actor, _spec) in zip(tasks, requests, strict=True)
    ]
    for task, skills in validated:
        task.required_skill_ids = sorted(skill.pk for skill in skills)
    with transaction.atomic():
        Task.objects.bulk_create(tasks)
        Task.required_skills.through.objects.bulk_create(links)
        # Creation notifies nobody (see _may_notify), so no notification jobs here.
        TaskEvent.objects.bulk_create(events)
        _enqueue_triage(tasks)
    return tasks


# Tasks per triage job: the classifier and the database writes work in batches, and a
# job stays short (about 10 ms of CPU per task) so that a worker is soon free again for
# intake's next drain job, which the queue gives priority.
TRIAGE_BATCH = 20


def _enqueue_triage(tasks: Sequence[Task]) -> None:
    """Queue triage (language, category, deadline, priority) of new tasks on commit."""
    _hand_on("triage", [str(task.pk) for task in tasks])


def _hand_on(kind: str, ids: list[str]) -> None:
    """Queue the ``kind`` ("triage", "routing") jobs of ``ids`` when the transaction
    commits: one job for a single task, one per batch for many, all in one commit.
    Inside ``triage_batched`` / ``routing_batched`` the block collects them instead."""
    collected = getattr(_local, kind, None)
    if collected is not None:
        collected.extend(ids)
        return
    if kind == "triage":
        from delegate.triage.jobs import triage_task as one
        from delegate.triage.jobs import triage_tasks as many

        size = TRIAGE_BATCH
    else:
        from delegate.routing.jobs import route_task as one
        from delegate.routing.jobs import route_tasks as many

        size = ROUTING_BATCH

    def enqueue() -> None:
        if len(ids) == 1:
            one.enqueue(ids[0])
            return
        with transaction.atomic():  # one commit for a whole batch
            for start in range(0, len(ids), size):
                many.enqueue(ids[start : start + size])

    transaction.on_commit(enqueue)


@contextmanager
def _collecting(kind: str) -> Iterator[list[str]]:
    previous = getattr(_local, kind, None)
    collected: list[str] = []
    setattr(_local, kind, collected)
    try:
        yield collected
    finally:
        setattr(_local, kind, previous)


def _validated_task(actor: Actor | None, spec: NewTask) -> tuple[Task, list[Skill]]:
    client, requester, category = spec.client, spec.requester, spec.category
    _check_agency(client, actor)
    if isinstance(actor, Contact):
        if actor.client_id != client.pk:
            raise PermissionDenied("A contact creates tasks only for their own client")
        requester = actor
    if requester is not None and requester.client_id != client.pk:
        raise ValidationError({"requester": _("The requester must be a contact of the client.")})
    if category is not None and category.agency_id != client.agency_id:
        raise ValidationError({"category": _("Unknown category.")})
    skills = _validated_skills(client.agency_id, spec.required_skills)
    task = Task(
        agency_id=client.agency_id,
        client=client,
        requester=requester,
        title=spec.title.strip(),
        description=spec.description,
        channel=spec.channel,
        priority=spec.priority,
        due_at=spec.due_at,
        category=category,
        language=spec.language or (requester.effective_language if requester else client.language),
        estimate_minutes=spec.estimate_minutes,
        status_changed_at=timezone.now(),
    )
    # The related objects came through access checks and the agency checks above; the
    # database enforces the foreign keys and the unique code, so skip those queries.
    task.full_clean(exclude=TRUSTED_RELATIONS, validate_unique=False)
    return task, skills


def update_task(actor: Actor | None, task: Task, **changes: Any) -> Task:
    """Change editable fields; records one event listing what changed (old → new)."""
    _check_agency(task, actor)
    if isinstance(actor, Contact):
        raise PermissionDenied("Contacts cannot edit tasks")
    reject_unknown_fields(changes, [*EDITABLE_FIELDS, "required_skills"])
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        diff: dict[str, list[Any]] = {}
        skills = changes.pop("required_skills", None)
        category = changes.get("category")
        if category is not None and category.agency_id != task.agency_id:
            raise ValidationError({"category": _("Unknown category.")})
        for field, value in changes.items():
            old = getattr(locked, field)
            if old != value:
                diff[field] = [_jsonable(old), _jsonable(value)]
                setattr(locked, field, value)
        locked.full_clean(exclude=TRUSTED_RELATIONS, validate_unique=False)
        if diff:
            locked.save()
        if skills is not None:
            skills = _validated_skills(task.agency_id, skills)
            before = sorted(s.slug for s in locked.required_skills.all())
            after = sorted(s.slug for s in skills)
            if before != after:
                locked.required_skills.set(skills)
                diff["required_skills"] = [before, after]
        if diff:
            record_event(locked, actor=actor, kind=TaskEvent.Kind.UPDATED, data=diff)
    return locked


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value)
    return value


def change_status(actor: Actor | None, task: Task, *, to: str, note: str = "") -> Task:
    """Move the task through the status machine. Raises ``TransitionError`` for a
    transition that does not exist and ``TransitionForbidden`` for the wrong role."""
    _check_agency(task, actor)
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        _transition(actor, locked, to=to, note=note)
    return locked


def _transition(actor: Actor | None, task: Task, *, to: str, note: str = "") -> None:
    role = role_on_task(actor, task)
    machine.check_transition(task.status, to, role)  # type: ignore[arg-type]
    if to in (Task.Status.ASSIGNED, Task.Status.IN_PROGRESS) and task.assignee_id is None:
        raise machine.TransitionError("assign the task to someone first")
    previous = task.status
    now = timezone.now()
    task.status = to
    task.status_changed_at = now
    task.done_at = now if to == Task.Status.DONE else None
    if to == Task.Status.TRIAGED:
        task.assignee = None
    task.save(update_fields=["status", "status_changed_at", "done_at", "assignee", "updated_at"])
    data = {"from": previous, "to": to}
    if note:
        data["note"] = note
    record_event(task, actor=actor, kind=TaskEvent.Kind.STATUS_CHANGED, data=data)
    if to == Task.Status.TRIAGED and not getattr(_local, "muted", False):
        # Routing picks an assistant once the task is committed (not for imports and
        # demo data, which run muted).
        _enqueue_routing(str(task.pk))


def _enqueue_routing(task_id: str) -> None:
    _hand_on("routing", [task_id])


@contextmanager
def triage_batched() -> Iterator[None]:
    """Tasks created inside the block are triaged together (``triage_tasks`` jobs of
    TRIAGE_BATCH) instead of one job per ``create_task``; the jobs are queued when the
    block ends normally, after the caller's transaction inside it has committed. Tasks
    of a savepoint that was rolled back are looked for and skipped by triage."""
    with _collecting("triage") as collected:
        yield
    if collected:
        _hand_on("triage", collected)


# Tasks per routing job queued by ``routing_batched``.
ROUTING_BATCH = 50


@contextmanager
def routing_batched() -> Iterator[None]:
    """Tasks that become triaged inside the block are routed together when it ends (one
    ``route_tasks`` job per batch) instead of one job each. For callers that commit
    their own transactions inside the block (triage of a batch); on leaving, the jobs
    are queued on commit of any transaction still open — also after an error, for the
    tasks that were triaged before it."""
    collected: list[str] = []
    try:
        with _collecting("routing") as collected:
            yield
    finally:
        if collected:
            _hand_on("routing", collected)


def assign_task(
    actor: Actor | None,
    task: Task,
    *,
    assistant: Member | None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> Task:
    """Give the task to ``assistant`` (``None`` unassigns). Managers, the system and the
    current assignee (handing over) may assign; the assistant must be an active member
    of the task's agency. A new or triaged task becomes assigned. ``details`` go into
    the event as they are (routing stores its reasons there)."""
    _check_agency(task, actor)
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        role = role_on_task(actor, locked)
        if role not in machine.ASSIGNERS:
            raise machine.TransitionForbidden(f"a {role} may not assign tasks")
        if assistant is not None and (
            assistant.agency_id != locked.agency_id or not assistant.is_active
        ):
            raise ValidationError({"assignee": _("Not an active member of this agency.")})
        if not locked.is_open:
            raise machine.TransitionError("a closed task cannot be assigned")
        previous_id = locked.assignee_id
        if assistant is None:
            if previous_id is None:
                return locked
            locked.assignee = None
            locked.status = Task.Status.TRIAGED
            locked.status_changed_at = timezone.now()
        else:
            if previous_id == assistant.pk:
                return locked
            locked.assignee = assistant
            if locked.status in (Task.Status.NEW, Task.Status.TRIAGED):
                locked.status = Task.Status.ASSIGNED
                locked.status_changed_at = timezone.now()
        locked.save(update_fields=["assignee", "status", "status_changed_at", "updated_at"])
        record_event(
            locked,
            actor=actor,
            kind=TaskEvent.Kind.ASSIGNED,
            data={
                "from": str(previous_id) if previous_id else None,
                "to": str(assistant.pk) if assistant else None,
                "to_name": assistant.name if assistant else None,
                "reason": reason,
                **(details or {}),
            },
        )
    return locked


def post_message(
    actor: Actor,
    task: Task,
    *,
    text: str,
    html: str = "",
    is_internal: bool = False,
    channel: str | None = None,
    files: Sequence[UploadedFile] = (),
) -> Message:
    """Add to the conversation. A contact's message is inbound and reopens a task that
    was waiting on the client; a member's message goes to the client unless it is an
    internal note. Contacts never write internal notes."""
    _check_agency(task, actor)
    text = text.strip()
    if not text and not files:
        raise ValidationError({"text": _("Write a message or attach a file.")})
    if isinstance(actor, Contact):
        if actor.client_id != task.client_id:
            raise PermissionDenied("Not a contact of this client")
        if is_internal:
            raise PermissionDenied("Contacts cannot write internal notes")
        direction = Message.Direction.INBOUND
    else:
        direction = Message.Direction.INTERNAL if is_internal else Message.Direction.OUTBOUND
    for upload in files:
        _check_upload(upload)
    with _FileGuard(), transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        message = Message.objects.create(
            agency_id=task.agency_id,
            task=locked,
            direction=direction,
            channel=channel
            or (Task.Channel.PORTAL if isinstance(actor, Contact) else Task.Channel.DESK),
            text=text,
            html=sanitize_html(html) if html else "",
            is_internal=is_internal,
            **_actor_fields(actor, "author"),
        )
        for upload in files:
            _store_attachment(actor, locked, upload, message=message)
        record_event(
            locked,
            actor=actor,
            kind=TaskEvent.Kind.NOTE if is_internal else TaskEvent.Kind.MESSAGE,
            data={"message": str(message.pk), "direction": direction},
        )
        if isinstance(actor, Contact) and locked.status in (
            Task.Status.WAITING_ON_CLIENT,
            Task.Status.DONE,
        ):
            # With nobody assigned (any more) the reply goes back to triage.
            reopened = Task.Status.IN_PROGRESS if locked.assignee_id else Task.Status.TRIAGED
            _transition(actor, locked, to=reopened, note="client replied")
    return message


def edit_message(
    member: Member, message: Message, *, text: str | None = None, html: str | None = None
) -> Message:
    """Correct an internal note. Only its author may, and only internal notes: a message
    that went to the client, or came from them, is what was said and stays as it was.
    The change is recorded as an event with the previous text."""
    member.require_same_agency(message)
    if not message.is_internal:
        raise machine.TransitionError("only internal notes can be edited")
    if message.author_member_id != member.pk:
        raise PermissionDenied("Only the author edits a note")
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        before = locked.text
        if text is not None:
            locked.text = text.strip()
        if html is not None:
            locked.html = sanitize_html(html) if html else ""
        if not locked.text:
            raise ValidationError({"text": _("A note needs text.")})
        if (locked.text, locked.html) == (message.text, message.html):
            return locked
        locked.save(update_fields=["text", "html"])
        record_event(
            locked.task,
            actor=member,
            kind=TaskEvent.Kind.UPDATED,
            data={"message": str(locked.pk), "note_text": [before, locked.text]},
        )
    return locked


def _check_upload(upload: UploadedFile) -> None:
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            {
                "files": _("%(name)s is larger than %(limit)s MB.")
                % {"name": upload.name, "limit": f"{limit / 1024 / 1024:g}"}
            }
        )


def sniff_content_type(head: bytes) -> str:
    """The content type from the bytes themselves, never from the client's claim."""
    try:
        return puremagic.from_string(head, mime=True) or _text_or_binary(head)
    except (puremagic.PureError, ValueError):
        return _text_or_binary(head)


def _text_or_binary(head: bytes) -> str:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A cut in the middle of a multi-byte character still counts as text.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain" if b"\x00" not in head else "application/octet-stream"


def _store_attachment(
    actor: Actor | None, task: Task, upload: UploadedFile, *, message: Message | None
) -> Attachment:
    """Store one upload the caller has checked with ``_check_upload`` before writing."""
    digest = hashlib.sha256()
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (upload.name or "file").replace("/", "_").replace("\\", "_")[-255:]
    attachment = Attachment(
        agency_id=task.agency_id,
        task=task,
        message=message,
        filename=name,
        content_type=sniff_content_type(head),
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        **_actor_fields(actor, "uploaded_by"),
    )
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except BaseException:
        attachment.file.delete(save=False)
        raise
    # If the surrounding transaction rolls back later, the stored file would be an
    # orphan without a row: remember it so the service can remove it.
    _stored_files().append(str(attachment.file.name))
    record_event(
        task,
        actor=actor,
        kind=TaskEvent.Kind.ATTACHMENT,
        data={"attachment": str(attachment.pk), "filename": name, "size": attachment.size},
    )
    return attachment


class _FileGuard:
    """Deletes files stored during a service call when the call fails, so a failed
    write leaves neither rows nor files behind."""

    def __enter__(self) -> None:
        _guard_stack().append([])

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        names = _guard_stack().pop()
        if exc_type is not None:
            from django.core.files.storage import default_storage

            for name in names:
                default_storage.delete(name)


def _guard_stack() -> list[list[str]]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    stack: list[list[str]] = _local.stack
    return stack


def _stored_files() -> list[str]:
    stack = _guard_stack()
    return stack[-1] if stack else []
