from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone

# Crockford-style alphabet without look-alikes: short codes people can read out loud.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


class UUIDModel(models.Model):
    """Public ids are UUIDs: URLs never carry sequential integers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class SchedulerRun(models.Model):
    """One row per (job, time slot). The unique constraint makes the database the referee
    when several scheduler instances race for the same slot: exactly one insert wins."""

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    claimed_by = models.CharField(max_length=200)
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="uniq_scheduler_slot")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot.isoformat()} by {self.claimed_by}"
