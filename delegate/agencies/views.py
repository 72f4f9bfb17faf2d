"""Team pages: members, their assistant profiles, skills, hours and absences. Managers
run the team; every member keeps their own absences on "my absences"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegate.access import access_absence, access_member
from delegate.agencies import services
from delegate.agencies.forms import (
    AbsenceForm,
    AddMemberForm,
    AgencyForm,
    HoursForm,
    HoursRow,
    MemberForm,
    ProfileForm,
    SkillsForm,
    apply_service_errors,
)
from delegate.agencies.models import Absence, Agency, AssistantProfile, Member, Skill
from delegate.core.http import member_required


def _acting(request: HttpRequest) -> Member:
    member: Member | None = getattr(request, "member", None)
    assert member is not None  # guaranteed by member_required
    return member


def _today(member: Member) -> dt.date:
    return timezone.localdate(timezone=ZoneInfo(member.agency.time_zone))


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _hours_summary(profile: AssistantProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    blocks = list(profile.working_hours.all())
    if not blocks:
        return None
    minutes = sum(
        (b.ends_at.hour * 60 + b.ends_at.minute) - (b.starts_at.hour * 60 + b.starts_at.minute)
        for b in blocks
    )
    days = sorted({b.weekday for b in blocks})
    return {
        "days": [WEEKDAYS_ABBR[d] for d in days],
        "hours": (Decimal(minutes) / 60).quantize(Decimal("0.1")),
    }


# --- the agency's settings -----------------------------------------------------------------


@member_required(manager=True)
@require_http_methods(["GET", "POST"])
def agency_settings(request: HttpRequest) -> HttpResponse:
    """Name, time zone, office hours, intake domain and legal details. Dispatchers see
    them; owners change them."""
    member = _acting(request)
    if request.method == "POST" and not member.is_owner:
        raise PermissionDenied("Only owners change the agency's settings")
    agency = Agency.objects.get(pk=member.agency_id)
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_agency(member, **form.changes())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("agencies:settings")
    if not member.is_owner:
        for field in form.fields.values():
            field.disabled = True
    status = 400 if form.errors else 200
    return render(
        request,
        "agencies/settings.html",
        {"form": form, "can_edit": member.is_owner},
        status=status,
    )


# --- the team ------------------------------------------------------------------------------


@member_required(manager=True)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    member = _acting(request)
    today = _today(member)
    absent_today = Prefetch(
        "absences",
        queryset=Absence.objects.filter(starts_on__lte=today, ends_on__gte=today).select_related(
            "stand_in__user"
        ),
        to_attr="absences_today",
    )
    members = (
        Member.objects.filter(agency_id=member.agency_id)
        .select_related("user", "profile")
        .prefetch_related("profile__skills__skill", "profile__working_hours", absent_today)
        .order_by("-is_active", "user__name", "user__email")
    )
    rows = [_team_row(other) for other in members]
    return render(request, "agencies/team.html", {"rows": rows, "today": today})


def _team_row(other: Member) -> dict[str, Any]:
    try:
        profile: AssistantProfile | None = other.profile
    except AssistantProfile.DoesNotExist:
        profile = None
    absences: list[Absence] = getattr(other, "absences_today", [])
    return {
        "member": other,
        "profile": profile,
        "skills": sorted(profile.skills.all(), key=lambda s: s.skill.name) if profile else [],
        "hours": _hours_summary(profile),
        "absence": absences[0] if absences else None,
    }


@member_required(manager=True)
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest) -> HttpResponse:
    member = _acting(request)
    form = AddMemberForm(request.POST or None, offer_owner=member.is_owner)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.add_member(member, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Member added."))
            return redirect("agencies:member", member_id=new.pk)
    return render(
        request, "agencies/member_add.html", {"form": form}, status=400 if form.is_bound else 200
    )


# --- one member -------------------------------------------------------------------------------


def _agency_skills(member: Member) -> list[Skill]:
    return list(Skill.objects.filter(agency_id=member.agency_id).order_by("name"))


def _render_member(
    request: HttpRequest, target: Member, *, status: int = 200, **forms: Any
) -> HttpResponse:
    member = _acting(request)
    profile = AssistantProfile.objects.filter(member=target).first()
    shown = profile or AssistantProfile(time_zone=member.agency.time_zone)
    context: dict[str, Any] = {
        "target": target,
        "profile": profile,
        "member_form": MemberForm(initial={"role": target.role, "is_active": target.is_active}),
        "profile_form": ProfileForm(
            initial={
                "level": shown.level,
                "time_zone": shown.time_zone,
                "holiday_region": shown.holiday_region,
                "languages": list(shown.languages or []),
                "capacity_hours_per_week": shown.capacity_hours_per_week,
                "max_open_tasks": shown.max_open_tasks,
            }
        ),
        "skills_form": SkillsForm(
            skills=_agency_skills(member),
            initial={
                f"skill_{held.skill_id}": str(held.level)
                for held in (profile.skills.all() if profile else [])
            },
        ),
        "hours_form": HoursForm(
            initial=[
                (b.weekday, b.starts_at, b.ends_at)
                for b in (profile.working_hours.all() if profile else [])
            ]
        ),
    }
    context.update(forms)
    absence_form = forms.get("absence_form") or AbsenceForm(member=member, target=target)
    context.update(_absences_context(member, target, absence_form, own_page=False))
    return render(request, "agencies/member_detail.html", context, status=status)


def _absences_context(
    member: Member, target: Member, form: AbsenceForm, *, own_page: bool
) -> dict[str, Any]:
    """The absences section, on a member's page or on "my absences" (``own_page``)."""
    return {
        "absence_target": target,
        "absences": target.absences.select_related("stand_in__user").order_by("-starts_on"),
        "absence_form": form,
        "absence_add_url": (
            reverse("agencies:my_absences")
            if own_page
            else reverse("agencies:absence_add", args=[target.pk])
        ),
        "absence_delete_url": (
            "agencies:my_absence_delete" if own_page else "agencies:absence_delete"
        ),
        "own_page": own_page,
        "today": _today(member),
    }


