"""Calendar credentials are encrypted at rest; sync connections go only to the address
that was checked (no DNS rebinding into the internal network)."""

from __future__ import annotations

import importlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.apps import apps

from delegate.scheduling import crypto, services, sync
from delegate.scheduling.models import Calendar
from delegate.testing import Cast

FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nEND:VCALENDAR\r\n"


def _caldav(cast: Cast, password: str) -> Calendar:
    return services.create_calendar(
        cast.bob,
        client=cast.acme,
        name="Acme CalDAV",
        source="caldav",
        source_url="https://dav.example.test/acme/",
        username="acme",
        password=password,
    )


def test_a_caldav_password_is_stored_encrypted_and_read_back(cast: Cast, settings: Any) -> None:
    calendar = _caldav(cast, "s3cret-Passw0rd")
    stored = Calendar.objects.values_list("password", flat=True).get(pk=calendar.pk)
    assert stored.startswith("fernet:") and "s3cret" not in stored
    assert Calendar.objects.get(pk=calendar.pk).get_password() == "s3cret-Passw0rd"
    assert crypto.encrypt("s3cret-Passw0rd") != stored  # fresh IV every time
    settings.CALENDAR_SECRET_KEY = "another key"
    with pytest.raises(ValueError):
        Calendar.objects.get(pk=calendar.pk).get_password()


def test_the_migration_encrypts_plain_passwords_and_keeps_encrypted_ones(cast: Cast) -> None:
    migration = importlib.import_module(
        "delegate.scheduling.migrations.0005_encrypt_calendar_passwords"
    )
    plain = _caldav(cast, "")
    Calendar.objects.filter(pk=plain.pk).update(password="old-plain")  # as stored before
    encrypted = _caldav(cast, "already")
    stored_before = Calendar.objects.get(pk=encrypted.pk).password
    migration.encrypt_passwords(apps, None)
    migration.encrypt_passwords(apps, None)  # twice: nothing encrypted twice
    plain.refresh_from_db()
    assert plain.password.startswith("fernet:") and plain.get_password() == "old-plain"
    assert Calendar.objects.get(pk=encrypted.pk).password == stored_before
    migration.decrypt_passwords(apps, None)
    assert Calendar.objects.get(pk=plain.pk).password == "old-plain"


def _server(address: str, body: bytes, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """feed.example.test resolves to 127.0.0.1 (taken as public here) at the first
    lookup and to 127.0.0.2 (taken as internal) at every later one; a server listens on
    each with a different body."""
    public = _server("127.0.0.1", FEED)
    port = public.server_address[1]
    internal = _server("127.0.0.2", b"INTERNAL SECRET", port)
    real = socket.getaddrinfo
    lookups = {"n": 0}

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "feed.example.test":
            lookups["n"] += 1
            host = "127.0.0.1" if lookups["n"] == 1 else "127.0.0.2"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    monkeypatch.setattr(sync, "_is_public", lambda address: str(address) == "127.0.0.1")
    yield port
    for server in (public, internal):
        server.shutdown()
        server.server_close()


def test_a_feed_is_fetched_from_the_checked_address_not_a_rebound_one(
    rebinding: int, settings: Any
) -> None:
    settings.CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS = False
    url = f"http://feed.example.test:{rebinding}/feed.ics"
    assert sync.fetch_feed(url) == FEED
    # a second fetch checks afresh: the host now resolves to an internal address
    with pytest.raises(ValueError, match="not a public address"):
        sync.fetch_feed(url)


def test_a_caldav_client_connects_to_the_checked_address(
    cast: Cast, rebinding: int, settings: Any
) -> None:
    settings.CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS = False
    calendar = _caldav(cast, "pw")
    calendar.source_url = f"http://feed.example.test:{rebinding}/dav/"
    with sync._client(calendar) as client:
        response = client.session.get(calendar.source_url, timeout=5)
    assert response.content == FEED  # the rebound answer (127.0.0.2) was never used
