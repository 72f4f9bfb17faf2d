"""Appointments an assistant books from a task (proposed, booked, moved, cancelled, with
invitations), booking pages, and assistants' own free time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.agencies.models import Member
from delegate.clients.models import Client
from delegate.scheduling.models import Calendar, Event, EventType
from delegate.scheduling.services.availability import (
    DEFAULT_HOURS,
    available_slots,
    holiday_dates,
    parse_hours,
)
from delegate.scheduling.services.events import busy_intervals, push_on_commit, save_event
from delegate.scheduling.slots import Rules, free_slots

# --- appointments from a task ----------------------------------------------------------

TASK_DEFAULTS = {"step_minutes": 30, "min_notice_minutes": 60, "horizon_days": 14}


def propose_times(
    member: Member,
    task: Any,
    *,
    duration_minutes: int = 60,
    count: int = 6,
    now: dt.datetime | None = None,
) -> list[dt.datetime]:
    """Free times of the task's client: all the client's calendars count as busy, the
    client's working hours (weekdays 09–17 in the client's zone) and holidays apply."""
    member.require_same_agency(task)
    client = task.client
    calendars = list(Calendar.objects.filter(agency_id=member.agency_id, client=client))
    if not calendars:
        return []
    probe = EventType(
        agency_id=client.agency_id,
        client=client,
        name="",
        duration_minutes=duration_minutes,
        time_zone=client.time_zone,
        working_hours=DEFAULT_HOURS,
        holiday_region=client.agency.country,
        target_calendar=calendars[0],
        **TASK_DEFAULTS,
    )
    slots = available_slots(probe, now=now, calendars=calendars)
    # Spread the proposals: at most two per day.
    chosen: list[dt.datetime] = []
    per_day: dict[dt.date, int] = {}
    zone = ZoneInfo(client.time_zone)
    for slot in slots:
        day = slot.astimezone(zone).date()
        if per_day.get(day, 0) < 2 and all(abs(slot - c) >= dt.timedelta(hours=2) for c in chosen):
            chosen.append(slot)
            per_day[day] = per_day.get(day, 0) + 1
        if len(chosen) >= count:
            break
    return chosen


def book_appointment(
    member: Member,
    task: Any,
    *,
    calendar: Calendar,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str,
    attendees: Sequence[str],
    location: str = "",
) -> Event:
    """Put an appointment into the client's calendar and invite ``attendees`` by email
    (iCalendar REQUEST). Noted on the task."""
    from delegate.tasks import services as task_services

    member.require_same_agency(task, calendar)
    if calendar.client_id != task.client_id or not calendar.is_writable:
        raise ValidationError(_("Choose a calendar of this client that Delegate can write to."))
    with transaction.atomic():
        event = save_event(
            member,
            calendar,
            summary=summary,
            starts_at=starts_at.astimezone(calendar.zone),
            ends_at=ends_at.astimezone(calendar.zone),
            location=location,
            organizer=_organizer(),
            attendees=[{"email": a, "name": "", "partstat": "NEEDS-ACTION"} for a in attendees],
            task=task,
        )
        when = starts_at.astimezone(calendar.zone)
        task_services.post_message(
            member,
            task,
            is_internal=True,
            text=_("Appointment booked: %(summary)s, %(when)s (%(zone)s), invited: %(who)s")
            % {
                "summary": summary,
                "when": when.strftime("%Y-%m-%d %H:%M"),
                "zone": calendar.time_zone,
                "who": ", ".join(attendees),
            },
        )
        _invite_on_commit(event, "REQUEST")
    return event


def reschedule_appointment(
    member: Member, event: Event, *, starts_at: dt.datetime, ends_at: dt.datetime
) -> Event:
    """Move an appointment; attendees get the updated REQUEST (same UID, SEQUENCE + 1)
    and its task a note."""
    member.require_same_agency(event)
    if event.status == Event.Status.CANCELLED:
        raise ValidationError(_("This appointment was cancelled."))
    zone = event.calendar.zone
    with transaction.atomic():
        event = save_event(
            member,
            event.calendar,
            summary=event.summary,
            uid=event.uid,
            starts_at=starts_at.astimezone(zone),
            ends_at=ends_at.astimezone(zone),
        )
        _note_on_task(
            member,
            event,
            _("Appointment moved: %(summary)s, now %(when)s (%(zone)s)"),
        )
        _invite_on_commit(event, "REQUEST")
    return event


def cancel_appointment(member: Member, event: Event) -> Event:
    """Cancel an appointment; attendees get a CANCEL their calendar app applies, its
    task a note. Cancelling again changes nothing."""
    member.require_same_agency(event)
    with transaction.atomic():
        event = Event.objects.select_for_update().select_related("calendar").get(pk=event.pk)
        if event.status == Event.Status.CANCELLED:
            return event
        event.status = Event.Status.CANCELLED
        event.sequence += 1
        event.save(update_fields=["status", "sequence", "updated_at"])
        push_on_commit(event.calendar, event)
        _note_on_task(member, event, _("Appointment cancelled: %(summary)s, %(when)s (%(zone)s)"))
        _invite_on_commit(event, "CANCEL")
    return event


def _note_on_task(member: Member, event: Event, text: str) -> None:
    from delegate.tasks import services as task_services

    if event.task is None:
        return
    zone = event.calendar.zone
    when = event.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    task_services.post_message(
        member,
        event.task,
        is_internal=True,
        text=text % {"summary": event.summary, "when": when, "zone": zone.key},
    )


def _organizer() -> str:
    from delegate.scheduling.mail import organizer_email

    return organizer_email()


def _invite_on_commit(event: Event, method: str) -> None:
    from delegate.scheduling.jobs import send_invitation

    event_id, sequence = str(event.pk), event.sequence
    transaction.on_commit(lambda: send_invitation.enqueue(event_id, method, sequence))


def save_event_type(
    member: Member,
    client: Client,
    *,
    instance: EventType,
    busy_calendars: Iterable[Calendar],
    working_hours: dict[str, Any],
    questions: list[str],
) -> EventType:
    """Create or change a booking page of ``client``. Its calendars must be the client's."""
    member.require_same_agency(client)
    calendars = list(busy_calendars)
    for calendar in [*calendars, instance.target_calendar]:
        if calendar.agency_id != member.agency_id or calendar.client_id != client.pk:
            raise ValidationError(_("Use calendars of this client."))
    try:
        parse_hours(working_hours)
    except (ValueError, TypeError) as exc:
        raise ValidationError({"working_hours": [_("Write hours like 09:00.")]}) from exc
    instance.agency_id = member.agency_id
    instance.client = client
    instance.working_hours = working_hours
    instance.questions = questions
    instance.full_clean(exclude=["busy_calendars"])
    with transaction.atomic():
        instance.save()
        instance.busy_calendars.set(calendars)
    return instance


