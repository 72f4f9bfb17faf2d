"""Staff pages: calendars, booking pages and appointments from a task. Every object in
the URL comes through ``delegate.access``; assistants see their clients' and their own."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegate.access import (
    access_calendar,
    access_client,
    access_event,
    access_event_type,
    access_task,
    calendars_visible_to,
    clients_visible_to,
)
from delegate.agencies.forms import apply_service_errors
from delegate.agencies.models import Member
from delegate.core.http import member_required
from delegate.scheduling import ical, services, sync
from delegate.scheduling.forms import (
    CalendarForm,
    EventForm,
    EventTypeForm,
    OccurrenceForm,
    hours_text,
)
from delegate.scheduling.models import Calendar, EventType
from delegate.scheduling.recurrence import occurrences

UPCOMING_DAYS = 14
RECENT_BOOKINGS = 20


def _acting(request: HttpRequest) -> Member:
    member: Member | None = getattr(request, "member", None)
    assert member is not None  # guaranteed by member_required
    return member


@member_required()
@require_GET
def calendar_list(request: HttpRequest) -> HttpResponse:
    member = _acting(request)
    calendars = calendars_visible_to(member).select_related("client", "member__user")
    event_types = EventType.objects.filter(client__in=clients_visible_to(member)).select_related(
        "client"
    )
    return render(
        request,
        "scheduling/calendar_list.html",
        {"calendars": calendars, "event_types": event_types, "clients": clients_visible_to(member)},
    )


@member_required()
@require_http_methods(["GET", "POST"])
def calendar_create(request: HttpRequest) -> HttpResponse:
    """``?client=<id>`` makes a client's calendar, without it the member's own."""
    member = _acting(request)
    client_id = request.GET.get("client") or request.POST.get("client")
    client = access_client(member, client_id) if client_id else None
    form = CalendarForm(
        request.POST or None,
        initial={"time_zone": client.time_zone if client else member.agency.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        try:
            calendar = services.create_calendar(
                member, client=client, owner=None if client else member, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("scheduling:calendar", calendar.pk)
    return render(
        request,
        "scheduling/calendar_form.html",
        {"form": form, "client": client},
        status=400 if form.errors else 200,
    )


@member_required()
@require_http_methods(["GET", "POST"])
def calendar_detail(request: HttpRequest, calendar_id: Any) -> HttpResponse:
    member = _acting(request)
    calendar = access_calendar(member, calendar_id, write=request.method == "POST")
    zone = calendar.zone
    form = EventForm(request.POST or None)
    if request.method == "POST":
        if not calendar.is_writable:
            form.add_error(None, _("This calendar mirrors a feed and is read-only."))
        elif form.is_valid():
            data = form.cleaned_data
            start = _aware_input(data["starts_at"], zone)
            end = _aware_input(data["ends_at"], zone)
            try:
                services.save_event(
                    member,
                    calendar,
                    summary=data["summary"],
                    starts_at=start.date() if data["is_all_day"] else start,
                    ends_at=(end.date() + dt.timedelta(days=1)) if data["is_all_day"] else end,
                    rrule=data["rrule"],
                    location=data["location"],
                    is_busy=data["is_busy"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Event saved."))
                return redirect("scheduling:calendar", calendar.pk)
    now = timezone.now()
    end = now + dt.timedelta(days=UPCOMING_DAYS)
    events = list(services.events_touching(calendar, start=now, end=end))
    masters = {e.uid: e for e in events if not e.recurrence_id}
    titles = {(e.uid, bool(e.recurrence_id)): e.summary for e in events}
    upcoming = [
        {
            "start": dt.datetime.fromtimestamp(o.start, tz=zone),
            "end": dt.datetime.fromtimestamp(o.end, tz=zone),
            "summary": titles.get((o.event.uid, o.event.recurrence_id is not None), ""),
            "master": masters.get(o.event.uid) if o.event.rrule or o.event.recurrence_id else None,
            # the occurrence's own start before any move: names it for move and skip
            "original": (
                ical._aware(o.event.recurrence_id, zone).astimezone(zone)
                if o.event.recurrence_id is not None
                else dt.datetime.fromtimestamp(o.start, tz=zone)
            ),
            "is_moved": o.event.recurrence_id is not None,
            "is_busy": o.event.is_busy,
        }
        for o in occurrences(
            [e.spec(zone) for e in events],
            zone=zone,
            start=int(now.timestamp()),
            end=int(end.timestamp()),
        )
    ]
    context = {
        "calendar": calendar,
        "events": events,
        "upcoming": upcoming,
        "form": form,
        "feed_url": request.build_absolute_uri(reverse("booking:feed", args=[calendar.feed_token])),
    }
    with timezone.override(zone):  # times as the calendar's owner reads them
        return render(
            request, "scheduling/calendar_detail.html", context, status=400 if form.errors else 200
        )


@member_required()
@require_POST
def calendar_sync(request: HttpRequest, calendar_id: Any) -> HttpResponse:
    member = _acting(request)
    calendar = access_calendar(member, calendar_id, write=True)
    if calendar.source == Calendar.Source.LOCAL:
        messages.error(request, _("This calendar is not synced with anything."))
    else:
        try:
            result = sync.refresh_calendar(calendar)
        except Exception as exc:
            messages.error(request, _("Sync failed: %(error)s") % {"error": exc})
        else:
            messages.success(
                request,
                _("Synced: %(n)s new, %(u)s changed, %(d)s removed.")
                % {"n": result.created, "u": result.updated, "d": result.deleted},
            )
    return redirect("scheduling:calendar", calendar.pk)


@member_required()
@require_POST
def occurrence_skip(request: HttpRequest, event_id: Any) -> HttpResponse:
    member = _acting(request)
    event = access_event(member, event_id, write=True)
    try:
        occurrence = dt.datetime.fromisoformat(request.POST.get("occurrence", ""))
        if occurrence.tzinfo is None:
            raise ValueError("no offset")
        services.skip_occurrence(member, event, occurrence=occurrence)
    except (ValueError, ValidationError):
        messages.error(request, _("This occurrence could not be skipped."))
    return redirect("scheduling:calendar", event.calendar_id)


def _aware_input(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A datetime-local field's value, read in ``zone``."""
    return value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)


