from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.validators import MaxValueValidator
from django.db import connection, models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, Member, Skill
from delegate.clients.models import Client, Contact
from delegate.core.models import UUIDModel, new_code


class Category(UUIDModel):
    """A kind of work, editable per agency; it names the skills it needs."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_de = models.CharField(_("name (German)"), max_length=100)
    skills = models.ManyToManyField(Skill, blank=True, related_name="categories")
    # An inactive category is kept for the tasks that have it, but triage no longer
    # chooses it and new tasks cannot.
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name_en"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "slug"], name="uniq_category_agency_slug")
        ]
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_de if (get_language() or "").startswith("de") else self.name_en


class Task(UUIDModel):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        TRIAGED = "triaged", _("Triaged")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING_ON_CLIENT = "waiting_on_client", _("Waiting on client")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        TELEGRAM = "telegram", _("Telegram")
        PORTAL = "portal", _("Portal")
        API = "api", _("API")
        DESK = "desk", _("Desk")
        PHONE = "phone", _("Phone")

    OPEN_STATUSES = (
        Status.NEW,
        Status.TRIAGED,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING_ON_CLIENT,
    )

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="tasks")
    code = models.CharField(_("reference"), max_length=12, default=new_code, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="tasks")
    requester = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="requested_tasks"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    required_skills = models.ManyToManyField(Skill, blank=True, related_name="tasks")
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=5, blank=True)
    assignee = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_tasks"
    )
    estimate_minutes = models.PositiveIntegerField(
        _("estimate (minutes)"), null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="uniq_task_agency_code"),
        ]
        indexes = [
            models.Index(fields=["agency", "status", "due_at"], name="task_agency_status_due"),
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_status_due"),
            models.Index(fields=["client", "status"], name="task_client_status"),
            models.Index(fields=["agency", "created_at"], name="task_agency_created"),
            # Team load (open tasks and estimated hours per assistant) from the index alone.
            models.Index(
                fields=["assignee", "status", "estimate_minutes"], name="task_assignee_load"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @cached_property
    def required_skill_ids(self) -> list[uuid.UUID]:
        """The required skills' ids, sorted (from a ``prefetch_related`` cache if there
        is one). ``create_task`` fills it in for a new task, which saves a query when the
        task is shown right away; an instance whose skills change later must be fetched
        anew, as ``update_task`` returns."""
        return sorted(skill.pk for skill in self.required_skills.all())


class AppendOnlyError(RuntimeError):
    pass


@contextmanager
def history_rewrite() -> Iterator[None]:
    """Allow changing task events inside the current transaction (a database trigger
    keeps them append-only: migrations 0003 and 0004). Only for rewriting history on
    purpose, such as demo data; must run inside ``transaction.atomic``."""
    if not connection.in_atomic_block:
        raise RuntimeError("history_rewrite() must run inside transaction.atomic")
    allow, forbid = _REWRITE_SQL[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(allow)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(forbid)


_REWRITE_SQL = {
    "postgresql": (
        "SET LOCAL delegate.rewrite_history = 'on'",
        "SET LOCAL delegate.rewrite_history = 'off'",
    ),
    "sqlite": (
        "INSERT INTO delegate_history_rewrite DEFAULT VALUES",
        "DELETE FROM delegate_history_rewrite",
    ),
}


class TaskEvent(models.Model):
    """Append-only audit trail of a task; also its activity feed."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        STATUS_CHANGED = "status_changed", _("status changed")
        ASSIGNED = "assigned", _("assigned")
        UPDATED = "updated", _("updated")
        MESSAGE = "message", _("message")
        NOTE = "note", _("internal note")
        ATTACHMENT = "attachment", _("attachment")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    actor_member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True)
    actor_contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at"], name="event_task_created")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Task events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Task events are append-only")

    @property
    def actor_name(self) -> str:
        if self.actor_member_id:
            return self.actor_member.name if self.actor_member else ""
        if self.actor_contact_id:
            return self.actor_contact.name if self.actor_contact else ""
        return "Delegate"


class Message(UUIDModel):
    """One entry in the conversation on a task."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("from client")
        OUTBOUND = "outbound", _("to client")
        INTERNAL = "internal", _("internal")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True)
    author_contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    channel = models.CharField(max_length=20, choices=Task.Channel.choices)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="sanitised HTML")
    is_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["task", "created_at"], name="message_task_created")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(direction="internal") | models.Q(is_internal=True),
                name="message_internal_consistent",
            )
        ]

    @property
    def author_name(self) -> str:
        if self.author_member_id and self.author_member:
            return self.author_member.name
        if self.author_contact_id and self.author_contact:
            return self.author_contact.name
        return "Delegate"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never uses the uploaded name: it is untrusted input.
    return f"attachments/{instance.agency_id}/{instance.id}"


class Attachment(UUIDModel):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by_member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True)
    uploaded_by_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class NotificationDelivery(models.Model):
    """Records that a notification for an event reached a recipient, so running the
    notification job twice sends nothing twice."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    event = models.ForeignKey(TaskEvent, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.EmailField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "recipient"], name="uniq_delivery")]
        # The automatic-mail breaker counts a recipient's deliveries of the last hour.
        indexes = [models.Index(fields=["recipient", "sent_at"], name="delivery_recipient_sent")]
