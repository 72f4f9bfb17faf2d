from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from delegate.core.models import UUIDModel

LANGUAGE_CHOICES = [("de", "Deutsch"), ("en", "English")]


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA zone names (reading them walks the zoneinfo folder: ~20 ms a call)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in known_zones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def validate_work_days(value: str) -> None:
    """Weekday digits, 0 = Monday … 6 = Sunday, each at most once ("01234")."""
    if not all(c in "0123456" for c in value) or len(set(value)) != len(value):
        raise ValidationError(_("Give the working days as digits, 0 = Monday … 6 = Sunday."))


def normalise_domain(value: str) -> str:
    """A mail domain as compared and stored: trimmed, lower-case, no trailing dot."""
    return value.strip().lower().rstrip(".")


class Agency(UUIDModel):
    """The tenant. Every tenant-owned row carries a foreign key to it."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    default_language = models.CharField(
        _("default language"), max_length=5, choices=LANGUAGE_CHOICES, default="de"
    )
    # Legal details printed on documents (impressum, invoices).
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    vat_id = models.CharField(_("VAT id"), max_length=20, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True)
    register_entry = models.CharField(_("commercial register"), max_length=100, blank=True)
    managing_directors = models.CharField(_("managing directors"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # Office hours: what "asap" counts in for clients that have none of their own.
    work_days = models.CharField(
        _("working days"),
        max_length=7,
        default="01234",
        help_text=_("0 = Monday … 6 = Sunday"),
        validators=[validate_work_days],
    )
    work_starts_at = models.TimeField(_("working hours from"), default=dt.time(9, 0))
    work_ends_at = models.TimeField(_("working hours until"), default=dt.time(17, 0))
    # The agency's own mail domain for intake (its MX points at Delegate): clients write to
    # tasks@<domain> and tasks+<client code>@<domain>. Empty: only the shared domains.
    intake_domain = models.CharField(
        _("own intake domain"),
        max_length=253,
        blank=True,
        help_text=_("e.g. mail.example.de; clients then write to tasks+<client code>@ it"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # What an owner may change on the settings page (``update_agency``). The country and
    # currency stay: holidays, contracts and invoices were made with them.
    SETTINGS_FIELDS = (
        "name", "time_zone", "default_language", "work_days", "work_starts_at",
        "work_ends_at", "intake_domain", "legal_name", "street", "postal_code", "city",
        "vat_id", "tax_number", "register_entry", "managing_directors", "email", "phone",
    )  # fmt: skip

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.UniqueConstraint(
                fields=["intake_domain"],
                condition=~Q(intake_domain=""),
                name="uniq_agency_intake_domain",
            )
        ]

    def clean(self) -> None:
        super().clean()
        if self.work_starts_at and self.work_ends_at and self.work_starts_at >= self.work_ends_at:
            raise ValidationError({"work_ends_at": _("The working day must end after it starts.")})
        self.intake_domain = normalise_domain(self.intake_domain)
        if self.intake_domain and (
            self.intake_domain in settings.INTAKE_EMAIL_DOMAINS
            or not re.fullmatch(
                r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}", self.intake_domain
            )
        ):
            raise ValidationError(
                {"intake_domain": _("Give a domain of the agency's own, such as mail.example.de.")}
            )
        if (
            self.intake_domain
            and Agency.objects.filter(intake_domain=self.intake_domain).exclude(pk=self.pk).exists()
        ):
            raise ValidationError({"intake_domain": _("Another agency already uses this domain.")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.intake_domain = normalise_domain(self.intake_domain)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class Member(UUIDModel):
    """A user's membership in one agency, with a role. A user may belong to several."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        DISPATCHER = "dispatcher", _("Dispatcher")
        ASSISTANT = "assistant", _("Assistant")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "user"], name="uniq_member_agency_user")
        ]
        verbose_name = _("member")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_manager(self) -> bool:
        """Owners and dispatchers see the whole agency; assistants only their clients."""
        return self.role in (self.Role.OWNER, self.Role.DISPATCHER)

    def require_manager(self) -> None:
        """Raise PermissionDenied unless this member is an owner or dispatcher."""
        if not self.is_manager:
            raise PermissionDenied("Only owners and dispatchers may do this")

    def require_same_agency(self, *objects: Any) -> None:
        """Raise PermissionDenied if any of ``objects`` (None is skipped) belongs to
        another agency: services check what they are handed, whoever fetched it."""
        for obj in objects:
            if obj is not None and obj.agency_id != self.agency_id:
                raise PermissionDenied("Object of another agency")

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER

    @property
    def name(self) -> str:
        return self.user.get_full_name()


class Skill(UUIDModel):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="skills")
    slug = models.SlugField(max_length=60)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "slug"], name="uniq_skill_agency_slug")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssistantProfile(UUIDModel):
    """What routing needs to know about a member who does the work."""

    class Level(models.TextChoices):
        JUNIOR = "junior", _("Junior")
        REGULAR = "regular", _("Regular")
        SENIOR = "senior", _("Senior")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="profile")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default="regular")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    holiday_region = models.CharField(
        _("holiday region"), max_length=10, blank=True, help_text=_("e.g. DE-BY")
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    capacity_hours_per_week = models.DecimalField(
        _("capacity (hours per week)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("40"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("168"))],
    )
    max_open_tasks = models.PositiveIntegerField(_("maximum open tasks"), default=25)

    def __str__(self) -> str:
        return f"profile of {self.member}"


class AssistantSkill(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    profile = models.ForeignKey(AssistantProfile, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="holders")
    level = models.PositiveSmallIntegerField(
        _("level"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "skill"], name="uniq_assistant_skill"),
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=5), name="assistant_skill_level_range"
            ),
        ]


class WorkingHours(models.Model):
    """A block of weekly working time, in the assistant's own time zone."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    profile = models.ForeignKey(
        AssistantProfile, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MaxValueValidator(6)], help_text=_("0 = Monday")
    )
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))

    class Meta:
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="hours_order"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_range"),
        ]


class Absence(UUIDModel):
    """A period a member is away, with the colleague who stands in."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="absences")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (inclusive)"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    stand_in = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stand_in_for",
        verbose_name=_("stand-in"),
    )

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="absence_order"
            ),
            models.CheckConstraint(
                condition=~Q(stand_in=models.F("member")), name="absence_stand_in_not_self"
            ),
        ]
