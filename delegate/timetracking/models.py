from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, Member
from delegate.clients.models import Client, Contact
from delegate.core.models import UUIDModel
from delegate.tasks.models import Task


class TimeEntry(UUIDModel):
    """Time an assistant spent on a task. A running timer is an entry without
    ``ended_at``; the database allows one per member. ``minutes`` is the actual time:
    rounding is applied when it is billed, by the client's contract."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="time_entries")
    # Denormalised from the task: the ledger sums a client's time without a join.
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="time_entries")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="time_entries")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("minutes"), default=0)
    is_billable = models.BooleanField(_("billable"), default=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by_member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(ended_at__isnull=True), name="one_running_timer"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="time_entry_order",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=False) | Q(approved_at__isnull=True),
                name="running_timer_not_approved",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "started_at"], name="time_client_started"),
            models.Index(fields=["task", "started_at"], name="time_task_started"),
        ]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")

    @property
    def is_running(self) -> bool:
        return self.ended_at is None

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    def elapsed_minutes(self, now: dt.datetime) -> int:
        """Whole minutes so far (for a running timer) or the recorded minutes."""
        if self.ended_at is None:
            return max(0, int((now - self.started_at).total_seconds() // 60))
        return self.minutes
