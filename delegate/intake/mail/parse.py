"""Raw email bytes to a ``ParsedInbound``, with the standard ``email`` package.

Hostile and broken mail is the normal case here: every header is read defensively (a
header the parser chokes on counts as missing), charsets that are wrong or unknown fall
back instead of failing, and the MIME tree is read by a parser bounded in depth
(``bounded``) and walked iteratively with caps on depth and parts, so neither deep
nesting nor thousands of parts can exhaust the worker.
"""

from __future__ import annotations

import functools
import re
from email.message import Message
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from delegate.clients.models import ContactIdentity
from delegate.core.models import CODE_ALPHABET
from delegate.intake.mail.bounded import BOUNDED, MAX_PARSE_DEPTH, BoundedPolicy, read_message
from delegate.intake.mail.text import clean_html, html_to_text, strip_quoted
from delegate.intake.parsed import InboundFile, ParsedInbound

MAX_DEPTH = 20
MAX_PARTS = 2_000

_CODE = f"[{CODE_ALPHABET}]{{8}}"
SUBJECT_TOKEN = re.compile(rf"\[({_CODE})\]")
# Our own Message-IDs: <delegate.CODE.anything@domain> (see delegate.intake.outbound).
OWN_MESSAGE_ID = re.compile(rf"<delegate\.({_CODE})\.[^<>@\s]+@[^<>\s]+>")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|bounces?)([+@.-]|$)", re.I)


