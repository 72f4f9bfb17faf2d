"""Request and response bodies. Responses carry UUIDs, never integer primary keys.

Patch bodies give every field a ``None`` default that pydantic does not validate: an
omitted field stays unset (and is left alone), while an explicit ``null`` on a field
that is not nullable fails validation (422)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from delegate.agencies.models import Member
from delegate.clients.models import Client, Contact
from delegate.tasks.models import Message, Task

TaskStatus = Literal[
    "new", "triaged", "assigned", "in_progress", "waiting_on_client", "done", "cancelled"
]
ClientStatus = Literal["prospect", "active", "paused", "ended"]
Role = Literal["owner", "dispatcher", "assistant"]
Language = Literal["de", "en"]


# The default of patch fields that must not be null: omitted means "leave alone".
UNSET: Any = None


class ErrorOut(Schema):
    """Every error response. ``errors`` maps a field (or ``__all__``) to its messages."""

    detail: str
    errors: dict[str, list[str]] | None = None


class Body(Schema):
    """A request body: a JSON object without unknown fields. (``extra="forbid"`` also
    makes ninja validate the raw body, so a list or a scalar is refused instead of being
    read through attribute access as an empty patch.)"""

    model_config = ConfigDict(extra="forbid")


# --- tasks ---------------------------------------------------------------------------------


class TaskOut(Schema):
    id: UUID
    code: str
    title: str
    description: str
    status: TaskStatus
    priority: int
    due_at: dt.datetime | None
    channel: str
    language: str
    client: UUID
    requester: UUID | None
    assignee: UUID | None
    category: UUID | None
    required_skills: list[UUID]
    estimate_minutes: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    status_changed_at: dt.datetime | None
    done_at: dt.datetime | None

    @staticmethod
    def resolve_client(obj: Task) -> UUID:
        return obj.client_id

    @staticmethod
    def resolve_requester(obj: Task) -> UUID | None:
        return obj.requester_id

    @staticmethod
    def resolve_assignee(obj: Task) -> UUID | None:
        return obj.assignee_id

    @staticmethod
    def resolve_category(obj: Task) -> UUID | None:
        return obj.category_id

    @staticmethod
    def resolve_required_skills(obj: Task) -> list[UUID]:
        return obj.required_skill_ids


class TaskCreate(Body):
    client: UUID
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    requester: UUID | None = None
    priority: int = Field(Task.Priority.NORMAL, ge=1, le=4)
    due_at: dt.datetime | None = None
    language: Language | None = None
    estimate_minutes: int | None = Field(UNSET, ge=0, le=100_000)
    category: UUID | None = None
    required_skills: list[UUID] = Field(default_factory=list, max_length=50)


class TaskBatch(Body):
    tasks: list[TaskCreate] = Field(min_length=1, max_length=100)


class TaskBatchOut(Schema):
    items: list[TaskOut]


class TaskPatch(Body):
    """``status`` goes through the status machine; ``assignee`` assigns (``null``
    unassigns). Field changes, assignment and status change are applied in one
    transaction, in that order: all of them or none."""

    title: str = Field(UNSET, min_length=1, max_length=200)
    description: str = Field(UNSET)
    priority: int = Field(UNSET, ge=1, le=4)
    due_at: dt.datetime | None = None
    language: Language = Field(UNSET)
    estimate_minutes: int | None = Field(UNSET, ge=0, le=100_000)
    category: UUID | None = None
    required_skills: list[UUID] = Field(UNSET, max_length=50)
    assignee: UUID | None = None
    assignee_reason: str = Field(
        UNSET, max_length=200, description="Why (recorded on the assignment event)"
    )
    status: TaskStatus = Field(UNSET)
    status_note: str = Field(UNSET, max_length=500)


class TaskPage(Schema):
    items: list[TaskOut]
    count: int
    limit: int
    offset: int


# --- messages ------------------------------------------------------------------------------


class MessageOut(Schema):
    id: UUID
    task: UUID
    direction: str
    channel: str
    text: str
    html: str
    is_internal: bool
    author_member: UUID | None
    author_contact: UUID | None
    author_name: str
    created_at: dt.datetime

    @staticmethod
    def resolve_task(obj: Message) -> UUID:
        return obj.task_id

    @staticmethod
    def resolve_author_member(obj: Message) -> UUID | None:
        return obj.author_member_id

    @staticmethod
    def resolve_author_contact(obj: Message) -> UUID | None:
        return obj.author_contact_id


class MessageCreate(Body):
    text: str = Field(max_length=100_000)
    html: str = Field("", max_length=500_000)
    is_internal: bool = False


class MessagePatch(Body):
    text: str = Field(UNSET, min_length=1, max_length=100_000)
    html: str = Field(UNSET, max_length=500_000)


class MessagePage(Schema):
    items: list[MessageOut]
    count: int
    limit: int
    offset: int


# --- clients -------------------------------------------------------------------------------


class ClientOut(Schema):
    id: UUID
    code: str
    kind: str
    name: str
    status: ClientStatus
    service_level: str
    language: str
    time_zone: str
    vat_id: str
    email: str
    notes: str
    primary_assistant: UUID | None
    backup_assistant: UUID | None
    team: list[UUID]
    created_at: dt.datetime

    @staticmethod
    def resolve_primary_assistant(obj: Client) -> UUID | None:
        return obj.primary_assistant_id

    @staticmethod
    def resolve_backup_assistant(obj: Client) -> UUID | None:
        return obj.backup_assistant_id

    @staticmethod
    def resolve_team(obj: Client) -> list[UUID]:
        return [member.pk for member in obj.team.all()]


class ClientCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["organisation", "person"] = "organisation"
    status: ClientStatus = "active"
    service_level: Literal["standard", "priority", "vip"] = "standard"
    language: Language = "de"
    time_zone: str = "Europe/Berlin"
    vat_id: str = ""
    email: str = ""
    notes: str = ""
    primary_assistant: UUID | None = None
    backup_assistant: UUID | None = None
    team: list[UUID] | None = None


class ClientPatch(Body):
    name: str = Field(UNSET, min_length=1, max_length=200)
    kind: Literal["organisation", "person"] = Field(UNSET)
    status: ClientStatus = Field(UNSET)
    service_level: Literal["standard", "priority", "vip"] = Field(UNSET)
    language: Language = Field(UNSET)
    time_zone: str = Field(UNSET)
    vat_id: str = Field(UNSET)
    email: str = Field(UNSET)
    notes: str = Field(UNSET)
    primary_assistant: UUID | None = None
    backup_assistant: UUID | None = None
    team: list[UUID] = Field(UNSET)


class ClientPage(Schema):
    items: list[ClientOut]
    count: int
    limit: int
    offset: int


# --- contacts ------------------------------------------------------------------------------


class ContactOut(Schema):
    id: UUID
    client: UUID
    name: str
    role: str
    language: str
    is_active: bool
    emails: list[str]
    phones: list[str]
    telegram_ids: list[str]
    has_portal_login: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_client(obj: Contact) -> UUID:
        return obj.client_id

    @staticmethod
    def _identities(obj: Contact, kind: str) -> list[str]:
        return [i.value for i in obj.identities.all() if i.kind == kind]

    @staticmethod
    def resolve_emails(obj: Contact) -> list[str]:
        return ContactOut._identities(obj, "email")

    @staticmethod
    def resolve_phones(obj: Contact) -> list[str]:
        return ContactOut._identities(obj, "phone")

    @staticmethod
    def resolve_telegram_ids(obj: Contact) -> list[str]:
        return ContactOut._identities(obj, "telegram")

    @staticmethod
    def resolve_has_portal_login(obj: Contact) -> bool:
        return obj.user_id is not None


class ContactCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field("", max_length=100)
    language: Language | Literal[""] = ""
    emails: list[str] = []
    phones: list[str] = []
    telegram_ids: list[str] = []


class ContactPatch(Body):
    name: str = Field(UNSET, min_length=1, max_length=200)
    role: str = Field(UNSET, max_length=100)
    language: Language | Literal[""] = Field(UNSET)
    is_active: bool = Field(UNSET)
    emails: list[str] = Field(UNSET)
    phones: list[str] = Field(UNSET)
    telegram_ids: list[str] = Field(UNSET)


class ContactPage(Schema):
    items: list[ContactOut]
    count: int
    limit: int
    offset: int


# --- members -------------------------------------------------------------------------------


class MemberOut(Schema):
    id: UUID
    name: str
    email: str
    role: Role
    is_active: bool
    joined_at: dt.datetime

    @staticmethod
    def resolve_email(obj: Member) -> str:
        return obj.user.email


class MemberCreate(Body):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        try:
            validate_email(value.strip())
        except DjangoValidationError:
            raise ValueError("Enter a valid email address.") from None
        return value.strip().lower()


class MemberPatch(Body):
    role: Role = Field(UNSET)
    is_active: bool = Field(UNSET)


class MemberPage(Schema):
    items: list[MemberOut]
    count: int
    limit: int
    offset: int


def set_fields(payload: Schema) -> dict[str, Any]:
    """The fields the client actually sent."""
    return payload.model_dump(exclude_unset=True)


# --- categories (what triage chooses from) ---------------------------------------------------


class SkillOut(Schema):
    id: UUID
    slug: str
    name: str


class CategoryOut(Schema):
    id: UUID
    slug: str = Field(description="what triage predicts; fixed once created")
    name_en: str
    name_de: str
    is_active: bool = Field(description="inactive: triage no longer chooses it")
    skills: list[SkillOut] = Field(description="the skills a task of this category needs")

    @staticmethod
    def resolve_skills(obj: Any) -> list[Any]:
        return list(obj.skills.all())


class CategoryCreate(Body):
    name_en: str = Field(min_length=1, max_length=100)
    name_de: str = Field(min_length=1, max_length=100)
    slug: str = Field("", max_length=60, description="made from name_en when empty")
    skill_ids: list[UUID] = Field(default_factory=list)


class CategoryPatch(Body):
    name_en: str = Field(UNSET, min_length=1, max_length=100)
    name_de: str = Field(UNSET, min_length=1, max_length=100)
    skill_ids: list[UUID] = Field(UNSET)
    is_active: bool = Field(UNSET, description="false deactivates, true reactivates")


class CategoryPage(Schema):
    items: list[CategoryOut]
    count: int
    limit: int
    offset: int
