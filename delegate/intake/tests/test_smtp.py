"""Mail through a real SMTP socket to the intake server, then the real worker."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from delegate.intake.models import InboundMessage
from delegate.intake.tests.mails import mail
from delegate.tasks.models import Task
from delegate.testing import make_cast

pytestmark = pytest.mark.django_db(transaction=True)


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def test_a_mail_sent_by_smtp_becomes_a_task(smtp_server: tuple[str, int]) -> None:
    cast = make_cast()
    DBTaskResult.objects.all().delete()
    raw = mail(subject="Tisch reservieren", body="Bitte für Freitag, 4 Personen.\n.\nDanke")
    with smtplib.SMTP(*smtp_server, timeout=10) as smtp:
        refused = smtp.sendmail("carol@acme.test", ["alpha@localhost"], raw)
        # The same mail again (a sender retrying after a lost 250) is stored once.
        smtp.sendmail("carol@acme.test", ["alpha@localhost"], raw)
    assert refused == {}
    inbound = InboundMessage.objects.get()
    assert inbound.state == InboundMessage.State.RECEIVED
    assert bytes(inbound.raw) == raw
    assert DBTaskResult.objects.filter(status="READY").count() == 1  # enqueued on commit
    _run_worker()
    inbound.refresh_from_db()
    assert inbound.state == InboundMessage.State.ATTACHED
    task = inbound.task
    assert task is not None
    assert (task.title, task.requester, task.channel) == ("Tisch reservieren", cast.carol, "email")
    assert "Bitte für Freitag, 4 Personen.\n.\nDanke" in task.description  # dot-stuffing undone


def test_it_refuses_unknown_recipients(smtp_server: tuple[str, int]) -> None:
    make_cast()
    rcpts = ["nobody@localhost", "alpha@elsewhere.org"]
    with (
        smtplib.SMTP(*smtp_server, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        smtp.sendmail("carol@acme.test", rcpts, mail())
    codes = {code for code, _msg in refused.value.recipients.values()}
    assert codes == {550}
    assert not InboundMessage.objects.exists()


def test_a_client_address_routes_to_the_client(smtp_server: tuple[str, int]) -> None:
    cast = make_cast()
    to = f"alpha+{cast.acme.code.lower()}@localhost"
    with smtplib.SMTP(*smtp_server, timeout=10) as smtp:
        smtp.sendmail("x@example.org", [to], mail(sender="x@example.org", to=to))
    inbound = InboundMessage.objects.get()
    assert (inbound.agency, inbound.client_hint, inbound.recipient) == (
        cast.agency_a, cast.acme, to,
    )  # fmt: skip


def test_too_big_mail_gets_a_clear_notice(
    smtp_server: tuple[str, int], settings: pytest.FixtureRequest
) -> None:
    make_cast()
    settings.INTAKE_MAX_MESSAGE_BYTES = 50 * 1024  # type: ignore[attr-defined]
    big = mail(attachments=[("scan.pdf", b"%PDF" + b"x" * 80 * 1024, "application/pdf")])
    with smtplib.SMTP(*smtp_server, timeout=10) as smtp:
        # A client announcing the size (ESMTP SIZE) is refused before sending ...
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("carol@acme.test", ["alpha@localhost"], big)
        assert refused.value.smtp_code == 552
        assert b"up to 0.0488 MB" in refused.value.smtp_error
        # ... one that does not, after the data.
        smtp.rset()
        smtp.mail("carol@acme.test")
        smtp.rcpt("alpha@localhost")
        code, notice = smtp.data(big)
    assert code == 552
    assert b"download link" in notice and b"Download-Link" in notice
    assert not InboundMessage.objects.exists()


def test_a_30_mb_mail_is_refused_at_the_default_limit(smtp_server: tuple[str, int]) -> None:
    make_cast()
    line = b"QUFBQUFB" * 9 + b"QUFB\r\n"  # a base64 line of 76 characters
    huge = mail().replace(b"\r\n\r\n", b"\r\n\r\n" + line * (30 * 1024 * 1024 // 78), 1)
    with smtplib.SMTP(*smtp_server, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("carol@acme.test")  # no SIZE announced: the server reads and discards
        smtp.rcpt("alpha@localhost")
        code, notice = smtp.data(huge)
    assert code == 552
    assert b"up to 25 MB" in notice
    assert not InboundMessage.objects.exists()


def test_a_bounce_with_the_null_sender_is_stored_and_ignored(smtp_server: tuple[str, int]) -> None:
    from delegate.intake import services

    make_cast()
    with smtplib.SMTP(*smtp_server, timeout=10) as smtp:
        smtp.sendmail("", ["alpha@localhost"], mail(subject="Undeliverable: Ihre Anfrage"))
    inbound = InboundMessage.objects.get()
    assert inbound.envelope_sender == "<>"
    assert services.process_inbound(inbound.pk) == InboundMessage.State.IGNORED
    assert not Task.objects.filter(channel="email").exists()


def test_an_agency_receives_at_its_own_domain_with_tasks_plus_client(
    smtp_server: tuple[str, int],
) -> None:
    from delegate.intake.mail.addresses import agency_address, client_address

    cast = make_cast()
    cast.agency_a.intake_domain = "Mail.Alpha-VA.de."
    cast.agency_a.save()
    assert cast.agency_a.intake_domain == "mail.alpha-va.de"
    code = cast.acme.code.lower()
    assert agency_address(cast.agency_a) == "tasks@mail.alpha-va.de"
    assert client_address(cast.acme) == f"tasks+{code}@mail.alpha-va.de"
    client_to = f"tasks+{code}@mail.alpha-va.de"
    agency_to = "Aufgaben@MAIL.alpha-va.de"  # the second mailbox name, any case
    with smtplib.SMTP(*smtp_server, timeout=10) as smtp:
        for n, to in enumerate([client_to, agency_to]):
            raw = mail(sender="x@example.org", to=to, subject=f"Bitte {n}")
            assert smtp.sendmail("x@example.org", [to], raw) == {}
        for stranger in ["info@mail.alpha-va.de", "tasks@mail.unknown-va.de"]:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                smtp.sendmail("x@example.org", [stranger], mail(to=stranger))
            assert {code for code, _ in refused.value.recipients.values()} == {550}
    routed = {m.recipient: (m.agency, m.client_hint) for m in InboundMessage.objects.all()}
    assert routed == {
        client_to: (cast.agency_a, cast.acme),
        agency_to: (cast.agency_a, None),
    }


def test_an_own_intake_domain_must_be_a_real_domain_and_not_a_shared_one(settings: Any) -> None:
    from django.core.exceptions import ValidationError

    cast = make_cast()
    settings.INTAKE_EMAIL_DOMAINS = ["intake.delegate.test"]
    for bad in ["intake.delegate.test", "not a domain", "localhost", "-x.de"]:
        cast.agency_a.intake_domain = bad
        with pytest.raises(ValidationError):
            cast.agency_a.full_clean()
    cast.agency_a.intake_domain = "mail.alpha-va.de"
    cast.agency_a.full_clean()


def test_dots_line_ends_and_big_attachments_arrive_byte_for_byte(
    smtp_server: tuple[str, int],
) -> None:
    make_cast()
    # Lines that start with dots (the client doubles the first one), a line of a lone
    # dot inside the body, text ending in a dot right before the end, and an
    # attachment far bigger than the reader's buffer: stored exactly as sent.
    body = ".hidden\n..two dots\n.\nsentence.\n...\nend."
    raws = [
        mail(body=body),
        mail(body=body, attachments=[("scan.pdf", bytes(range(256)) * 2000, "application/pdf")]),
        mail(subject="Kurz", body="."),
    ]
    with smtplib.SMTP(*smtp_server, timeout=30) as smtp:
        for raw in raws:
            smtp.sendmail("carol@acme.test", ["alpha@localhost"], raw)
    stored = sorted(bytes(raw) for raw in InboundMessage.objects.values_list("raw", flat=True))
    assert stored == sorted(raws)


def _run(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an
    event loop running in the test thread of the worker they ran in."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.mark.parametrize("limit", [4, 7, 64, 100_000])
def test_the_data_reader_unstuffs_dots_and_leaves_the_next_command(limit: int) -> None:
    import asyncio

    from delegate.intake.mail.smtp import _read_data

    wire = b"..first\r\nsecond.\r\n..\r\nthird\r\n.\r\nQUIT\r\n"

    async def read() -> tuple[bytes, str, bytes]:
        reader = asyncio.StreamReader(limit=limit)
        for start in range(0, len(wire), 5):  # arrives in pieces
            reader.feed_data(wire[start : start + 5])
        content, problem = await _read_data(reader, None, 100_000)
        return content, problem, await reader.readuntil(b"\r\n")

    content, problem, rest = _run(read())
    assert (content, problem) == (b".first\r\nsecond.\r\n.\r\nthird\r\n", "")
    assert rest == b"QUIT\r\n"  # the next command is left for the server


def test_the_data_reader_refuses_an_empty_line_too_long_and_too_much() -> None:
    import asyncio

    from delegate.intake.mail.smtp import _read_data

    async def read(wire: bytes, size_limit: int | None, line_limit: int) -> tuple[bytes, str]:
        reader = asyncio.StreamReader(limit=16)
        reader.feed_data(wire)
        return await _read_data(reader, size_limit, line_limit)

    assert _run(read(b".\r\n", None, 100)) == (b"", "")
    long_line = b"a\r\n" + b"x" * 200 + b"\r\nb\r\n.\r\n"
    assert _run(read(long_line, None, 100))[1].startswith("500 Line too long")
    assert _run(read(long_line, None, 300)) == (long_line[:-3], "")
    assert _run(read(long_line, 100, 300))[1].startswith("552")
