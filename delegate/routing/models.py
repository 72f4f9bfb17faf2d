from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, Member
from delegate.core.models import UUIDModel
from delegate.tasks.models import Category, Task


class CategoryRoute(models.Model):
    """Agency rule: tasks of ``category`` go only to the members listed for it (when
    routing chooses; a client's primary, stand-in and backup still come first)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routes")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="category_routes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "member"], name="uniq_category_route")
        ]


class RoutingAlert(models.Model):
    """An alert raised about a task, once per (task, kind, key): the key is the deadline
    for deadline alerts and the absence for a task that could not be moved."""

    class Kind(models.TextChoices):
        UNASSIGNED = "unassigned", _("unassigned close to its deadline")
        NOT_STARTED = "not_started", _("not started close to its deadline")
        ABSENT_UNMOVED = "absent_unmoved", _("assignee away, nobody to take over")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="routing_alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "kind", "key"], name="uniq_routing_alert")
        ]
        indexes = [models.Index(fields=["agency", "created_at"], name="routing_alert_recent")]


class RebalanceProposal(UUIDModel):
    """A computed re-assignment of open, unstarted tasks, shown to a dispatcher as a
    list of moves to apply or discard."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        APPLIED = "applied", _("applied")
        DISCARDED = "discarded", _("discarded")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    # [{"task": id, "code", "title", "from": id|None, "from_name", "to": id, "to_name"}]
    moves = models.JSONField(default=list)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
