"""Parsing real-world and hostile mail: quotes, HTML, charsets, structure."""

from __future__ import annotations

import pytest

from delegate.intake.mail.bounded import MAX_HEADER_CHARS, read_message
from delegate.intake.mail.parse import parse_email
from delegate.intake.mail.text import HTML_MAX_CHARS, strip_quoted
from delegate.intake.tests.mails import mail


@pytest.mark.parametrize(
    "body",
    [
        "Ja, gerne.\n\nAm 03.03.2026 um 10:00 schrieb Bob Becker <bob@alpha.test>:\n> Frage?\n",
        "Ja, gerne.\n\nAm Di., 3. März 2026 um 10:00 Uhr schrieb Bob <\nbob@alpha.test>:\n> x",
        "Ja, gerne.\n\nOn Tue, 3 Mar 2026 at 10:00, Bob Becker <bob@alpha.test> wrote:\n> Q?\n",
        "Ja, gerne.\n\nOn Tue, 3 Mar 2026 at 10:00, Bob Becker <bob@alpha.test>\nwrote:\n> Q?",
        "Ja, gerne.\n\n-----Original Message-----\nFrom: Bob\nSent: Tuesday\nSubject: Q",
        "Ja, gerne.\n\n-----Ursprüngliche Nachricht-----\nVon: Bob\nGesendet: Dienstag",
        "Ja, gerne.\n\nVon: Bob Becker <bob@alpha.test>\nGesendet: Dienstag, 3. März 2026 10:00\n"
        "An: Carol\nBetreff: Frage",
        "Ja, gerne.\n\n________________________________\nFrom: Bob Becker\nSent: Tuesday",
        "Ja, gerne.\n-- \nCarol Clausen\nAcme GmbH, Tel. 0151 23456789",
        "Ja, gerne.\n\nVon meinem iPhone gesendet",
        "Ja, gerne.\n\n> Frage?\n> Noch eine Zeile\n",
    ],
)
def test_it_strips_quotes_and_signatures(body: str) -> None:
    assert strip_quoted(body) == "Ja, gerne."


def test_it_keeps_text_that_only_looks_like_a_quote_start() -> None:
    text = "Von: Montag bis Freitag bitte.\nDanke"
    assert strip_quoted(text) == text
    assert strip_quoted("> nur ein Zitat") == "> nur ein Zitat"


def test_html_becomes_clean_text_and_sanitised_html() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        '<p>Bitte <b>bis Freitag</b> <a href="https://x.test" onclick="evil()">hier</a>.</p>'
        '<img src="cid:logo"><div>Zweite&nbsp;Zeile &amp; mehr</div></body></html>'
    )
    parsed = parse_email(mail(body="", html=html))
    assert (
        "alert" not in parsed.html and "onclick" not in parsed.html and "<script" not in parsed.html
    )
    assert "<b>bis Freitag</b>" in parsed.html


def test_an_html_only_mail_gets_text_from_its_html() -> None:
    raw = (
        b"From: carol@acme.test\r\nSubject: Nur HTML\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"\r\n<p>Bitte <b>bis Freitag</b>.</p><script>alert(1)</script>"
        b"<div>Danke &amp; Gru\xc3\x9f</div>"
    )
    parsed = parse_email(raw)
    assert parsed.text == "Bitte bis Freitag.\n\nDanke & Gruß"


def test_a_mail_with_thousands_of_links_is_bounded() -> None:
    links = "".join(f'<a href="https://x.test/{i}">link {i}</a> ' for i in range(1, 50_001))
    html = f"<p>{links}</p>"
    parsed = parse_email(mail(body="", html=html))
    # Cut at the bound, not processed in full: the raw message keeps everything.
    assert len(html) > 3 * HTML_MAX_CHARS
    assert 0 < len(parsed.html) < 2 * HTML_MAX_CHARS
    assert parsed.text.startswith("link 1")


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        (b"text/plain; charset=iso-8859-1", "Grüße".encode("latin-1"), "Grüße"),
        (b"text/plain; charset=utf-8", "Grüße".encode("latin-1"), "Grüße"),  # wrong charset
        (b"text/plain; charset=x-unknown-42", "Grüße".encode(), "Grüße"),  # unknown charset
        (b"text/plain", "Grüße".encode(), "Grüße"),  # missing charset
        (b"text/plain; charset=utf-8", b"Gr\xff\xfe\xfd", "Gr\xff\xfe\xfd"),  # invalid UTF-8
    ],
)
def test_wrong_and_missing_charsets_are_tolerated(
    header: bytes, body: bytes, expected: str
) -> None:
    raw = b"From: carol@acme.test\r\nSubject: x\r\nContent-Type: " + header + b"\r\n\r\n" + body
    parsed = parse_email(raw)
    if expected == "Gr\xff\xfe\xfd":
        assert parsed.text.startswith("Gr") and len(parsed.text) >= 3
    else:
        assert parsed.text == expected


