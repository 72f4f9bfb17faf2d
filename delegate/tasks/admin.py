from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from delegate.tasks.models import Task, TaskEvent


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Any]):
    list_display = ("code", "title", "agency", "client", "status", "assignee", "due_at")
    list_filter = ("status",)
    search_fields = ("code", "title")
    raw_id_fields = ("agency", "client", "requester", "assignee", "category")


@admin.register(TaskEvent)
class TaskEventAdmin(admin.ModelAdmin[Any]):
    """Read-only: the audit trail is append-only."""

    list_display = ("task", "kind", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
