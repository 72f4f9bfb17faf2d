"""The public booking pages: no login; the event type is named by its opaque slug and a
booking by a signed token. Visitors see times in their own zone and language."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods

from delegate.scheduling import ratelimit, services, sms
from delegate.scheduling.forms import VisitorForm, known_zones, valid_zone
from delegate.scheduling.models import Booking, Calendar, EventType

DAYS_SHOWN = 7


@functools.cache
def zones() -> list[str]:
    return sorted(known_zones())


def _event_type(slug: str) -> EventType:
    event_type = (
        EventType.objects.select_related("client", "target_calendar", "agency")
        .filter(slug=slug, is_active=True)
        .first()
    )
    if event_type is None:
        raise Http404("No such booking page")
    return event_type


def _parse_start(value: str | None) -> dt.datetime | None:
    """A chosen start time from the page (ISO with offset); None if malformed."""
    try:
        parsed = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return parsed


def _language(request: HttpRequest, default: str) -> str:
    lang = request.GET.get("lang") or request.POST.get("lang")
    if lang in {"de", "en"}:
        return lang
    header = request.headers.get("Accept-Language", "")
    if header:
        return translation.get_language_from_request(request)[:2]
    return default


def _week(
    request: HttpRequest, event_type: EventType, zone: ZoneInfo, *, exclude: Booking | None = None
) -> dict[str, Any]:
    """Free slots of ``DAYS_SHOWN`` days from ``?day=`` (visitor's zone), grouped by day."""
    today = timezone.now().astimezone(zone).date()
    try:
        first = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        first = today
    first = max(first, today)
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = start + dt.timedelta(days=DAYS_SHOWN)
    slots = services.available_slots(event_type, start=start, end=end)
    days: dict[dt.date, list[dt.datetime]] = defaultdict(list)
    for slot in slots:
        local = slot.astimezone(zone)
        days[local.date()].append(local)
    horizon = today + dt.timedelta(days=event_type.horizon_days)
    return {
        "days": sorted(days.items()),
        "first": first,
        "previous": first - dt.timedelta(days=DAYS_SHOWN) if first > today else None,
        "next": first + dt.timedelta(days=DAYS_SHOWN) if end.date() <= horizon else None,
        "tz": zone.key,
    }


@require_GET
def booking_page(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = _event_type(slug)
    language = _language(request, event_type.client.language)
    zone = ZoneInfo(valid_zone(request.GET.get("tz"), event_type.time_zone))
    with translation.override(language), timezone.override(zone):
        context = {"event_type": event_type, "lang": language, **_week(request, event_type, zone)}
        if not request.htmx:  # type: ignore[attr-defined]
            context["zones"] = zones()
        template = "scheduling/public/slots.html" if request.htmx else "scheduling/public/page.html"  # type: ignore[attr-defined]
        return render(request, template, context)


def _too_many(request: HttpRequest, event_type: EventType, language: str) -> HttpResponse:
    with translation.override(language):
        response = render(
            request,
            "scheduling/public/too_many.html",
            {
                "event_type": event_type,
                "lang": language,
                "minutes": -(-ratelimit.retry_after() // 60),
            },
            status=429,
        )
    response["Retry-After"] = str(ratelimit.retry_after())
    return response


@require_http_methods(["GET", "POST"])
def booking_form(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = _event_type(slug)
    language = _language(request, event_type.client.language)
    if request.method == "POST" and not ratelimit.allow(request, event_type.slug):
        return _too_many(request, event_type, language)
    data = request.POST if request.method == "POST" else request.GET
    zone = ZoneInfo(valid_zone(data.get("tz"), event_type.time_zone))
    with translation.override(language), timezone.override(zone):
        form = VisitorForm(
            data if request.method == "POST" else None,
            initial={"start": data.get("start"), "tz": zone.key},
            questions=event_type.questions,
            ask_phone=bool(sms.sender_for(event_type.agency)),
            phone_region=event_type.agency.country,
        )
        context: dict[str, Any] = {
            "event_type": event_type,
            "lang": language,
            "form": form,
            "tz": zone.key,
        }
        if request.method == "GET":
            start = _parse_start(data.get("start"))
            if start is None:
                raise Http404("No time chosen")
            context["start"] = (
                start.astimezone(zone) if start.tzinfo else start.replace(tzinfo=zone)
            )
            return render(request, "scheduling/public/form.html", context)
        if not form.is_valid():
            context["start"] = form.cleaned_data.get("start")
            return render(request, "scheduling/public/form.html", context, status=400)
        visitor = services.Visitor(
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            phone=form.cleaned_data.get("phone", ""),
            answers=form.answers(),
            language=language,
            time_zone=zone.key,
        )
        try:
            booking = services.book(
                event_type, starts_at=form.cleaned_data["start"], visitor=visitor, by_visitor=True
            )
        except services.SlotUnavailable:
            context.update(_week(request, event_type, zone), taken=True, zones=zones())
            return render(request, "scheduling/public/page.html", context, status=409)
        context.update(
            booking=booking,
            start=booking.starts_at.astimezone(zone),
            token=services.booking_token(booking),
        )
        return render(request, "scheduling/public/done.html", context)


@require_http_methods(["GET", "POST"])
def manage_booking(request: HttpRequest, token: str) -> HttpResponse:
    """Reschedule or cancel through the signed link from the confirmation email."""
    booking = services.booking_from_token(token)
    if booking is None:
        raise Http404("No such booking")
    event_type = booking.event_type
    zone = ZoneInfo(valid_zone(request.GET.get("tz") or request.POST.get("tz"), booking.time_zone))
    language = request.GET.get("lang") or booking.language
    status = 200
    language = language if language in {"de", "en"} else "de"
    if request.method == "POST" and not ratelimit.allow(request, event_type.slug):
        return _too_many(request, event_type, language)
    with translation.override(language), timezone.override(zone):
        context: dict[str, Any] = {
            "booking": booking,
            "event_type": event_type,
            "token": token,
            "tz": zone.key,
            "lang": language,
        }
        if request.method == "POST" and booking.status == Booking.Status.CONFIRMED:
            if request.POST.get("action") == "cancel":
                booking = services.cancel_booking(booking, by_visitor=True)
                context["cancelled"] = True
            elif request.POST.get("start"):
                start = _parse_start(request.POST["start"])
                try:
                    if start is None or start.tzinfo is None:
                        raise services.SlotUnavailable
                    booking = services.reschedule_booking(booking, starts_at=start, by_visitor=True)
                    context["rescheduled"] = True
                except services.SlotUnavailable:
                    context["taken"] = True
                    status = 409
            context["booking"] = booking
        context["start"] = booking.starts_at.astimezone(zone)
        if booking.status == Booking.Status.CONFIRMED:
            context.update(_week(request, event_type, zone))
        partial = request.htmx and request.method == "GET"  # type: ignore[attr-defined]
        template = "scheduling/public/slots.html" if partial else "scheduling/public/manage.html"
        return render(request, template, context, status=status)


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A calendar as an ICS feed behind its secret URL, for any calendar app."""
    from delegate.scheduling import ical

    calendar = Calendar.objects.filter(feed_token=token).first()
    if calendar is None:
        raise Http404("No such feed")
    events = list(calendar.events.all())
    body = ical.calendar_bytes(events, calendar.zone, name=calendar.name)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
