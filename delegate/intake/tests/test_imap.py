"""IMAP polling against a real Dovecot."""

from __future__ import annotations

import threading
import time

import pytest
from imapclient import IMAPClient

from delegate.intake.mail.imap import (
    STORED_FLAG,
    TOO_BIG_FLAG,
    MailboxConfig,
    connect,
    fetch_groups,
    parse_mailbox_url,
    serve_mailboxes,
    store_new,
)
from delegate.intake.models import InboundMessage
from delegate.intake.tests.imapserver import ImapServer
from delegate.intake.tests.mails import mail
from delegate.testing import make_cast

pytestmark = pytest.mark.django_db(transaction=True)


def _config(server: ImapServer, user: str) -> MailboxConfig:
    return parse_mailbox_url(
        f"imap://{user}:{server.users[user]}@{server.host}:{server.port}/INBOX?agency=alpha&poll=1"
    )


def _append(server: ImapServer, user: str, *raws: bytes) -> None:
    with IMAPClient(server.host, port=server.port, ssl=False) as client:
        client.login(user, server.users[user])
        for raw in raws:
            client.append("INBOX", raw)


def test_it_parses_mailbox_urls() -> None:
    config = parse_mailbox_url(
        "imaps://tasks%40buero.de:p%40ss@mail.buero.de/Auftr%C3%A4ge?agency=nord"
    )
    assert (config.username, config.password, config.host, config.port) == (
        "tasks@buero.de", "p@ss", "mail.buero.de", 993,
    )  # fmt: skip
    assert (config.folder, config.agency_slug, config.use_ssl) == ("Aufträge", "nord", True)


def test_a_pass_stores_new_mail_once_and_marks_it(imap_server: ImapServer) -> None:
    make_cast()
    _append(imap_server, "box1", mail(subject="Eins"), mail(subject="Zwei"))
    config = _config(imap_server, "box1")
    client = connect(config)
    try:
        assert store_new(client, config) == 2
        assert store_new(client, config) == 0  # marked: not fetched again
        flags = client.get_flags(client.search("ALL"))
        assert all(STORED_FLAG in f for f in flags.values())
        # Fetched with PEEK: people reading the mailbox still see the mail as unread.
        assert not any(b"\\Seen" in f for f in flags.values())
        # A message fetched again (the flag lost, e.g. a crash before marking) is
        # deduplicated, not doubled.
        client.remove_flags(client.search("ALL"), [STORED_FLAG])
        assert store_new(client, config) == 0
    finally:
        client.logout()
    subjects = sorted(
        bytes(raw).split(b"Subject: ")[1].split(b"\r\n")[0]
        for raw in InboundMessage.objects.values_list("raw", flat=True)
    )
    assert subjects == [b"Eins", b"Zwei"]


def test_mail_over_the_size_limit_is_left_in_the_mailbox_unfetched(
    imap_server: ImapServer, settings: pytest.FixtureRequest
) -> None:
    make_cast()
    settings.INTAKE_MAX_MESSAGE_BYTES = 50 * 1024  # type: ignore[attr-defined]
    scan = ("scan.pdf", b"%PDF" + b"x" * 80 * 1024, "application/pdf")
    _append(imap_server, "box1", mail(subject="Klein"), mail(subject="Gross", attachments=[scan]))
    config = _config(imap_server, "box1")
    client = connect(config)
    try:
        assert store_new(client, config) == 1
        flags = client.get_flags(client.search("ALL"))
        assert sorted(TOO_BIG_FLAG in f for f in flags.values()) == [False, True]
        assert not any(b"\\Seen" in f for f in flags.values())  # still unread for people
        assert store_new(client, config) == 0  # and not looked at again
    finally:
        client.logout()
    [raw] = InboundMessage.objects.values_list("raw", flat=True)
    assert b"Subject: Klein" in bytes(raw)


def test_bodies_are_fetched_in_groups_bounded_by_the_limit() -> None:
    sizes = {5: 40, 1: 30, 2: 30, 3: 100, 4: 10}
    assert fetch_groups(sizes, budget=60) == [[1, 2], [3], [4, 5]]
    assert fetch_groups({}, budget=60) == []


def test_several_mailboxes_are_served_concurrently_with_idle(imap_server: ImapServer) -> None:
    make_cast()
    stop = threading.Event()
    configs = [_config(imap_server, "box1"), _config(imap_server, "box2")]
    # A long poll interval: only IDLE can deliver the mail within the wait below.
    configs = [MailboxConfig(**{**c.__dict__, "poll_seconds": 3600}) for c in configs]
    threads = serve_mailboxes(configs, stop)
    try:
        time.sleep(0.5)  # both threads connected and idling
        _append(imap_server, "box1", mail(subject="Aus Postfach 1"))
        _append(imap_server, "box2", mail(subject="Aus Postfach 2"))
        deadline = time.monotonic() + 15
        while InboundMessage.objects.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
    assert InboundMessage.objects.count() == 2
    assert not any(thread.is_alive() for thread in threads)