@member_required()
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, event_id: Any) -> HttpResponse:
    """Change an event; a repeating one changes for all its occurrences."""
    member = _acting(request)
    event = access_event(member, event_id, write=request.method == "POST")
    calendar = event.calendar
    zone = event.zone
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    if event.is_all_day:
        end -= dt.timedelta(days=1)  # the form shows the last day, not the exclusive end
    initial = {
        "summary": event.summary,
        "starts_at": start.replace(tzinfo=None),
        "ends_at": end.replace(tzinfo=None),
        "is_all_day": event.is_all_day,
        "rrule": event.rrule,
        "location": event.location,
        "is_busy": event.is_busy,
    }
    form = EventForm(request.POST or None, initial=initial)
    if event.recurrence_id:
        del form.fields["rrule"]  # one moved occurrence does not repeat
    if request.method == "POST":
        with timezone.override(zone):  # the times typed are the event's local times
            valid = form.is_valid()
        if not calendar.is_writable:
            form.add_error(None, _("This calendar mirrors a feed and is read-only."))
        elif valid:
            data = form.cleaned_data
            new_start = _aware_input(data["starts_at"], zone)
            new_end = _aware_input(data["ends_at"], zone)
            changes: dict[str, Any] = {
                "summary": data["summary"],
                "location": data["location"],
                "is_busy": data["is_busy"],
                "starts_at": new_start.date() if data["is_all_day"] else new_start,
                "ends_at": (
                    new_end.date() + dt.timedelta(days=1) if data["is_all_day"] else new_end
                ),
            }
            if "rrule" in data:
                changes["rrule"] = data["rrule"]
            try:
                services.update_event(member, event, **changes)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Event saved."))
                return redirect("scheduling:calendar", calendar.pk)
    with timezone.override(zone):
        return render(
            request,
            "scheduling/event_form.html",
            {"form": form, "event": event, "calendar": calendar, "zone": zone.key},
            status=400 if form.errors else 200,
        )


