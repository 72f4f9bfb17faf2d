"""The SMTP intake server (aiosmtpd).

Recipients are checked at ``RCPT TO`` (unknown addresses get 550, so the sending server
bounces instead of us dropping mail). At the end of ``DATA`` the message is stored raw
— one row per agency addressed — and only after that commit does the client get
``250``: a mail acknowledged is a mail stored. Mail over the size limit gets a 552
saying what the limit is, which the sender's server passes on in its bounce.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from ssl import SSLContext
from typing import Any, AnyStr
from weakref import WeakKeyDictionary

from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections

from delegate.intake import services
from delegate.intake.mail.addresses import Route, route_for
from delegate.intake.mail.smtp_security import server_options
from delegate.intake.models import InboundMessage

logger = logging.getLogger(__name__)


class IntakeSMTP(SMTP):
    # RFC 5321 asks for 1000, real mail software sends longer lines; the whole message
    # is bounded by data_size_limit anyway.
    line_length_limit = 100_000

    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA with the same answers, reading the data in blocks up to the
        next ``.<CRLF>`` instead of line by line: aiosmtpd's loop costs a few
        microseconds per line, which for the base64 lines of an attachment was most of
        the server's CPU per mail."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content, problem = await _read_data(
                self._reader, self.data_size_limit, self.line_length_limit
            )
        except asyncio.CancelledError:  # the connection was reset during DATA
            self._writer.close()
            raise
        if problem:
            await self.push(problem)
            self._set_post_data_state()
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):
            megabytes = (self.data_size_limit or 0) / 1024 / 1024
            status = (
                f"552 5.3.4 Message too big: this address accepts mail up to {megabytes:.3g} MB "
                "in total. Please send large files as a download link. / Nachricht zu gross: "
                f"hoechstens {megabytes:.3g} MB; grosse Dateien bitte als Download-Link senden."
            )
        await super().push(status)


async def _read_data(
    reader: asyncio.StreamReader, size_limit: int | None, line_limit: int
) -> tuple[bytes, str]:
    """The message up to the lone ``.`` line, dot-unstuffed (RFC 5321 4.5.2), and ''; or
    b'' and the error to answer (552 too big, 500 a line too long) once all of it has
    been read and dropped, as aiosmtpd does."""
    blocks: list[bytes] = []
    size = 0
    line = 0  # bytes since the last line feed
    tail = b"\r\n"  # the data starts at the beginning of a line
    problem = ""
    while True:
        try:
            block = await reader.readuntil(b".\r\n")
        except asyncio.LimitOverrunError as exc:  # no ".<CRLF>" within the reader's limit
            block = await reader.read(exc.consumed)
        except asyncio.IncompleteReadError:
            raise ConnectionResetError("connection lost during DATA") from None
        if (tail + block).endswith(b"\r\n.\r\n"):
            block = block[:-3]  # the terminator is no part of the message
            done = True
        else:
            done = False
            tail = (tail + block)[-2:]
        size += len(block)
        first = block.find(b"\n")
        if first == -1:
            line += len(block)
        else:
            longest = line + first
            line = len(block) - block.rfind(b"\n") - 1
            if len(block) > line_limit:  # a long line may hide inside
                longest = max(longest, *map(len, block.split(b"\n")))
            longest = max(longest, line)
            if longest > line_limit and not problem:
                problem, blocks = "500 Line too long (see RFC5321 4.5.3.1.6)", []
        if size_limit and size > size_limit and not problem:
            problem, blocks = "552 Error: Too much mail data", []
        if not problem:
            blocks.append(block)
        if done:
            break
    if problem:
        return b"", problem
    content = b"".join(blocks)
    if content.startswith(b"."):
        content = content[1:]
    return content.replace(b"\r\n.", b"\r\n"), ""


def _route(address: str) -> Any:
    close_old_connections()
    try:
        return route_for(address)
    finally:
        close_old_connections()


def _store(envelope: Envelope, routes: dict[str, Route] | None = None) -> int:
    """Store the mail once per agency addressed; ``routes`` are those found at RCPT
    (looked up again when missing)."""
    close_old_connections()
    try:
        raw = envelope.original_content or b""
        stored = 0
        seen_agencies = set()
        for address in envelope.rcpt_tos:
            route = (routes or {}).get(address) or route_for(address)
            if route is None or route.agency.pk in seen_agencies:
                continue
            seen_agencies.add(route.agency.pk)
            services.receive(
                route.agency,
                channel=InboundMessage.Channel.EMAIL,
                raw=raw,
                recipient=address,
                envelope_sender=envelope.mail_from or "<>",  # MAIL FROM:<> is a bounce
                client_hint=route.client,
            )
            stored += 1
        return stored
    finally:
        close_old_connections()


class IntakeHandler:
    def __init__(self) -> None:
        # The routes found at RCPT, per envelope, so DATA does not look them up again.
        self.routes: WeakKeyDictionary[Envelope, dict[str, Route]] = WeakKeyDictionary()

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        # aiosmtpd lists AUTH after STARTTLS even with no mechanism to offer (no users).
        return [line for line in responses if line.strip() != "250-AUTH"]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        route = await asyncio.get_running_loop().run_in_executor(None, _route, address)
        if route is None:
            return "550 5.1.1 No such mailbox here"
        self.routes.setdefault(envelope, {})[address] = route
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        try:
            routes = self.routes.pop(envelope, None)
            await asyncio.get_running_loop().run_in_executor(None, _store, envelope, routes)
        except Exception:
            logger.exception("smtp intake: storing a message failed")
            # Temporary failure: the sending server keeps the mail and tries again.
            return "451 4.3.0 Could not store the message, try again later"
        return "250 OK: stored"


def smtp_factory(**security: Any) -> IntakeSMTP:
    """One connection's protocol; ``security`` is STARTTLS and AUTH (``server_options``)."""
    return IntakeSMTP(
        IntakeHandler(),
        data_size_limit=settings.INTAKE_MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        hostname=settings.INTAKE_EMAIL_DOMAINS[0],
        timeout=60,
        **security,
    )


async def start_server(host: str, port: int, *, ssl: SSLContext | None = None) -> asyncio.Server:
    """Listen on (host, port); port 0 picks a free one (see ``server.sockets``). STARTTLS
    and AUTH are read from settings here, once, and fail loudly when misconfigured;
    ``ssl`` makes it TLS from the first byte instead (SMTPS)."""
    loop = asyncio.get_running_loop()
    factory = functools.partial(smtp_factory, **server_options())
    return await loop.create_server(factory, host=host, port=port, ssl=ssl)