def test_a_missing_from_leaves_no_sender() -> None:
    parsed = parse_email(b"Subject: anonym\r\n\r\nHallo")
    assert (parsed.sender_value, parsed.sender_problem) == ("", "no From header")


def test_broken_boundaries_and_deep_nesting_do_not_fail() -> None:
    broken = (
        b"From: carol@acme.test\r\nSubject: kaputt\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="AAA"\r\n\r\n'
        b"--AAA\r\nContent-Type: text/plain\r\n\r\n"
        b"Hallo\r\n--BBB--\r\n"
    )
    assert "Hallo" in parse_email(broken).text
    parsed = parse_email(_nested(30))
    assert parsed.files_dropped >= 1  # below the walk's depth cap nothing is read
    deep = _nested(500)
    parsed = parse_email(deep)  # beyond the parser's bound: headers only, the original kept
    assert (parsed.sender_value, parsed.subject) == ("carol@acme.test", "tief")
    assert "nested more than 50 levels deep" in parsed.text
    assert [(f.name, f.data) for f in parsed.files] == [("original.eml", deep)]


def _nested(depth: int) -> bytes:
    head = b"From: carol@acme.test\r\nSubject: tief\r\nMIME-Version: 1.0\r\n"
    opening = [
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    ]
    closing = [b"--b%d--\r\n" % level for level in reversed(range(depth))]
    leaf = b"Content-Type: text/plain\r\n\r\ninnen\r\n"
    return head + b"".join(opening) + leaf + b"".join(closing)


def test_many_attachments_are_capped(settings: pytest.FixtureRequest) -> None:
    settings.INTAKE_MAX_ATTACHMENTS = 20  # type: ignore[attr-defined]
    files = [(f"f{i}.txt", b"x%d" % i, "text/plain") for i in range(1000)]
    parsed = parse_email(mail(attachments=files))
    assert len(parsed.files) == 20 and parsed.files_dropped == 980
    assert [f.name for f in parsed.files[:2]] == ["f0.txt", "f1.txt"]


def test_inline_images_are_stored() -> None:
    raw = mail(
        html='<p>Logo: <img src="cid:logo@acme"></p>',
        attachments=[("logo.png", b"\x89PNG\r\n\x1a\n0000", "image/png")],
    )
    assert [f.name for f in parse_email(raw).files] == ["logo.png"]


def test_thread_codes_come_from_subject_address_and_own_message_ids() -> None:
    raw = mail(
        subject="AW: [ABCD2345] Frage",
        headers={"In-Reply-To": "<delegate.XYZW6789.42.abc@localhost>", "References": "<a@b>"},
    )
    parsed = parse_email(raw, recipient_code="QRST2345")
    assert parsed.thread_codes == ["XYZW6789", "QRST2345", "ABCD2345"]
    assert parsed.references == ["<delegate.XYZW6789.42.abc@localhost>", "<a@b>"]


def test_headers_seen_before_parse_the_same_and_keep_their_defects() -> None:
    # Parsed headers are shared between mails (see parse._CachingPolicy): a malformed
    # From must stay refused however often it comes, next to good ones, and every mail
    # must get its own values.
    hostile = b"From: Carol <carol@acme.test\r\nSubject: %s\r\n\r\nHallo"
    good = "Carol <carol@acme.test>"
    raws = [
        hostile % b"Eins",
        mail(sender=good, subject="Zwei", attachments=[("a.pdf", b"%PDF-1", "application/pdf")]),
        hostile % b"Drei",
        mail(sender=good, subject="Zwei", attachments=[("b.txt", b"hallo", "text/plain")]),
    ]
    results = [parse_email(raw) for raw in raws]
    assert [p.sender_value for p in results] == ["", "carol@acme.test", "", "carol@acme.test"]
    assert results[0].sender_problem.startswith("malformed From header")
    assert results[2].sender_problem == results[0].sender_problem
    assert [p.subject for p in results] == ["Eins", "Zwei", "Drei", "Zwei"]
    assert [[f.name for f in p.files] for p in results] == [[], ["a.pdf"], [], ["b.txt"]]


def test_header_values_are_cut_before_parsing_and_references_keep_their_end() -> None:
    many = " ".join(f"<id{n}.{'x' * 40}@mail.example>" for n in range(2000))
    raw = mail(
        sender="Carol <carol@acme.test>" + " " * 20_000,
        subject="Hallo " * 5000,
        headers={"References": many + " <delegate.XYZW6789.42.abc@localhost>"},
    )
    msg, _too_deep = read_message(raw)
    for name in ("From", "Subject", "References"):
        assert len(str(msg[name])) <= MAX_HEADER_CHARS
    parsed = parse_email(raw)
    assert parsed.sender_value == "carol@acme.test"
    assert parsed.subject.startswith("Hallo Hallo")
    # The newest Message-ID of the thread, at the very end, still threads the reply.
    assert parsed.thread_codes == ["XYZW6789"]
