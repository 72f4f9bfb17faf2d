from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from delegate.scheduling import services
from delegate.scheduling.models import Calendar, EventType
from delegate.testing import Cast

EVERY_DAY = {str(day): [["09:00", "17:00"]] for day in range(7)}


def make_booking_page(cast: Cast) -> EventType:
    calendar = services.create_calendar(cast.bob, client=cast.acme, name="Acme main")
    return EventType.objects.create(
        agency=cast.agency_a,
        client=cast.acme,
        name="Intro call",
        duration_minutes=30,
        min_notice_minutes=60,
        horizon_days=14,
        working_hours=EVERY_DAY,
        target_calendar=calendar,
        time_zone="Europe/Berlin",
        questions=["What about?"],
    )


@pytest.fixture
def allow_local_sync(settings: Any) -> None:
    """The test servers listen on loopback, which production refuses to sync from."""
    settings.CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def page(cast: Cast) -> EventType:
    return make_booking_page(cast)


@pytest.fixture
def calendar(page: EventType) -> Calendar:
    return page.target_calendar


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def radicale_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Radicale CalDAV server (its WSGI application over HTTP) on a free port,
    storing in a temporary folder, any user name accepted."""
    import radicale
    import radicale.config

    configuration = radicale.config.load()
    configuration.update(
        {
            "storage": {"filesystem_folder": str(tmp_path_factory.mktemp("radicale"))},
            "auth": {"type": "none"},
            "logging": {"level": "warning"},
        },
        "test",
        privileged=True,
    )
    server = make_server(
        "127.0.0.1",
        0,
        radicale.Application(configuration),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def feed_server() -> Iterator[Callable[[bytes], str]]:
    """``serve(body)`` publishes ``body`` as an ICS feed over HTTP and returns its URL;
    calling it again replaces the body."""
    state: dict[str, bytes] = {"body": b""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            self.wfile.write(state["body"])

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def serve(body: bytes) -> str:
        state["body"] = body
        return f"http://127.0.0.1:{server.server_address[1]}/feed.ics"

    yield serve
    server.shutdown()
    server.server_close()
