"""SMS through a Twilio-compatible provider.

Inbound: Twilio posts a form to our webhook, signed with ``X-Twilio-Signature`` =
base64(HMAC-SHA1(auth token, URL + every parameter name and value, sorted by name)).
The URL is the one Twilio requested — ``SITE_URL`` + path and query, so it is right
behind a TLS-terminating proxy — tried with and without an explicit default port, as
Twilio's own validators do. The form body is the raw message, ``MessageSid`` its
dedupe key; MMS media are fetched when the message is processed.

Outbound: ``send_sms`` speaks Twilio's REST shape (``POST
/2010-04-01/Accounts/{sid}/Messages.json``) at ``TWILIO_API_BASE``; delivery-status
callbacks update the ``OutboundDelivery`` row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.request
from base64 import b64encode
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from delegate.clients.models import ContactIdentity
from delegate.clients.services import normalize_phone
from delegate.intake.mail.parse import SUBJECT_TOKEN
from delegate.intake.parsed import InboundFile, ParsedInbound, note_file_left_out

MEDIA_LIMIT = 10


def compute_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url
    for name in sorted({name for name, _v in params}):
        for value in sorted({v for n, v in params if n == name}):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{parts.port or default}"))
    without_port = urlunsplit(parts._replace(netloc=host)) if parts.port in (None, default) else url
    return list(dict.fromkeys([url, with_port, without_port]))


def signature_is_valid(
    auth_token: str, url: str, params: list[tuple[str, str]], signature: str
) -> bool:
    if not auth_token or not signature:
        return False
    return any(
        hmac.compare_digest(compute_signature(auth_token, variant, params), signature)
        for variant in _url_variants(url)
    )


def agency_slug_for_number(number: str) -> str | None:
    """The agency receiving SMS at ``number`` (INTAKE_SMS_NUMBERS: ``+49…=slug``)."""
    for entry in settings.INTAKE_SMS_NUMBERS:
        phone, _, slug = entry.partition("=")
        if phone.strip() == number.strip():
            return slug.strip()
    return None


def numbers_of(agency_slug: str) -> list[str]:
    return [
        phone.strip()
        for phone, _, slug in (entry.partition("=") for entry in settings.INTAKE_SMS_NUMBERS)
        if slug.strip() == agency_slug
    ]


def _fetch(url: str, *, limit: int) -> bytes | None:
    """The media's bytes, or None when it is larger than ``limit`` (read no further)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("media URL is not http(s)")
    request = urllib.request.Request(url)  # noqa: S310 (scheme checked above)
    credentials = f"{settings.TWILIO_ACCOUNT_SID}:{settings.TWILIO_AUTH_TOKEN}"
    request.add_header("Authorization", "Basic " + b64encode(credentials.encode()).decode())
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        data: bytes = response.read(limit + 1)
    if len(data) > limit:
        return None
    return data


def parse_sms(raw: bytes) -> ParsedInbound:
    form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    sender = form.get("From", "")
    try:
        value = normalize_phone(sender)
        problem = ""
    except ValidationError:
        value, problem = "", "invalid sender number"
    body = form.get("Body", "").strip()
    parsed = ParsedInbound(
        sender_kind=ContactIdentity.Kind.PHONE,
        sender_value=value,
        sender_display=sender,
        sender_problem=problem,
        text=body,
        message_id=form.get("MessageSid", ""),
        thread_codes=SUBJECT_TOKEN.findall(body),
    )
    count = min(int(form.get("NumMedia", "0") or 0), MEDIA_LIMIT)
    for index in range(count):
        url = form.get(f"MediaUrl{index}", "")
        kind = form.get(f"MediaContentType{index}", "application/octet-stream")
        extension = re.sub(r"[^a-z0-9]", "", kind.rpartition("/")[2])[:8] or "bin"
        name = f"mms-{index + 1}.{extension}"
        data = _fetch(url, limit=settings.ATTACHMENT_MAX_BYTES)
        if data is None:  # fetching again would not make it smaller: say so, go on
            note_file_left_out(parsed, name)
        else:
            parsed.files.append(InboundFile(name=name, data=data))
    return parsed


def send_sms(*, to: str, body: str, sender: str, status_callback: str = "") -> dict[str, str]:
    """Send one SMS; returns the provider's JSON (``sid``, ``status``). Raises on an
    HTTP error, so the job retrying it sees the failure."""
    sid = settings.TWILIO_ACCOUNT_SID
    url = f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    fields = {"To": to, "From": sender, "Body": body}
    if status_callback:
        fields["StatusCallback"] = status_callback
    request = urllib.request.Request(url, data=urlencode(fields).encode(), method="POST")  # noqa: S310
    credentials = f"{sid}:{settings.TWILIO_AUTH_TOKEN}"
    request.add_header("Authorization", "Basic " + b64encode(credentials.encode()).decode())
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        result: dict[str, str] = json.loads(response.read())
    return result
