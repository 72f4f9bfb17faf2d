"""``manage.py smtp_intake``: the SMTP server receiving mail for every agency."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from delegate.intake.mail.smtp import start_server

SHUTDOWN_GRACE_SECONDS = 5.0


class Command(BaseCommand):
    help = "Receive mail by SMTP for all agencies (INTAKE_SMTP_BIND, INTAKE_EMAIL_DOMAINS)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default=settings.INTAKE_SMTP_BIND, help="host:port")

    def handle(self, *args: Any, bind: str, **options: Any) -> None:
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"--bind/INTAKE_SMTP_BIND must be host:port, got {bind!r}")
        asyncio.run(self.serve(host.strip("[]"), int(port)))

    async def serve(self, host: str, port: int) -> None:
        server = await start_server(host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        address = server.sockets[0].getsockname()
        security = []
        if settings.INTAKE_SMTP_TLS_CERT:
            security.append("STARTTLS required" if settings.INTAKE_SMTP_REQUIRE_TLS else "STARTTLS")
        if settings.INTAKE_SMTP_AUTH_USERS:
            security.append("AUTH required")
        suffix = f" ({', '.join(security)})" if security else ""
        self.stdout.write(f"smtp intake listening on {address[0]}:{address[1]}{suffix}")
        self.stdout.flush()
        await stop.wait()
        # Stop listening, give a mail in the middle of DATA a moment to be stored and
        # answered, then leave: asyncio.run cancels the connections still open (idle
        # clients would otherwise keep ``wait_closed`` waiting for ever). A client cut off
        # before its 250 was never told the mail was accepted, so it sends it again.
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=SHUTDOWN_GRACE_SECONDS)
        self.stdout.write("smtp intake stopped")