# --- assistants' availability ----------------------------------------------------------


def assistant_free_slots(
    member: Member,
    assistant: Member,
    *,
    duration_minutes: int,
    start: dt.datetime,
    end: dt.datetime,
    step_minutes: int = 15,
    now: dt.datetime | None = None,
) -> list[dt.datetime]:
    """When ``assistant`` could take ``duration_minutes`` of work between ``start`` and
    ``end``: their weekly working hours in their own zone, minus their absences and
    public holidays of their region, minus busy time in their own calendars. For routing
    and for proposing times; reveals free/busy only, so any colleague may ask."""
    from delegate.agencies.models import Absence, AssistantProfile, WorkingHours

    member.require_same_agency(assistant)
    now = now or timezone.now()
    profile = AssistantProfile.objects.filter(member=assistant).first()
    zone = ZoneInfo(profile.time_zone if profile else assistant.agency.time_zone)
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    if profile is not None:
        for block in WorkingHours.objects.filter(profile=profile):
            hours.setdefault(block.weekday, []).append((block.starts_at, block.ends_at))
    local_first = start.astimezone(zone).date() - dt.timedelta(days=1)
    local_last = end.astimezone(zone).date() + dt.timedelta(days=1)
    days_off: set[dt.date] = set()
    for absence in Absence.objects.filter(
        member=assistant, starts_on__lte=local_last, ends_on__gte=local_first
    ):
        day = absence.starts_on
        while day <= absence.ends_on:
            days_off.add(day)
            day += dt.timedelta(days=1)
    region = profile.holiday_region if profile else ""
    rules = Rules(
        zone=zone,
        weekly_hours=hours,
        duration=duration_minutes * 60,
        step=step_minutes * 60,
        horizon=max(0, int((end - now).total_seconds())),
        holidays=holiday_dates(region, range(local_first.year, local_last.year + 1))
        | frozenset(days_off),
    )
    lo, hi = int(start.timestamp()), int(end.timestamp())
    calendars = Calendar.objects.filter(agency_id=assistant.agency_id, member=assistant)
    busy = busy_intervals(calendars, start=lo - rules.duration, end=hi + rules.duration)
    slots = free_slots(rules, busy=busy, now=int(now.timestamp()), start=lo, end=hi)
    return [dt.datetime.fromtimestamp(s, tz=dt.UTC) for s in slots]


def send_proposals(member: Member, task: Any, *, times: Sequence[dt.datetime]) -> Any:
    """Offer ``times`` to the client as a message on the task, written in the client's
    language and time zone (the client answers in the conversation; the assistant then
    books the chosen one)."""
    from django.utils import formats, translation

    from delegate.tasks import services as task_services

    member.require_same_agency(task)
    if not times:
        raise ValidationError(_("Choose at least one time to propose."))
    client = task.client
    zone = ZoneInfo(client.time_zone)
    language = client.language
    if task.requester_id and task.requester.language:
        language = task.requester.language
    with translation.override(language):
        lines = [
            "- " + formats.date_format(t.astimezone(zone), "l, j. F Y, H:i") for t in sorted(times)
        ]
        text = "\n".join(
            [
                _("Which of these times suits you? (%(zone)s)") % {"zone": client.time_zone},
                "",
                *lines,
            ]
        )
    return task_services.post_message(member, task, text=text)
