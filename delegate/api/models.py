from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, Member
from delegate.core.models import UUIDModel


class ApiKey(UUIDModel):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored; the token
    itself is shown once, when the key is created.

    A key acts as the member who created it, with that member's role and visibility (an
    assistant's key sees only that assistant's clients). It stops working when it is
    revoked or when that member (or their login) is deactivated."""

    class Scope(models.TextChoices):
        READ_ONLY = "read_only", _("Read only")
        READ_WRITE = "read_write", _("Read and write")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    # The public part of the token, used to find the row without scanning hashes.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    created_by = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="api_keys")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE


class IdempotencyKey(models.Model):
    """The remembered outcome of a create request sent with an ``Idempotency-Key`` header.

    The row is inserted in the same transaction as the object the request creates, so
    the unique constraint on (agency, key) makes a concurrent duplicate wait for the first
    request and then replay its response instead of creating a second object."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    content_type = models.CharField(max_length=100, default="application/json")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "key"], name="uniq_idempotency_agency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"