class _CachingPolicy(BoundedPolicy):
    """``BOUNDED`` that parses each distinct header line once: the standard library
    parses a header again on every access (a part's Content-Type four or five times per
    mail), and the same lines recur from mail to mail. Header objects are immutable, so
    sharing them is safe; long (hostile) values are not kept."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if not isinstance(value, str) or hasattr(value, "name") or len(value) > 1000:
            return super().header_fetch_parse(name, value)
        return _parsed_header(name, value)


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str) -> Any:
    return BOUNDED.header_fetch_parse(name, value)


POLICY = _CachingPolicy()


def _header(msg: Message, name: str) -> Any:
    try:
        return msg[name]
    except Exception:  # the parser raises a variety of errors on hostile headers
        return None


def _header_str(msg: Message, name: str) -> str:
    value = _header(msg, name)
    return " ".join(str(value).split()) if value is not None else ""


def sender_of(msg: Message) -> tuple[str, str, str]:
    """(address, display name, problem). Strict: exactly one address in exactly one
    From header, no parser defects (CVE-2023-27043 forms such as
    ``a@x.org(<b@client.de>`` leave a defect), and an address Django's validator
    accepts. Otherwise no address and the reason."""
    try:
        headers = msg.get_all("From") or []
    except Exception:
        headers = []
    if len(headers) != 1:
        return "", "", "no From header" if not headers else "several From headers"
    header: Any = headers[0]
    try:
        addresses = list(header.addresses)
        defects = list(header.defects)
    except Exception:
        return "", "", "unreadable From header"
    if defects:
        return "", "", f"malformed From header: {defects[0]}"
    if not addresses:
        return "", "", "From header holds no address"
    if len(addresses) != 1:
        return "", "", "From header names several addresses"
    address = addresses[0]
    addr_spec = (address.addr_spec or "").strip()
    try:
        validate_email(addr_spec)
    except ValidationError:
        return "", "", "invalid sender address"
    return addr_spec.lower(), str(address.display_name or ""), ""


def automatic_reason(msg: Message, envelope_sender: str | None) -> str:
    """Why this mail is automatic (and must neither create a task nor be answered), or
    '' for mail written by a person. RFC 3834 and the usual de-facto headers."""
    auto_submitted = _header_str(msg, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header_str(msg, "Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    if _header(msg, "X-Auto-Response-Suppress") is not None:
        return "X-Auto-Response-Suppress"
    for name in ("X-Autoreply", "X-Autorespond", "List-Id"):
        if _header(msg, name) is not None:
            return name
    # The null reverse-path: "<>" from our SMTP server, or the Return-Path a delivering
    # server wrote into mail we fetch by IMAP.
    if (envelope_sender or "").strip() == "<>" or _header_str(msg, "Return-Path") == "<>":
        return "empty envelope sender (bounce)"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    address, _name, _problem = sender_of(msg)
    if address and AUTOMATIC_SENDERS.match(address):
        return f"automatic sender {address}"
    return ""


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    # Windows-1252 maps nearly every byte; what it cannot map is replaced, never fatal.
    return payload.decode("cp1252", errors="replace")


def _walk(msg: Message) -> tuple[list[Message], int]:
    """The leaf parts in order, iteratively, at most MAX_DEPTH deep and MAX_PARTS many;
    and how many were cut off by those caps."""
    leaves: list[Message] = []
    skipped = 0
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS or depth > MAX_DEPTH:
            skipped += 1
            continue
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(
                    (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
                )
            continue
        leaves.append(part)
    return leaves, skipped


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    name = " ".join(str(name or "").split())
    if not name:
        subtype = part.get_content_subtype() if part.get_content_maintype() != "text" else "txt"
        name = f"attachment-{index}.{re.sub(r'[^a-z0-9]', '', subtype)[:8] or 'bin'}"
    return name.replace("/", "_").replace("\\", "_")[-200:]


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
        has_name = bool(part.get_filename())
    except Exception:
        return True
    if disposition == "attachment" or has_name:
        return True
    return part.get_content_type() not in ("text/plain", "text/html")


def _bodies_and_files(msg: Message, parsed: ParsedInbound) -> None:
    leaves, skipped = _walk(msg)
    parsed.files_dropped += skipped
    plain: list[str] = []
    html: list[str] = []
    limit = settings.INTAKE_MAX_ATTACHMENTS
    for index, part in enumerate(leaves, start=1):
        if _is_attachment(part):
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes) or not data:
                continue
            if len(parsed.files) >= limit:
                parsed.files_dropped += 1
                continue
            parsed.files.append(InboundFile(name=_filename(part, index), data=data))
        elif part.get_content_type() == "text/html":
            html.append(_decode(part))
        else:
            plain.append(_decode(part))
    parsed.html = clean_html("\n".join(html)) if html else ""
    full_text = "\n\n".join(p.strip() for p in plain if p.strip()) or (
        html_to_text("\n".join(html)) if html else ""
    )
    parsed.text = strip_quoted(full_text)


def parse_email(
    raw: bytes, *, recipient_code: str = "", envelope_sender: str | None = None
) -> ParsedInbound:
    msg, too_deep = read_message(raw, policy=POLICY)
    address, display, problem = sender_of(msg)
    parsed = ParsedInbound(
        sender_kind=ContactIdentity.Kind.EMAIL,
        sender_value=address,
        sender_display=display,
        sender_problem=problem,
        subject=_header_str(msg, "Subject")[:300],
        automatic_reason=automatic_reason(msg, envelope_sender),
    )
    ids = MESSAGE_ID.findall(_header_str(msg, "Message-ID"))
    parsed.message_id = ids[0] if ids else ""
    refs = MESSAGE_ID.findall(_header_str(msg, "In-Reply-To"))
    refs += MESSAGE_ID.findall(_header_str(msg, "References"))[-50:]
    parsed.references = list(dict.fromkeys(refs))
    codes = [OWN_MESSAGE_ID.match(ref) for ref in parsed.references]
    parsed.thread_codes = [m.group(1) for m in codes if m]
    if recipient_code:
        parsed.thread_codes.append(recipient_code)
    parsed.thread_codes += SUBJECT_TOKEN.findall(parsed.subject)
    if too_deep:
        _too_deep(raw, parsed)
    else:
        _bodies_and_files(msg, parsed)
    return parsed


def _too_deep(raw: bytes, parsed: ParsedInbound) -> None:
    """A mail nested too deeply to read: no mail client writes one, but the sender and
    subject are known, so it is handled like any other, with a notice instead of its
    text and the original attached for a person to look at."""
    if len(raw) <= settings.ATTACHMENT_MAX_BYTES:
        parsed.files.append(InboundFile(name="original.eml", data=raw))
        notice = _(
            "[This mail is nested more than %(levels)s levels deep and was not read. "
            "The original is attached as original.eml.]"
        )
    else:
        notice = _(
            "[This mail is nested more than %(levels)s levels deep and was not read. "
            "The original is kept with the inbound message.]"
        )
    parsed.text = notice % {"levels": MAX_PARSE_DEPTH}