@member_required()
@require_http_methods(["GET", "POST"])
def occurrence_move(request: HttpRequest, event_id: Any) -> HttpResponse:
    """Give one occurrence of a repeating event another time (``?occurrence=`` names
    it by its start, ISO with offset)."""
    member = _acting(request)
    event = access_event(member, event_id, write=request.method == "POST")
    calendar = event.calendar
    zone = event.zone
    raw = request.POST.get("occurrence") or request.GET.get("occurrence", "")
    try:
        occurrence = dt.datetime.fromisoformat(raw)
        if occurrence.tzinfo is None:
            raise ValueError("no offset")
    except ValueError:
        raise Http404("No such occurrence") from None
    override = event.calendar.events.filter(
        uid=event.uid, recurrence_id=services.occurrence_value(event, occurrence)
    ).first()
    shown = override or event
    length = shown.ends_at - shown.starts_at
    current = override.starts_at if override else occurrence
    initial = {
        "summary": shown.summary,
        "starts_at": current.astimezone(zone).replace(tzinfo=None),
        "ends_at": (current + length).astimezone(zone).replace(tzinfo=None),
    }
    form = OccurrenceForm(request.POST or None, initial=initial)
    with timezone.override(zone):  # the times typed are the event's local times
        valid = request.method == "POST" and form.is_valid()
    if valid:
        data = form.cleaned_data
        try:
            services.move_occurrence(
                member,
                event,
                occurrence=occurrence,
                starts_at=_aware_input(data["starts_at"], zone),
                ends_at=_aware_input(data["ends_at"], zone),
                summary=data["summary"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("This occurrence was moved."))
            return redirect("scheduling:calendar", calendar.pk)
    context = {
        "form": form,
        "event": event,
        "calendar": calendar,
        "occurrence": occurrence.astimezone(zone),
        "zone": zone.key,
    }
    with timezone.override(zone):
        return render(
            request,
            "scheduling/occurrence_form.html",
            context,
            status=400 if form.errors else 200,
        )


@member_required()
@require_POST
def event_delete(request: HttpRequest, event_id: Any) -> HttpResponse:
    member = _acting(request)
    event = access_event(member, event_id, write=True)
    calendar_id = event.calendar_id
    services.delete_event(member, event)
    return redirect("scheduling:calendar", calendar_id)


def _event_type_form(
    request: HttpRequest, member: Member, client: Any, instance: EventType | None
) -> HttpResponse:
    calendars = calendars_visible_to(member).filter(client=client)
    initial = {}
    if instance is not None:
        initial = {
            "hours": hours_text(instance.working_hours),
            "question_lines": "\n".join(instance.questions),
        }
    else:
        initial = {"time_zone": client.time_zone, "holiday_region": client.agency.country}
    form = EventTypeForm(
        request.POST or None, instance=instance, initial=initial, calendars=calendars
    )
    if request.method == "POST" and form.is_valid():
        event_type = services.save_event_type(
            member,
            client,
            instance=form.save(commit=False),
            busy_calendars=form.cleaned_data["busy_calendars"],
            working_hours=form.cleaned_data["hours"],
            questions=form.cleaned_data["question_lines"],
        )
        messages.success(request, _("Booking page saved."))
        return redirect("scheduling:event_type", event_type.pk)
    return render(
        request,
        "scheduling/event_type_form.html",
        {
            "form": form,
            "client": client,
            "event_type": instance,
            # what visitors did lately: the booking page's activity
            "bookings": (
                instance.bookings.order_by("-created_at")[:RECENT_BOOKINGS]
                if instance is not None
                else []
            ),
        },
        status=400 if form.errors else 200,
    )


@member_required()
@require_http_methods(["GET", "POST"])
def event_type_create(request: HttpRequest, client_id: Any) -> HttpResponse:
    member = _acting(request)
    client = access_client(member, client_id)
    return _event_type_form(request, member, client, None)


@member_required()
@require_http_methods(["GET", "POST"])
def event_type_edit(request: HttpRequest, event_type_id: Any) -> HttpResponse:
    member = _acting(request)
    event_type = access_event_type(member, event_type_id, write=request.method == "POST")
    return _event_type_form(request, member, event_type.client, event_type)


@member_required()
@require_http_methods(["GET", "POST"])
def task_appointment(request: HttpRequest, task_id: Any) -> HttpResponse:
    """Propose free times of the task's client and book one, inviting the attendees."""
    member = _acting(request)
    task = access_task(member, task_id, write=request.method == "POST")
    calendars = calendars_visible_to(member).filter(client=task.client_id)
    zone = ZoneInfo(task.client.time_zone)
    try:
        duration = max(
            15, min(480, int(request.GET.get("minutes") or request.POST.get("minutes") or 60))
        )
    except ValueError:
        duration = 60
    error = ""
    action = request.POST.get("action")
    if request.method == "POST" and action in ("reschedule", "cancel"):
        appointment = _task_appointment(member, task, request.POST.get("event"))
        try:
            if action == "cancel":
                services.cancel_appointment(member, appointment)
                messages.success(request, _("Appointment cancelled; attendees were told."))
            else:
                start = dt.datetime.fromisoformat(request.POST.get("start", ""))
                start = _aware_input(start, zone)
                length = appointment.ends_at - appointment.starts_at
                services.reschedule_appointment(
                    member, appointment, starts_at=start, ends_at=start + length
                )
                messages.success(request, _("Appointment moved; attendees got the new time."))
        except (ValueError, ValidationError) as exc:
            error = "; ".join(getattr(exc, "messages", [str(exc)]))
        else:
            return redirect("scheduling:task_appointment", task.pk)
    elif request.method == "POST" and action == "propose":
        try:
            times = [dt.datetime.fromisoformat(t) for t in request.POST.getlist("start")]
            if any(t.tzinfo is None for t in times):
                raise ValueError("times need an offset")
            services.send_proposals(member, task, times=times)
        except (ValueError, ValidationError) as exc:
            error = "; ".join(getattr(exc, "messages", [str(exc)]))
        else:
            messages.success(request, _("The times were sent to the client."))
            return redirect("tasks:detail", task.pk)
    elif request.method == "POST":
        calendar = access_calendar(member, request.POST.get("calendar"), write=True)
        try:
            start = dt.datetime.fromisoformat(request.POST.get("start", ""))
            if start.tzinfo is None:
                start = start.replace(tzinfo=zone)
            attendees = [
                a.strip() for a in request.POST.get("attendees", "").split(",") if a.strip()
            ]
            services.book_appointment(
                member,
                task,
                calendar=calendar,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=duration),
                summary=request.POST.get("summary", "").strip() or task.title,
                attendees=attendees,
                location=request.POST.get("location", "").strip(),
            )
        except (ValueError, ValidationError) as exc:
            error = "; ".join(getattr(exc, "messages", [str(exc)]))
        else:
            messages.success(request, _("Appointment booked and invitation sent."))
            return redirect("tasks:detail", task.pk)
    proposals = [
        p.astimezone(zone) for p in services.propose_times(member, task, duration_minutes=duration)
    ]
    default_attendee = ""
    if task.requester_id:
        from delegate.tasks.notifications import contact_email

        default_attendee = contact_email(task.requester) or ""
    appointments = (
        task.appointments.filter(calendar__in=calendars)
        .select_related("calendar")
        .order_by("starts_at")
    )
    context = {
        "task": task,
        "appointments": appointments,
        "calendars": calendars,
        "proposals": proposals,
        "minutes": duration,
        "zone": zone.key,
        "error": error,
        "attendees": default_attendee,
    }
    with timezone.override(zone):  # the client's local times
        return render(
            request, "scheduling/task_appointment.html", context, status=400 if error else 200
        )


def _task_appointment(member: Member, task: Any, event_id: Any) -> Any:
    """An appointment booked from ``task`` (404 for any other event)."""
    event = access_event(member, event_id, write=True)
    if event.task_id != task.pk:
        raise Http404("No such appointment")
    return event
