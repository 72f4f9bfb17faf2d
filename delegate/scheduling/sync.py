"""Mirroring calendars people already use: ICS feeds (read) and CalDAV (read and write,
incremental with the collection's sync token; objects are matched by href and ETag)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from caldav.calendarobjectresource import Event as CalDAVEvent
from caldav.davclient import DAVClient
from caldav.lib.error import NotFoundError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delegate.scheduling import ical
from delegate.scheduling.models import Calendar, Event

logger = logging.getLogger(__name__)

FEED_MAX_BYTES = 10 * 1024 * 1024
FEED_TIMEOUT_SECONDS = 20


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def _upsert(
    calendar: Calendar,
    parsed: list[ical.ParsedEvent],
    *,
    href: str = "",
    etag: str = "",
    result: SyncResult,
) -> set[tuple[str, str]]:
    from delegate.scheduling.services import set_range

    zone = calendar.zone
    seen: set[tuple[str, str]] = set()
    for item in parsed:
        if not item.uid:
            continue
        key = (item.uid, item.recurrence_id)
        seen.add(key)
        event = Event.objects.filter(
            calendar=calendar, uid=item.uid, recurrence_id=item.recurrence_id
        ).first()
        if event is None:
            event = Event(
                agency_id=calendar.agency_id,
                calendar=calendar,
                uid=item.uid,
                recurrence_id=item.recurrence_id,
            )
            result.created += 1
        else:
            result.updated += 1
        for name, value in item.values.items():
            setattr(event, name, value)
        event.href, event.etag = href, etag
        set_range(event, zone)
        event.save()
    return seen


def check_public_url(url: str) -> str:
    """``url`` if it is http(s) and its host resolves only to public addresses (unless
    ``CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS``): a calendar URL a user typed in must not make
    the server fetch from the internal network. ``webcal://`` becomes ``https://``.
    Checked before connecting; a host whose DNS changes in between is not caught."""
    if url.startswith("webcal://"):
        url = "https://" + url.removeprefix("webcal://")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("Only http(s) and webcal URLs")
    if settings.CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ValueError(f"Cannot resolve {parts.hostname}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ValueError(f"{parts.hostname} is not a public address")
    return url


# --- ICS feeds -------------------------------------------------------------------------


def fetch_feed(url: str) -> bytes:
    url = check_public_url(url)
    # The scheme is checked above: no file: or custom schemes.
    request = urllib.request.Request(url, headers={"User-Agent": "Delegate calendar sync"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=FEED_TIMEOUT_SECONDS) as response:  # noqa: S310
        data = response.read(FEED_MAX_BYTES + 1)
    if len(data) > FEED_MAX_BYTES:
        raise ValueError("Feed too large")
    return bytes(data)


def import_feed(calendar: Calendar, data: bytes) -> SyncResult:
    """Make ``calendar`` hold exactly the events of the feed ``data``."""
    result = SyncResult()
    parsed = ical.parse_events(data, calendar.zone)
    with transaction.atomic():
        seen = _upsert(calendar, parsed, result=result)
        stale = [
            e.pk
            for e in Event.objects.filter(calendar=calendar).only("uid", "recurrence_id")
            if (e.uid, e.recurrence_id) not in seen
        ]
        result.deleted, _ = Event.objects.filter(pk__in=stale).delete()
    return result


# --- CalDAV ----------------------------------------------------------------------------


def _client(calendar: Calendar) -> DAVClient:
    check_public_url(calendar.source_url)
    return DAVClient(
        url=calendar.source_url,
        username=calendar.username or None,
        password=calendar.password or None,
        timeout=FEED_TIMEOUT_SECONDS,
    )


def _etag(obj: Any) -> str:
    props = getattr(obj, "props", None) or {}
    return str(props.get("{DAV:}getetag", "") or "")


def sync_caldav(calendar: Calendar) -> SyncResult:
    """Pull what changed on the server since the stored sync token (everything the first
    time) and store the new token."""
    result = SyncResult()
    with _client(calendar) as client:
        remote = client.calendar(url=calendar.source_url)
        changes = remote.get_objects_by_sync_token(
            sync_token=calendar.sync_token or None, load_objects=True
        )
        deleted = {str(url.canonical()) for url in changes.deleted_urls}
        with transaction.atomic():
            for obj in changes:
                href = str(obj.url.canonical())
                if href in deleted or not obj.data:
                    continue
                parsed = ical.parse_events(obj.data, calendar.zone)
                seen = _upsert(calendar, parsed, href=href, etag=_etag(obj), result=result)
                for event in Event.objects.filter(calendar=calendar, href=href):
                    if (event.uid, event.recurrence_id) not in seen:
                        event.delete()
                        result.deleted += 1
            for href in deleted:
                count, _ = Event.objects.filter(calendar=calendar, href=href).delete()
                result.deleted += count
            calendar.sync_token = str(changes.sync_token or "")
            calendar.last_synced_at = timezone.now()
            calendar.last_sync_error = ""
            calendar.save(update_fields=["sync_token", "last_synced_at", "last_sync_error"])
    return result


def push_event(event: Event) -> None:
    """Write ``event`` (with the overrides sharing its UID) to the CalDAV server: a PUT
    to the object's href, guarded by its ETag when we know it (a change made on the server
    meanwhile makes the PUT fail instead of being overwritten)."""
    calendar = event.calendar
    siblings = list(
        Event.objects.filter(calendar=calendar, uid=event.uid).order_by("recurrence_id")
    )
    data = ical.calendar_bytes(siblings, calendar.zone).decode()
    # A new override (a moved occurrence) lives in its master's object.
    known = next((s for s in [event, *siblings] if s.href), None)
    with _client(calendar) as client:
        remote = client.calendar(url=calendar.source_url)
        # increase_seqno=False: SEQUENCE is ours (bumped once per change we make).
        if known is not None:
            obj = CalDAVEvent(client=client, url=known.href, data=data, parent=remote)
            if known.etag:
                obj.props["{DAV:}getetag"] = known.etag
            obj.save(increase_seqno=False, precondition="etag")
        else:
            obj = remote.add_event(data, increase_seqno=False)
        obj.load()
    assert obj.url is not None  # a saved object has its URL
    Event.objects.filter(calendar=calendar, uid=event.uid).update(
        href=str(obj.url.canonical()), etag=_etag(obj)
    )


def push_event_by_id(event_id: str) -> bool:
    event = Event.objects.select_related("calendar").filter(pk=event_id).first()
    if event is None or event.calendar.source != Calendar.Source.CALDAV:
        return False
    push_event(event)
    return True


def delete_remote_object(calendar_id: str, href: str) -> bool:
    """Delete ``href`` on the calendar's server; True if it was there."""
    calendar = Calendar.objects.filter(pk=calendar_id, source=Calendar.Source.CALDAV).first()
    if calendar is None:
        return False
    with _client(calendar) as client:
        try:
            response = client.delete(href)
        except NotFoundError:
            return False
    return bool(200 <= response.status < 300)


