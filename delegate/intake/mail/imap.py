"""IMAP polling: mailboxes an agency already has (``tasks@buero.de`` at its provider)
feed the same intake as the SMTP server.

Each configured mailbox is served by its own thread (several mailboxes concurrently,
never one after another). A pass stores every message not yet marked with the
``$DelegateStored`` keyword — raw, through ``services.receive`` — and marks it only
after the store has committed. A crash between the two stores the message again on the
next pass, which the content-hash dedupe turns into a no-op: nothing is lost, nothing is
doubled. Between passes the thread waits in IDLE where the server supports it (new mail
starts the next pass at once) and sleeps the poll interval where it does not.

Memory stays bounded: sizes are asked first (``RFC822.SIZE``), bodies fetched in groups
of at most ``INTAKE_MAX_MESSAGE_BYTES`` together, and a message over that limit is not
fetched at all — it stays in the mailbox, marked ``$DelegateTooBig``, with a warning in
the log.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.db import close_old_connections, connections
from imapclient import IMAPClient

from delegate.agencies.models import Agency
from delegate.env import ConfigError
from delegate.intake import services
from delegate.intake.models import InboundMessage

logger = logging.getLogger(__name__)

STORED_FLAG = b"$DelegateStored"
TOO_BIG_FLAG = b"$DelegateTooBig"
FETCH_BATCH = 50


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    username: str
    password: str
    agency_slug: str
    folder: str = "INBOX"
    use_ssl: bool = True
    poll_seconds: int = 60
    idle_seconds: int = 300  # servers drop IDLE after ~30 min; RFC 2177 says re-issue

    @property
    def name(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


def parse_mailbox_url(url: str) -> MailboxConfig:
    """``imaps://user:password@host[:port]/FOLDER?agency=<slug>[&poll=<seconds>]``
    (``imap://`` without TLS; user and password URL-encoded)."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ConfigError(f"INTAKE_IMAP_MAILBOXES: not an imap(s)://user:pw@host URL: {url!r}")
    query = parse_qs(parts.query)
    agency = (query.get("agency") or [""])[0]
    if not agency:
        raise ConfigError(f"INTAKE_IMAP_MAILBOXES: {parts.hostname} needs ?agency=<slug>")
    ssl = parts.scheme == "imaps"
    return MailboxConfig(
        host=parts.hostname,
        port=parts.port or (993 if ssl else 143),
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        agency_slug=agency,
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        use_ssl=ssl,
        poll_seconds=int((query.get("poll") or ["60"])[0]),
    )


def connect(config: MailboxConfig) -> IMAPClient:
    client = IMAPClient(config.host, port=config.port, ssl=config.use_ssl, timeout=30)
    client.login(config.username, config.password)
    client.select_folder(config.folder)
    return client


def store_new(client: IMAPClient, config: MailboxConfig) -> int:
    """Store every message of the selected folder not yet stored; return how many were
    new to Delegate."""
    close_old_connections()
    agency = Agency.objects.get(slug=config.agency_slug)
    criteria = ["NOT", "KEYWORD", STORED_FLAG.decode(), "NOT", "KEYWORD", TOO_BIG_FLAG.decode()]
    uids = client.search(criteria)
    limit = settings.INTAKE_MAX_MESSAGE_BYTES
    stored = 0
    for start in range(0, len(uids), FETCH_BATCH):
        answer = client.fetch(uids[start : start + FETCH_BATCH], ["RFC822.SIZE"])
        sizes = {uid: int(data.get(b"RFC822.SIZE") or 0) for uid, data in answer.items()}
        too_big = [uid for uid, size in sizes.items() if size > limit]
        if too_big:
            logger.warning(
                "imap %s: %d message(s) over %d bytes left in the mailbox, marked %s",
                config.name, len(too_big), limit, TOO_BIG_FLAG.decode(),
            )  # fmt: skip
            client.add_flags(too_big, [TOO_BIG_FLAG])
        fitting = {uid: size for uid, size in sizes.items() if size <= limit}
        for group in fetch_groups(fitting, budget=limit):
            stored += _store_group(client, config, agency, group)
    close_old_connections()
    return stored


def fetch_groups(sizes: dict[int, int], *, budget: int) -> list[list[int]]:
    """The uids in order, in groups whose sizes add up to at most ``budget`` (a message
    alone may reach it), so one FETCH never holds more than that in memory."""
    groups: list[list[int]] = []
    total = 0
    for uid in sorted(sizes):
        if not groups or total + sizes[uid] > budget:
            groups.append([])
            total = 0
        groups[-1].append(uid)
        total += sizes[uid]
    return groups


def _store_group(client: IMAPClient, config: MailboxConfig, agency: Agency, uids: list[int]) -> int:
    stored = 0
    for uid, data in client.fetch(uids, ["BODY.PEEK[]"]).items():
        raw = data.get(b"BODY[]")
        if not isinstance(raw, bytes):
            continue
        _inbound, created = services.receive(
            agency,
            channel=InboundMessage.Channel.EMAIL,
            raw=raw,
            recipient=config.username if "@" in config.username else "",
        )
        stored += created
        # Marked only now, after the commit: a crash before this line means the
        # message is fetched again and deduplicated, never lost.
        client.add_flags([uid], [STORED_FLAG])
    return stored


def _wait_for_news(client: IMAPClient, config: MailboxConfig, stop: threading.Event) -> None:
    if b"IDLE" not in client.capabilities():
        stop.wait(config.poll_seconds)
        return
    client.idle()
    try:
        waited = 0
        # Short checks so a stop request is noticed quickly.
        while not stop.is_set() and waited < config.idle_seconds:
            if client.idle_check(timeout=1):
                break
            waited += 1
    finally:
        client.idle_done()


def serve_mailbox(config: MailboxConfig, stop: threading.Event) -> None:
    """Store new mail until ``stop`` is set, reconnecting after errors (with backoff)."""
    try:
        _serve_mailbox(config, stop)
    finally:
        connections.close_all()  # this thread's database connection


def _serve_mailbox(config: MailboxConfig, stop: threading.Event) -> None:
    backoff = 1.0
    while not stop.is_set():
        client = None
        try:
            client = connect(config)
            backoff = 1.0
            while not stop.is_set():
                count = store_new(client, config)
                if count:
                    logger.info("imap %s: stored %d message(s)", config.name, count)
                _wait_for_news(client, config, stop)
        except Exception:
            logger.exception("imap %s: failed, reconnecting in %.0fs", config.name, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 300)
        finally:
            if client is not None:
                try:
                    client.logout()
                except Exception:
                    logger.debug("imap %s: logout failed", config.name)


def serve_mailboxes(configs: list[MailboxConfig], stop: threading.Event) -> list[threading.Thread]:
    """One thread per mailbox, all started at once."""
    threads = [
        threading.Thread(target=serve_mailbox, args=(config, stop), name=f"imap {config.name}")
        for config in configs
    ]
    for thread in threads:
        thread.daemon = True
        thread.start()
    return threads
