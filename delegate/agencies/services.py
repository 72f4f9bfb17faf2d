"""Writes on the agency, its members and their assistant profiles."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from delegate.accounts.models import User
from delegate.agencies.models import (
    Absence,
    Agency,
    AssistantProfile,
    AssistantSkill,
    Member,
    Skill,
    WorkingHours,
)
from delegate.core.validation import reject_unknown_fields

PROFILE_FIELDS = (
    "level",
    "time_zone",
    "holiday_region",
    "languages",
    "capacity_hours_per_week",
    "max_open_tasks",
)


def update_agency(member: Member, **fields: Any) -> Agency:
    """Change the agency's settings (owners only): office hours, which triage resolves
    "asap" and working days in for clients without their own; the intake domain; the
    legal details printed on documents."""
    if not member.is_owner:
        raise PermissionDenied("Only owners change the agency's settings")
    reject_unknown_fields(fields, Agency.SETTINGS_FIELDS)
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=member.agency_id)
        for name, value in fields.items():
            setattr(agency, name, value)
        agency.full_clean()
        try:
            with transaction.atomic():
                agency.save(update_fields=[*fields])
        except IntegrityError:  # another agency took the intake domain meanwhile
            raise ValidationError(
                {"intake_domain": _("Another agency already uses this domain.")}
            ) from None
    member.agency = agency
    return agency


def create_agency(user: User, *, name: str, slug: str = "", **fields: Any) -> Member:
    """A new agency with ``user`` as its owner; returns the owner membership."""
    agency = Agency(name=name, slug=slug or slugify(name)[:60], **fields)
    agency.full_clean()
    with transaction.atomic():
        agency.save()
        return Member.objects.create(agency=agency, user=user, role=Member.Role.OWNER)


def add_member(
    member: Member, *, email: str, name: str, role: str, password: str | None = None
) -> Member:
    """Add a person to the agency, creating their login if they have none yet. Only an
    owner may add owners."""
    member.require_manager()
    if role not in Member.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role == Member.Role.OWNER and not member.is_owner:
        raise PermissionDenied("Only owners add owners")
    email = email.strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, password, name=name)
        if Member.objects.filter(agency_id=member.agency_id, user=user).exists():
            raise ValidationError({"email": _("This person is already a member.")})
        new = Member.objects.create(agency_id=member.agency_id, user=user, role=role)
        if role == Member.Role.ASSISTANT:
            AssistantProfile.objects.create(agency_id=member.agency_id, member=new)
    return new


def ensure_profile(member: Member) -> AssistantProfile:
    profile, _created = AssistantProfile.objects.get_or_create(
        member=member, defaults={"agency_id": member.agency_id}
    )
    return profile


def update_member(member: Member, target: Member, **fields: Any) -> Member:
    member.require_manager()
    member.require_same_agency(target)
    if "role" in fields:
        role = fields["role"]
        if role not in Member.Role.values:
            raise ValidationError({"role": _("Unknown role.")})
        if Member.Role.OWNER in (role, target.role) and not member.is_owner:
            raise PermissionDenied("Only owners change owners")
        if target.role == Member.Role.OWNER and role != Member.Role.OWNER:
            others = Member.objects.filter(
                agency_id=target.agency_id, role=Member.Role.OWNER, is_active=True
            ).exclude(pk=target.pk)
            if not others.exists():
                raise ValidationError({"role": _("An agency needs at least one owner.")})
    if fields.get("is_active") is False and target.role == Member.Role.OWNER:
        if not member.is_owner:
            raise PermissionDenied("Only owners change owners")
        others = Member.objects.filter(
            agency_id=target.agency_id, role=Member.Role.OWNER, is_active=True
        ).exclude(pk=target.pk)
        if not others.exists():
            raise ValidationError({"is_active": _("An agency needs at least one active owner.")})
    reject_unknown_fields(fields, ["role", "is_active"])
    for name, value in fields.items():
        setattr(target, name, value)
    target.save()
    return target


def update_profile(member: Member, target: Member, **fields: Any) -> AssistantProfile:
    member.require_manager()
    member.require_same_agency(target)
    reject_unknown_fields(fields, PROFILE_FIELDS)
    profile = ensure_profile(target)
    for name, value in fields.items():
        setattr(profile, name, value)
    if "capacity_hours_per_week" in fields:
        profile.capacity_hours_per_week = Decimal(str(profile.capacity_hours_per_week))
    profile.full_clean()
    profile.save()
    return profile


def get_or_create_skill(member: Member, name: str) -> Skill:
    member.require_manager()
    slug = slugify(name)[:60]
    if not slug:
        raise ValidationError({"skill": _("A skill needs a name.")})
    skill, _created = Skill.objects.get_or_create(
        agency_id=member.agency_id, slug=slug, defaults={"name": name.strip()}
    )
    return skill


def set_skills(
    member: Member,
    target: Member,
    *,
    levels: dict[Skill, int],
    new_skills: dict[str, int] | None = None,
) -> None:
    """Replace the target's skills with ``levels`` (skill → 1..5), plus skills named in
    ``new_skills`` (name → level), created for the agency where missing. All or nothing."""
    member.require_manager()
    member.require_same_agency(target, *levels.keys())
    wanted = dict(levels)
    with transaction.atomic():
        for name, level in (new_skills or {}).items():
            wanted[get_or_create_skill(member, name)] = level
        if any(not 1 <= level <= 5 for level in wanted.values()):
            raise ValidationError({"level": _("A skill level lies between 1 and 5.")})
        profile = ensure_profile(target)
        AssistantSkill.objects.filter(profile=profile).delete()
        AssistantSkill.objects.bulk_create(
            AssistantSkill(agency_id=member.agency_id, profile=profile, skill=s, level=lvl)
            for s, lvl in wanted.items()
        )


def set_working_hours(
    member: Member, target: Member, *, blocks: Iterable[tuple[int, dt.time, dt.time]]
) -> None:
    """Replace the weekly working hours (weekday 0=Monday, start, end in the assistant's
    own time zone). Blocks on one day must not overlap."""
    member.require_manager()
    member.require_same_agency(target)
    blocks = sorted(blocks)
    for weekday, start, end in blocks:
        if not 0 <= weekday <= 6:
            raise ValidationError({"weekday": _("Weekday must be 0 (Monday) to 6 (Sunday).")})
        if end <= start:
            raise ValidationError({"hours": _("A block must end after it starts.")})
    for (day_a, _start_a, end_a), (day_b, start_b, _end_b) in itertools.pairwise(blocks):
        if day_a == day_b and start_b < end_a:
            raise ValidationError({"hours": _("Working hours on one day overlap.")})
    profile = ensure_profile(target)
    with transaction.atomic():
        WorkingHours.objects.filter(profile=profile).delete()
        WorkingHours.objects.bulk_create(
            WorkingHours(
                agency_id=member.agency_id, profile=profile, weekday=d, starts_at=s, ends_at=e
            )
            for d, s, e in blocks
        )


def add_absence(
    member: Member,
    target: Member,
    *,
    starts_on: dt.date,
    ends_on: dt.date,
    stand_in: Member | None = None,
    reason: str = "",
) -> Absence:
    """Managers record anyone's absence; assistants may record their own."""
    if member.pk != target.pk:
        member.require_manager()
    member.require_same_agency(target, stand_in)
    if stand_in is not None and (stand_in.pk == target.pk or not stand_in.is_active):
        raise ValidationError({"stand_in": _("The stand-in must be another active member.")})
    absence = Absence(
        agency_id=member.agency_id,
        member=target,
        starts_on=starts_on,
        ends_on=ends_on,
        stand_in=stand_in,
        reason=reason,
    )
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("An absence ends on or after its first day.")})
    absence.full_clean()
    with transaction.atomic():
        absence.save()
        _move_work_if_away_now(absence)
    return absence


def _move_work_if_away_now(absence: Absence) -> None:
    """An absence entered for today (or entered late) hands the absent assistant's open
    tasks to the stand-ins now, through routing, once the absence is committed. A day
    either side covers every time zone: routing checks the assistant's own date."""
    today = timezone.now().date()
    if absence.starts_on > today + dt.timedelta(days=1):
        return
    if absence.ends_on < today - dt.timedelta(days=1):
        return
    from delegate.routing.jobs import move_absent_work

    absence_id = str(absence.pk)
    transaction.on_commit(lambda: move_absent_work.enqueue(absence_id))


def delete_absence(member: Member, absence: Absence) -> None:
    if member.pk != absence.member_id:
        member.require_manager()
    member.require_same_agency(absence)
    absence.delete()


def absent_today(member: Member, today: dt.date) -> Absence | None:
    return Absence.objects.filter(member=member, starts_on__lte=today, ends_on__gte=today).first()
