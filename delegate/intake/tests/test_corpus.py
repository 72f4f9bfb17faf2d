"""The hostile and broken mail corpus through the whole intake path: every message is
stored, and ends settled — a task, a quarantine entry or an ignored automatic mail —
never failed, never twice."""

from __future__ import annotations

import pytest

from delegate.intake.models import InboundMessage
from delegate.intake.tests.conftest import Deliver
from delegate.intake.tests.mails import mail
from delegate.tasks.models import Attachment, Task
from delegate.testing import Cast

HEAD = b"From: Carol <carol@acme.test>\r\nTo: alpha@localhost\r\nMIME-Version: 1.0\r\n"


def _nested(depth: int) -> bytes:
    raw = HEAD + b"Subject: nested\r\n"
    for level in range(depth):
        raw += b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (level, level)
    raw += b"Content-Type: text/plain\r\n\r\ninnen\r\n"
    for level in reversed(range(depth)):
        raw += b"--n%d--\r\n" % level
    return raw


def _forwarded(depth: int) -> bytes:
    """A mail forwarded inside a mail ``depth`` times over (message/rfc822 in each)."""
    level = b"Content-Type: message/rfc822\r\n\r\nFrom: x@example.org\r\n"
    inner = b"Content-Type: text/plain\r\n\r\ninnen\r\n"
    return HEAD + b"Subject: weitergeleitet\r\n" + level * depth + inner


NESTED_COMMENT = b"(" * 5000 + b")" * 5000

CORPUS: dict[str, tuple[bytes, str]] = {
    "missing From": (b"To: alpha@localhost\r\nSubject: anonym\r\n\r\nHallo", "quarantined"),
    "empty mail": (b"", "quarantined"),
    "garbage bytes": (bytes(range(256)) * 40, "quarantined"),
    "broken boundary": (
        HEAD + b'Subject: kaputt\r\nContent-Type: multipart/mixed; boundary="A"\r\n\r\n'
        b"--A\r\nContent-Type: text/plain\r\n\r\nHallo\r\n--B--\r\n",
        "attached",
    ),
    "invalid UTF-8": (
        HEAD + b"Subject: =?utf-8?b?/w==?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Gr\xff\xfe\xc3(\r\n",
        "attached",
    ),
    "wrong charset": (
        HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGr\xfc\xdfe\r\n",
        "attached",
    ),
    "unknown charset": (
        HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=klingon-8\r\n\r\nHallo\r\n",
        "attached",
    ),
    "deeply nested": (_nested(300), "attached"),
    "nested 1,000 levels deep": (_nested(1000), "attached"),
    "forwarded 1,000 times over": (_forwarded(1000), "attached"),
    "Content-Type with comments nested 5,000 deep": (
        HEAD + b"Subject: x\r\nContent-Type: text/plain " + NESTED_COMMENT + b"\r\n\r\nHallo\r\n",
        "attached",
    ),
    "From with comments nested 5,000 deep": (
        b"From: carol@acme.test " + NESTED_COMMENT + b"\r\nSubject: x\r\n\r\nHallo",
        "quarantined",
    ),
    "From listing 100,000 addresses": (
        b"From: " + b"carol@acme.test, " * 100_000 + b"\r\nSubject: x\r\n\r\nHallo",
        "quarantined",
    ),
    "Subject of 20,000 encoded words": (
        HEAD + b"Subject: " + b"=?utf-8?q?Hallo?= " * 20_000 + b"\r\n\r\nHallo\r\n",
        "attached",
    ),
    "bad base64": (
        HEAD + b"Subject: b64\r\nContent-Type: application/pdf; name=a.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64***\r\n",
        "attached",
    ),
    "header injection in From": (
        b"From: stranger@x.org\r\n (<carol@acme.test>)\r\nSubject: x\r\n\r\nHallo",
        "quarantined",
    ),
    "autoresponder": (
        mail(subject="Abwesend", headers={"Auto-Submitted": "auto-replied"}),
        "ignored",
    ),
    "delivery report": (
        HEAD
        + b"Subject: Undelivered\r\nContent-Type: multipart/report; report-type=delivery-status;"
        b' boundary="r"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r--\r\n',
        "ignored",
    ),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_hostile_mail_ends_settled(cast: Cast, deliver: Deliver, name: str) -> None:
    raw, expected = CORPUS[name]
    inbound = deliver(raw)
    assert (inbound.state, inbound.error) == (expected, "")
    assert bytes(inbound.raw) == raw  # the original is kept as it came
    assert deliver(raw).pk == inbound.pk  # and a second delivery changes nothing
    assert InboundMessage.objects.count() == 1


@pytest.mark.parametrize("raw", [_nested(1000), _forwarded(5000)], ids=["multipart", "rfc822"])
def test_a_mail_too_deep_to_read_becomes_a_task_with_a_notice_and_the_original(
    cast: Cast, deliver: Deliver, raw: bytes
) -> None:
    inbound = deliver(raw)
    assert (inbound.state, inbound.error) == ("attached", "")
    task = inbound.task
    assert task is not None
    assert task.requester == cast.carol
    assert "nested more than 50 levels deep and was not read" in task.description
    [original] = Attachment.objects.filter(task=task)
    assert original.filename == "original.eml"
    with original.file.open("rb") as stored:
        assert stored.read() == raw


def test_a_mail_nested_within_the_bound_is_read_as_usual(cast: Cast, deliver: Deliver) -> None:
    inbound = deliver(_forwarded(40))
    task = inbound.task
    assert task is not None
    assert "not read" not in task.description
    assert not Attachment.objects.filter(task=task, filename="original.eml").exists()


def test_a_from_header_too_deep_to_read_is_quarantined_as_holding_no_address(
    cast: Cast, deliver: Deliver
) -> None:
    inbound = deliver(CORPUS["From with comments nested 5,000 deep"][0])
    assert (inbound.state, inbound.note) == ("quarantined", "From header holds no address")


def test_a_thousand_attachments_are_stored_up_to_the_cap(
    cast: Cast, deliver: Deliver, settings: pytest.FixtureRequest
) -> None:
    settings.INTAKE_MAX_ATTACHMENTS = 30  # type: ignore[attr-defined]
    files = [(f"beleg-{i}.txt", b"Beleg %d" % i, "text/plain") for i in range(1000)]
    inbound = deliver(mail(subject="Belege", attachments=files))
    assert inbound.state == "attached" and inbound.task is not None
    assert Attachment.objects.filter(task=inbound.task).count() == 30
    task = Task.objects.get(pk=inbound.task.pk)
    assert "970 more attachment(s)" in task.description
