from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from ssl import SSLContext

import pytest

from delegate.intake import services
from delegate.intake.mail.addresses import route_for
from delegate.intake.models import InboundMessage
from delegate.intake.tests import providers
from delegate.intake.tests.imapserver import ImapServer, dovecot
from delegate.testing import Cast

Deliver = Callable[..., InboundMessage]


@pytest.fixture
def deliver(cast: Cast) -> Deliver:
    """Store a mail for agency A as the SMTP server would, and process it at once."""

    def deliver_(raw: bytes, *, to: str = "alpha@localhost", envelope: str = "") -> InboundMessage:
        route = route_for(to)
        assert route is not None
        inbound, _created = services.receive(
            route.agency,
            channel=InboundMessage.Channel.EMAIL,
            raw=raw,
            recipient=to,
            envelope_sender=envelope or "carol@acme.test",
            client_hint=route.client,
        )
        services.process_inbound(inbound.pk)
        inbound.refresh_from_db()
        return inbound

    return deliver_


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int]]:
    """The real intake SMTP server on a free port, in a thread with its own loop."""
    with serve_smtp() as address:
        yield address


@contextmanager
def serve_smtp(ssl: SSLContext | None = None) -> Iterator[tuple[str, int]]:
    """Run the intake SMTP server as configured in settings now; with ``ssl``, TLS from
    the first byte (as on port 465) instead of STARTTLS."""
    from delegate.intake.mail.smtp import start_server

    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, asyncio.Server] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            try:
                holder["server"] = await start_server("127.0.0.1", 0, ssl=ssl)
            finally:
                started.set()

        loop.run_until_complete(main())
        loop.run_forever()
        # The executor threads hold database connections: end them, so the test
        # database can be dropped at the end of the run.
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    assert "server" in holder, "the SMTP server did not start"
    port = holder["server"].sockets[0].getsockname()[1]
    try:
        yield "127.0.0.1", port
    finally:

        async def shutdown() -> None:
            holder["server"].close()
            await holder["server"].wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    # Not tmp_path: pytest's temp folders are private to us, and Dovecot's own
    # processes (as its user) must read the config and write the maildirs.
    root = Path(tempfile.mkdtemp(prefix="delegate-dovecot-"))
    root.chmod(0o755)
    try:
        with dovecot(root / "server", {"box1": "secret1", "box2": "secret2"}) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def telegram(settings: pytest.FixtureRequest) -> Iterator[providers.FakeProvider]:
    """A local Bot API server, with agency A's bot configured to use it."""
    with providers.telegram() as fake:
        settings.TELEGRAM_API_BASE = fake.url  # type: ignore[attr-defined]
        bot = f"alpha:{providers.TELEGRAM_SECRET}:{providers.TELEGRAM_TOKEN}"
        settings.INTAKE_TELEGRAM_BOTS = [bot]  # type: ignore[attr-defined]
        yield fake
