"""Inbound messages: every message from every channel, stored raw before anything else."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, Member
from delegate.clients.models import Client, Contact
from delegate.core.models import UUIDModel
from delegate.tasks.models import Message, Task


class InboundMessage(UUIDModel):
    """One message as it arrived. ``raw`` holds the bytes exactly as received (the mail,
    the webhook body); everything else is derived from it and can be derived again.

    ``dedupe_key`` makes a second delivery of the same message a no-op: the SHA-256 of
    the raw bytes for email (so the same Message-ID with other content is another
    message), the provider's id (``MessageSid``, ``update_id``) for SMS and Telegram."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        TELEGRAM = "telegram", _("Telegram")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PARSED = "parsed", _("Parsed")
        ATTACHED = "attached", _("Attached to a task")
        QUARANTINED = "quarantined", _("Quarantined")
        IGNORED = "ignored", _("Ignored (automatic mail)")
        LINKED = "linked", _("Chat linked to a contact")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    # States in which processing is finished: running the job again changes nothing.
    SETTLED_STATES = (
        State.ATTACHED, State.QUARANTINED, State.IGNORED, State.REJECTED, State.LINKED,
    )  # fmt: skip

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="inbound")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    raw = models.BinaryField()
    size = models.PositiveBigIntegerField()
    content_sha256 = models.CharField(max_length=64)
    dedupe_key = models.CharField(max_length=200)
    # Where it arrived: the envelope recipient (email), the number or bot (SMS, Telegram).
    recipient = models.CharField(_("recipient"), max_length=320, blank=True)
    envelope_sender = models.CharField(max_length=320, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.RECEIVED
    )
    error = models.TextField(_("error"), blank=True)
    note = models.CharField(_("how it was handled"), max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Set when a worker takes the message into its batch (see services.claim_pending):
    # other workers leave it alone. A claim a killed worker never finished is released
    # by the sweep, which queues the message on its own (see services.enqueue_stale).
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    # Filled in by parsing.
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    header_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    summary = models.TextField(_("text"), blank=True)
    client_hint = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # The outcome.
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    task = models.ForeignKey(
        Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound"
    )
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True)
    is_new_task = models.BooleanField(default=False)
    handled_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "channel", "dedupe_key"], name="uniq_inbound_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["agency", "state", "received_at"], name="inbound_agency_state"),
            models.Index(fields=["state", "received_at"], name="inbound_state_received"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.sender or '?'} {self.state}"

    @property
    def is_retryable(self) -> bool:
        return self.state in (self.State.FAILED, self.State.RECEIVED, self.State.PARSED)


class OutboundDelivery(models.Model):
    """A message to a client sent by SMS or Telegram: one row per (event, channel), so
    a job that runs twice sends once; the provider's id and delivery status."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    event = models.ForeignKey("tasks.TaskEvent", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, choices=InboundMessage.Channel.choices)
    recipient = models.CharField(max_length=100)
    provider_id = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="uniq_outbound_delivery")
        ]


class TelegramLinkCode(models.Model):
    """A one-time code a contact sends to the agency's bot to link their chat."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=12)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="uniq_telegram_link_code")
        ]
