"""/tasks and the conversation under /tasks/{id}/messages."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Field, Header, Query, Router
from ninja.decorators import decorate_view
from ninja.responses import Status

from delegate import access
from delegate.agencies.models import Member
from delegate.api.auth import acting_member, read_auth, write_auth
from delegate.api.errors import error_responses
from delegate.api.idempotency import idempotent
from delegate.api.listing import PageParams, order_by, page
from delegate.api.schemas import (
    MessageCreate,
    MessageOut,
    MessagePage,
    MessagePatch,
    TaskBatch,
    TaskBatchOut,
    TaskCreate,
    TaskOut,
    TaskPage,
    TaskPatch,
    TaskStatus,
    set_fields,
)
from delegate.clients.models import Client
from delegate.tasks import services
from delegate.tasks.models import Message, Task

router = Router(tags=["tasks"])

IDEMPOTENCY_KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Retry-safe creation: see the API description.",
)

TaskOrdering = Literal[
    "created_at", "-created_at", "updated_at", "-updated_at", "due_at", "-due_at",
    "priority", "-priority",
]  # fmt: skip


class TaskQuery(PageParams):
    status: list[TaskStatus] | None = Field(None, description="repeat to match several")
    client: UUID | None = None
    assignee: UUID | None = None
    unassigned: bool | None = Field(None, description="true: only tasks nobody has")
    priority: list[int] | None = Field(None, description="1 (low) to 4 (urgent); repeatable")
    due_before: dt.datetime | None = None
    due_after: dt.datetime | None = None
    updated_since: dt.datetime | None = None
    ordering: TaskOrdering = Field(
        "-created_at", description="a field, '-' for descending; ties by id"
    )


@router.get(
    "/tasks",
    response={200: TaskPage, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="List tasks",
    description="Tasks the key's member sees (an assistant: tasks of their clients and "
    "tasks assigned to them). A `client` or `assignee` outside that view is a 404.",
)
def list_tasks(request: HttpRequest, filters: Query[TaskQuery]) -> dict[str, Any]:
    member = acting_member(request)
    tasks = access.tasks_visible_to(member).prefetch_related("required_skills")
    if filters.client is not None:
        tasks = tasks.filter(client=access.access_client(member, filters.client))
    if filters.assignee is not None:
        tasks = tasks.filter(assignee=access.access_member(member, filters.assignee))
    if filters.unassigned is not None:
        tasks = tasks.filter(assignee__isnull=filters.unassigned)
    if filters.status:
        tasks = tasks.filter(status__in=filters.status)
    if filters.priority:
        tasks = tasks.filter(priority__in=filters.priority)
    if filters.due_before is not None:
        tasks = tasks.filter(due_at__lt=filters.due_before)
    if filters.due_after is not None:
        tasks = tasks.filter(due_at__gte=filters.due_after)
    if filters.updated_since is not None:
        tasks = tasks.filter(updated_at__gte=filters.updated_since)
    return page(tasks.order_by(*order_by(filters.ordering)), filters)


@router.post(
    "/tasks",
    response={201: TaskOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Create a task",
)
@decorate_view(idempotent)
def create_task(
    request: HttpRequest, payload: TaskCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Status[Task]:
    member = acting_member(request)
    spec = _spec(member, access.access_client(member, payload.client), payload)
    return Status(201, services.create_task(member, **vars(spec)))


def _spec(member: Member, client: Client, payload: TaskCreate) -> services.NewTask:
    """The task ``payload`` asks for, with every object it names fetched through access."""
    return services.NewTask(
        client=client,
        title=payload.title,
        description=payload.description,
        requester=(access.access_contact(member, payload.requester) if payload.requester else None),
        priority=payload.priority,
        due_at=payload.due_at,
        language=payload.language or "",
        estimate_minutes=payload.estimate_minutes,
        category=(access.access_category(member, payload.category) if payload.category else None),
        required_skills=access.access_skills(member, payload.required_skills),
        channel=Task.Channel.API,
    )


@router.post(
    "/tasks/batch",
    response={201: TaskBatchOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Create up to 100 tasks at once",
    description="For imports and integrations that create many tasks: each item is what "
    "`POST /tasks` takes. All tasks are created, in order, or none (the first refused "
    "item decides the answer, as it would for `POST /tasks`).",
)
@decorate_view(idempotent)
def create_task_batch(
    request: HttpRequest, payload: TaskBatch, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Status[dict[str, list[Task]]]:
    member = acting_member(request)
    clients: dict[UUID, Client] = {}
    specs = []
    for item in payload.tasks:
        if item.client not in clients:
            clients[item.client] = access.access_client(member, item.client)
        specs.append(_spec(member, clients[item.client], item))
    return Status(201, {"items": services.create_tasks(member, specs)})


@router.get(
    "/tasks/{task_id}",
    response={200: TaskOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a task",
)
def get_task(request: HttpRequest, task_id: UUID) -> Task:
    return access.access_task(acting_member(request), task_id)


@router.patch(
    "/tasks/{task_id}",
    response={200: TaskOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Update a task",
    description="Only the fields sent change. `status` moves the task through the status "
    "machine: a transition that does not exist is a 409, one the member's role may not "
    "make is a 403. Everything in one request is applied together or not at all.",
)
def update_task(request: HttpRequest, task_id: UUID, payload: TaskPatch) -> Task:
    member = acting_member(request)
    task = access.access_task(member, task_id, write=True)
    changes = set_fields(payload)
    status = changes.pop("status", None)
    note = changes.pop("status_note", None) or ""
    reason = (changes.pop("assignee_reason", None) or "").strip()
    assign = "assignee" in changes
    assignee_id = changes.pop("assignee", None)
    assignee = access.access_member(member, assignee_id) if assignee_id else None
    if "category" in changes:
        category_id = changes["category"]
        changes["category"] = access.access_category(member, category_id) if category_id else None
    if "required_skills" in changes:
        changes["required_skills"] = access.access_skills(member, changes["required_skills"])
    # One request, one outcome: a refused status change also undoes the field changes.
    with transaction.atomic():
        if changes:
            task = services.update_task(member, task, **changes)
        if assign:
            task = services.assign_task(member, task, assistant=assignee, reason=reason)
        if status is not None and status != task.status:
            task = services.change_status(member, task, to=status, note=note)
    return task


# --- messages ------------------------------------------------------------------------------


def _messages(task: Task, member: Any) -> Any:
    return access.messages_visible_to(member, task).select_related(
        "author_member__user", "author_contact"
    )


@router.get(
    "/tasks/{task_id}/messages",
    response={200: MessagePage, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="List a task's messages",
    description="The conversation, oldest first, internal notes included.",
)
def list_messages(request: HttpRequest, task_id: UUID, params: Query[PageParams]) -> dict[str, Any]:
    member = acting_member(request)
    task = access.access_task(member, task_id)
    return page(_messages(task, member).order_by("created_at", "pk"), params)


@router.post(
    "/tasks/{task_id}/messages",
    response={201: MessageOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Post a message",
    description="A reply to the client, or an internal note with `is_internal`. `html` is "
    "sanitised; a message needs `text`.",
)
@decorate_view(idempotent)
def create_message(
    request: HttpRequest,
    task_id: UUID,
    payload: MessageCreate,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Status[Message]:
    member = acting_member(request)
    task = access.access_task(member, task_id, write=True)
    message = services.post_message(
        member,
        task,
        text=payload.text,
        html=payload.html,
        is_internal=payload.is_internal,
        channel=Task.Channel.API,
    )
    return Status(201, message)


@router.get(
    "/tasks/{task_id}/messages/{message_id}",
    response={200: MessageOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a message",
)
def get_message(request: HttpRequest, task_id: UUID, message_id: UUID) -> Message:
    member = acting_member(request)
    task = access.access_task(member, task_id)
    message = access.access_message(member, message_id)
    if message.task_id != task.pk:
        raise Http404("No such message")
    return message


@router.patch(
    "/tasks/{task_id}/messages/{message_id}",
    response={200: MessageOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Edit an internal note",
    description="Only internal notes can be edited, and only by their author (403 for "
    "someone else's note). A message to or from the client is a 409: it was sent as it is.",
)
def update_message(
    request: HttpRequest, task_id: UUID, message_id: UUID, payload: MessagePatch
) -> Message:
    member = acting_member(request)
    task = access.access_task(member, task_id, write=True)
    message = access.access_message(member, message_id)
    if message.task_id != task.pk:
        raise Http404("No such message")
    changes = set_fields(payload)
    return services.edit_message(member, message, **changes)
