from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import (
    LANGUAGE_CHOICES,
    Agency,
    Member,
    validate_time_zone,
    validate_work_days,
)
from delegate.core.models import UUIDModel, new_code


class Client(UUIDModel):
    """An organisation or a person the agency works for."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        PERSON = "person", _("Person")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    class ServiceLevel(models.TextChoices):
        STANDARD = "standard", _("Standard")
        PRIORITY = "priority", _("Priority")
        VIP = "vip", _("VIP")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="clients")
    code = models.CharField(_("code"), max_length=12, default=new_code, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default="organisation")
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default="active")
    service_level = models.CharField(
        _("service level"), max_length=20, choices=ServiceLevel.choices, default="standard"
    )
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES, default="de")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    # The client's own working days and hours ("asap" counts in them); empty: the agency's.
    work_days = models.CharField(
        _("working days"),
        max_length=7,
        blank=True,
        help_text=_("0 = Monday … 6 = Sunday"),
        validators=[validate_work_days],
    )
    work_starts_at = models.TimeField(_("working hours from"), null=True, blank=True)
    work_ends_at = models.TimeField(_("working hours until"), null=True, blank=True)
    vat_id = models.CharField(_("VAT id"), max_length=20, blank=True)
    email = models.EmailField(_("billing email"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    primary_assistant = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="primary_clients",
        verbose_name=_("primary assistant"),
    )
    backup_assistant = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backup_clients",
        verbose_name=_("backup assistant"),
    )
    team = models.ManyToManyField(
        Member, through="ClientTeamMember", related_name="team_clients", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="uniq_client_agency_code"),
            models.CheckConstraint(
                condition=~models.Q(primary_assistant=models.F("backup_assistant")),
                name="client_backup_differs_from_primary",
            ),
        ]
        indexes = [models.Index(fields=["agency", "status"])]

    def __str__(self) -> str:
        return self.name


class ClientTeamMember(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    member = models.ForeignKey(Member, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "member"], name="uniq_client_team_member")
        ]


class Address(UUIDModel):
    class Kind(models.TextChoices):
        BILLING = "billing", _("Billing")
        POSTAL = "postal", _("Postal")
        OFFICE = "office", _("Office")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default="billing")
    line1 = models.CharField(_("street and number"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state/region"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "kind"], name="uniq_client_address_kind")
        ]


class Contact(UUIDModel):
    """A person at a client. Their identities recognise who sent an inbound message."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
        verbose_name=_("portal login"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_language(self) -> str:
        return self.language or self.client.language


class ContactIdentity(models.Model):
    """An address a contact can be reached at and recognised by. Values are normalised
    (lower-case email, E.164 phone) and unique per agency and kind, so an inbound sender
    resolves to at most one contact."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        TELEGRAM = "telegram", _("Telegram")
        WHATSAPP = "whatsapp", _("WhatsApp")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=254)
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "kind", "value"], name="uniq_identity_agency_kind_value"
            )
        ]
        ordering = ["kind", "-is_primary", "value"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