# --- refresh ---------------------------------------------------------------------------


def refresh_calendar(calendar: Calendar) -> SyncResult:
    if calendar.source == Calendar.Source.CALDAV:
        return sync_caldav(calendar)
    result = import_feed(calendar, fetch_feed(calendar.source_url))
    calendar.last_synced_at = timezone.now()
    calendar.last_sync_error = ""
    calendar.save(update_fields=["last_synced_at", "last_sync_error"])
    return result


def refresh_due_calendars(now: dt.datetime | None = None) -> int:
    """Refresh every mirrored calendar whose interval has passed. Each one is claimed
    with a conditional UPDATE first, so two workers never pull the same calendar."""
    now = now or timezone.now()
    mirrored = Calendar.objects.filter(source__in=[Calendar.Source.ICS, Calendar.Source.CALDAV])
    due = [
        calendar
        for calendar in mirrored
        if calendar.last_synced_at is None
        or calendar.last_synced_at + dt.timedelta(minutes=calendar.refresh_minutes) <= now
    ]
    refreshed = 0
    for calendar in due:
        claimed = Calendar.objects.filter(pk=calendar.pk, last_synced_at=calendar.last_synced_at)
        if not claimed.update(last_synced_at=now):
            continue
        try:
            refresh_calendar(calendar)
            refreshed += 1
        except Exception as exc:  # a broken feed must not stop the others
            logger.warning("calendar %s: sync failed: %s", calendar.pk, exc)
            Calendar.objects.filter(pk=calendar.pk).update(last_sync_error=str(exc)[:2000])
    return refreshed