@member_required(manager=True)
@require_GET
def member_detail(request: HttpRequest, member_id: UUID) -> HttpResponse:
    target = access_member(_acting(request), member_id)
    return _render_member(request, target)


@member_required(manager=True)
@require_POST
def member_update(request: HttpRequest, member_id: UUID) -> HttpResponse:
    member = _acting(request)
    target = access_member(member, member_id, write=True)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.update_member(member, target, **form.cleaned_data)
        except ValidationError as exc:
            target.refresh_from_db()
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Member saved."))
            return redirect("agencies:member", member_id=target.pk)
    return _render_member(request, target, member_form=form, status=400)


@member_required(manager=True)
@require_POST
def profile_update(request: HttpRequest, member_id: UUID) -> HttpResponse:
    member = _acting(request)
    target = access_member(member, member_id, write=True)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.update_profile(member, target, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("agencies:member", member_id=target.pk)
    return _render_member(request, target, profile_form=form, status=400)


@member_required(manager=True)
@require_POST
def skills_update(request: HttpRequest, member_id: UUID) -> HttpResponse:
    member = _acting(request)
    target = access_member(member, member_id, write=True)
    form = SkillsForm(request.POST, skills=_agency_skills(member))
    if form.is_valid():
        new_skill = form.cleaned_data["new_skill"].strip()
        new_skills = {new_skill: form.cleaned_data["new_skill_level"] or 3} if new_skill else {}
        try:
            services.set_skills(member, target, levels=form.levels(), new_skills=new_skills)
        except ValidationError as exc:
            apply_service_errors(form, exc, {"skill": "new_skill"})
        else:
            messages.success(request, _("Skills saved."))
            return redirect("agencies:member", member_id=target.pk)
    return _render_member(request, target, skills_form=form, status=400)


@member_required(manager=True)
@require_POST
def hours_update(request: HttpRequest, member_id: UUID) -> HttpResponse:
    member = _acting(request)
    target = access_member(member, member_id, write=True)
    form = HoursForm(request.POST)
    if form.is_valid():
        try:
            services.set_working_hours(member, target, blocks=form.blocks)
        except ValidationError as exc:
            form.add_error(exc)
        else:
            messages.success(request, _("Working hours saved."))
            return redirect("agencies:member", member_id=target.pk)
    return _render_member(request, target, hours_form=form, status=400)


@member_required(manager=True)
@require_GET
def hours_row(request: HttpRequest) -> HttpResponse:
    """One more blank working-hours row (htmx)."""
    context = {"row": HoursRow(), "weekdays": HoursForm().weekdays()}
    return render(request, "agencies/member_detail.html#hours_row", context)


# --- absences ----------------------------------------------------------------------------------


def _absence_response(
    request: HttpRequest,
    member: Member,
    target: Member,
    form: AbsenceForm,
    *,
    own_page: bool,
    status: int,
) -> HttpResponse:
    """htmx gets the absences section; a plain POST gets the whole page."""
    context = _absences_context(member, target, form, own_page=own_page)
    if _is_htmx(request):
        return render(request, "agencies/absences.html", context, status=status)
    if own_page:
        return render(request, "agencies/my_absences.html", context, status=status)
    return _render_member(request, target, absence_form=form, status=status)


@member_required(manager=True)
@require_POST
def absence_add(request: HttpRequest, member_id: UUID) -> HttpResponse:
    member = _acting(request)
    target = access_member(member, member_id, write=True)
    return _add_absence(request, member, target, own_page=False)


def _add_absence(
    request: HttpRequest, member: Member, target: Member, *, own_page: bool
) -> HttpResponse:
    form = AbsenceForm(request.POST, member=member, target=target)
    if form.is_valid():
        try:
            services.add_absence(member, target, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if _is_htmx(request):
                fresh = AbsenceForm(member=member, target=target)
                return _absence_response(
                    request, member, target, fresh, own_page=own_page, status=200
                )
            messages.success(request, _("Absence recorded."))
            if own_page:
                return redirect("agencies:my_absences")
            return redirect("agencies:member", member_id=target.pk)
    return _absence_response(request, member, target, form, own_page=own_page, status=400)


@member_required(manager=True)
@require_POST
def absence_delete(request: HttpRequest, absence_id: UUID) -> HttpResponse:
    member = _acting(request)
    absence = access_absence(member, absence_id, write=True)
    target = absence.member
    services.delete_absence(member, absence)
    if _is_htmx(request):
        form = AbsenceForm(member=member, target=target)
        return _absence_response(request, member, target, form, own_page=False, status=200)
    messages.success(request, _("Absence deleted."))
    return redirect("agencies:member", member_id=target.pk)


@member_required()
@require_http_methods(["GET", "POST"])
def my_absences(request: HttpRequest) -> HttpResponse:
    member = _acting(request)
    if request.method == "POST":
        return _add_absence(request, member, member, own_page=True)
    form = AbsenceForm(member=member, target=member)
    context = _absences_context(member, member, form, own_page=True)
    return render(request, "agencies/my_absences.html", context)


@member_required()
@require_POST
def my_absence_delete(request: HttpRequest, absence_id: UUID) -> HttpResponse:
    member = _acting(request)
    absence = access_absence(member, absence_id)
    if absence.member_id != member.pk:
        # Someone else's absence is not on "my absences".
        raise Http404("No such absence")
    services.delete_absence(member, absence)
    if _is_htmx(request):
        form = AbsenceForm(member=member, target=member)
        return _absence_response(request, member, member, form, own_page=True, status=200)
    messages.success(request, _("Absence deleted."))
    return redirect("agencies:my_absences")
