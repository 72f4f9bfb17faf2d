"""Mirroring calendars people already use: ICS feeds (read) and CalDAV (read and write,
incremental with the collection's sync token; objects are matched by href and ETag)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

import niquests
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


@dataclass(frozen=True)
class Target:
    """A checked sync URL and the address its host resolved to when checked: the
    connection goes to that address (``pinned_session``), so a DNS answer that changes
    after the check (DNS rebinding) cannot redirect it into the internal network."""

    url: str
    host: str
    address: str  # empty when the host is an IP address itself


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global


def resolve_target(url: str) -> Target:
    """Check ``url`` (http(s); ``webcal://`` becomes ``https://``) and resolve its host
    once. Unless ``CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS``, every address must be public: a
    calendar URL a user typed in must not make the server fetch from the internal
    network."""
    if url.startswith("webcal://"):
        url = "https://" + url.removeprefix("webcal://")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("Only http(s) and webcal URLs")
    host = parts.hostname
    allow_private = settings.CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not allow_private and not _is_public(literal):
            raise ValueError(f"{host} is not a public address")
        return Target(url, host, "")
    default_port = 443 if parts.scheme == "https" else 80
    try:
        infos = socket.getaddrinfo(host, parts.port or default_port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ValueError(f"Cannot resolve {host}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not allow_private and not all(_is_public(a) for a in addresses):
        raise ValueError(f"{host} is not a public address")
    return Target(url, host, str(addresses[0]))


def check_public_url(url: str) -> str:
    """``url`` once ``resolve_target`` accepts it."""
    return resolve_target(url).url


def pinned_session(target: Target) -> niquests.Session:
    """An HTTP session that reaches ``target.host`` only at the checked address (TLS
    still verifies the host name) and resolves no other host: a redirect elsewhere
    fails instead of being looked up afresh."""
    if not target.address:
        return niquests.Session()
    address = f"[{target.address}]" if ":" in target.address else target.address
    return niquests.Session(resolver=f"in-memory://default/?hosts={target.host}:{address}")


# --- ICS feeds -------------------------------------------------------------------------

FEED_MAX_REDIRECTS = 5


def fetch_feed(url: str) -> bytes:
    """The body of an ICS feed (at most ``FEED_MAX_BYTES``). Redirects are followed by
    hand, each hop checked and pinned like the first."""
    for _hop in range(FEED_MAX_REDIRECTS + 1):
        target = resolve_target(url)
        with pinned_session(target) as session:
            response = session.get(
                target.url,
                headers={"User-Agent": "Delegate calendar sync"},
                timeout=FEED_TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,
            )
            if response.is_redirect and response.headers.get("Location"):
                url = urllib.parse.urljoin(target.url, response.headers["Location"])
                continue
            response.raise_for_status()
            data = b""
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > FEED_MAX_BYTES:
                    raise ValueError("Feed too large")
            return data
    raise ValueError("Too many redirects")


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
    target = resolve_target(calendar.source_url)
    client = DAVClient(
        url=target.url,
        username=calendar.username or None,
        password=calendar.get_password() or None,
        timeout=FEED_TIMEOUT_SECONDS,
    )
    client.session.close()
    client.session = pinned_session(target)  # connect only to the address checked
    return client


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
