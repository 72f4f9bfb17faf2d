"""Telegram bots: one per agency (``INTAKE_TELEGRAM_BOTS``: ``slug:secret:token``).

Telegram posts each update to our webhook with the secret we registered in the
``X-Telegram-Bot-Api-Secret-Token`` header; that secret also tells which agency's bot
it is. The update's JSON is the raw message and ``update_id`` its dedupe key, so an
update delivered again (or ten times at once) is stored once. Chats are recognised by
their chat id, which a contact links to themselves by sending the bot a one-time code
from the portal.

A photo, document, voice note, audio or video in a message is fetched when the message
is processed, like MMS media: ``getFile`` gives its ``file_path``, the bytes come from
``{TELEGRAM_API_BASE}/file/bot<token>/<file_path>``. Files over
``ATTACHMENT_MAX_BYTES`` (by the size Telegram announces, and by a bounded read) are
left out with a notice in the text; a failed download fails the processing, so the
message is retried rather than becoming a task without its file.
"""

from __future__ import annotations

import hmac
import json
import posixpath
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings

from delegate.clients.models import ContactIdentity
from delegate.core.models import CODE_ALPHABET
from delegate.env import ConfigError
from delegate.intake.mail.parse import SUBJECT_TOKEN
from delegate.intake.parsed import InboundFile, ParsedInbound, note_file_left_out

LINK_CODE = re.compile(rf"^(?:/start\s+)?([{CODE_ALPHABET}]{{8}})$", re.IGNORECASE)


@dataclass(frozen=True)
class Bot:
    agency_slug: str
    secret: str
    token: str


def bots() -> list[Bot]:
    result = []
    for entry in settings.INTAKE_TELEGRAM_BOTS:
        slug, secret, token = [*entry.split(":", 2), "", ""][:3]
        if not (slug and secret and token):
            raise ConfigError("INTAKE_TELEGRAM_BOTS entries are slug:secret:bot-token")
        result.append(Bot(slug, secret, token))
    return result


def bot_for_secret(secret: str) -> Bot | None:
    """The bot whose webhook secret this is; every bot is compared in constant time."""
    found = None
    for bot in bots():
        if hmac.compare_digest(bot.secret.encode(), secret.encode()):
            found = bot
    return found


def bot_for_agency(slug: str) -> Bot | None:
    return next((bot for bot in bots() if bot.agency_slug == slug), None)


def parse_update(raw: bytes, *, bot: Bot | None = None) -> ParsedInbound:
    """The update as a ``ParsedInbound``; a file in the message is downloaded through
    ``bot`` (required then). Raises when a download fails."""
    update: dict[str, Any] = json.loads(raw)
    message = update.get("message")
    if not isinstance(message, dict):
        return ParsedInbound(
            sender_kind=ContactIdentity.Kind.TELEGRAM,
            sender_value="",
            automatic_reason="not a new message (edit, callback or service update)",
        )
    chat = message.get("chat") or {}
    person = message.get("from") or {}
    text = str(message.get("text") or message.get("caption") or "").strip()
    name = " ".join(str(person.get(k) or "") for k in ("first_name", "last_name")).strip()
    parsed = ParsedInbound(
        sender_kind=ContactIdentity.Kind.TELEGRAM,
        sender_value=str(chat.get("id") or ""),
        sender_display=name or str(person.get("username") or ""),
        text=text,
        message_id=str(message.get("message_id") or ""),
        thread_codes=SUBJECT_TOKEN.findall(text),
        automatic_reason="message from a bot" if person.get("is_bot") else "",
    )
    if chat.get("type") not in (None, "private"):
        parsed.automatic_reason = "not a private chat"
    match = LINK_CODE.match(text)
    if match:
        parsed.link_code = match.group(1).upper()
    _thread(message, parsed)
    if not parsed.is_automatic:
        _attach_file(message, parsed, bot)
    return parsed


def _thread(message: dict[str, Any], parsed: ParsedInbound) -> None:
    """Chat has no threading headers, but two things tell the task: an answer to one of
    our messages (which end in the task's ``[CODE]``) quotes it in
    ``reply_to_message``; and the photos of an album arrive as one update each with a
    shared ``media_group_id`` — the album's key stands in for a Message-ID, so each
    photo after the first continues the first one's task."""
    answered = message.get("reply_to_message")
    if isinstance(answered, dict):
        quoted = str(answered.get("text") or answered.get("caption") or "")
        parsed.thread_codes += SUBJECT_TOKEN.findall(quoted)
    album = str(message.get("media_group_id") or "")
    if album:
        parsed.message_id = f"<album.{album}.{parsed.sender_value}@telegram>"
        parsed.references = [parsed.message_id]


# Message fields holding one file, and the name of the file when Telegram gives none.
FILE_FIELDS = {
    "document": "document",
    "audio": "audio",
    "voice": "voice",
    "video": "video",
    "video_note": "video",
    "animation": "animation",
}


def _chosen_file(message: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The file in the message and its kind; for a photo (sent in several sizes) the
    largest size within the attachment limit, else the smallest one."""
    sizes = [size for size in message.get("photo") or [] if isinstance(size, dict)]
    if sizes:
        limit = settings.ATTACHMENT_MAX_BYTES
        by_area = sorted(sizes, key=lambda s: int(s.get("width") or 0) * int(s.get("height") or 0))
        fitting = [s for s in by_area if int(s.get("file_size") or 0) <= limit]
        return (fitting[-1] if fitting else by_area[0]), "photo"
    for field, kind in FILE_FIELDS.items():
        if isinstance(message.get(field), dict):
            return message[field], kind
    return None


def _attach_file(message: dict[str, Any], parsed: ParsedInbound, bot: Bot | None) -> None:
    chosen = _chosen_file(message)
    if chosen is None:
        return
    file, kind = chosen
    limit = settings.ATTACHMENT_MAX_BYTES
    name = str(file.get("file_name") or "")
    if int(file.get("file_size") or 0) > limit:
        note_file_left_out(parsed, name or kind)
        return
    if bot is None:
        raise RuntimeError("no Telegram bot configured to fetch the file")
    fetched = download_file(bot, str(file.get("file_id") or ""), limit=limit)
    if fetched is None:
        note_file_left_out(parsed, name or kind)
        return
    file_path, data = fetched
    if not name:
        extension = re.sub(r"[^A-Za-z0-9.]", "", posixpath.splitext(file_path)[1])[:9]
        name = f"{kind}-{message.get('message_id') or 'file'}{extension}"
    name = name.replace("/", "_").replace("\\", "_")[-200:]
    parsed.files.append(InboundFile(name=name, data=data))


class TelegramError(OSError):
    """The Bot API answered ``ok: false``, or not at all: an I/O failure, like the
    network errors it stands in for."""

    def __init__(self, method: str, description: str) -> None:
        # Never the URL: it holds the bot's token, and this ends up in the Inbound view.
        super().__init__(f"Telegram {method} failed: {description}")
        self.description = description


def _call(bot: Bot, method: str, payload: dict[str, Any]) -> Any:
    url = f"{settings.TELEGRAM_API_BASE.rstrip('/')}/bot{bot.token}/{method}"
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:  # the Bot API explains errors in a JSON body
        try:
            answer = json.loads(error.read())
        except ValueError:
            answer = {"description": f"HTTP {error.code}"}
        finally:
            error.close()
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise TelegramError(method, type(error).__name__) from None
    if not isinstance(answer, dict) or not answer.get("ok"):
        description = answer.get("description") if isinstance(answer, dict) else None
        raise TelegramError(method, str(description or "no answer"))
    return answer.get("result")


def download_file(bot: Bot, file_id: str, *, limit: int) -> tuple[str, bytes] | None:
    """``getFile``, then the file's bytes: ``(file_path, data)``, or None when the file
    is larger than ``limit`` (or than the Bot API lets bots download). Raises on any
    other failure, so processing is retried."""
    try:
        result = _call(bot, "getFile", {"file_id": file_id})
    except TelegramError as error:
        if "too big" in error.description.lower():
            return None
        raise
    file_path = str((result or {}).get("file_path") or "")
    if not file_path:
        raise TelegramError("getFile", "no file_path in the answer")
    if int((result or {}).get("file_size") or 0) > limit:
        return None
    base = settings.TELEGRAM_API_BASE.rstrip("/")
    url = f"{base}/file/bot{bot.token}/{quote(file_path, safe='/')}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
            data: bytes = response.read(limit + 1)
    except (urllib.error.URLError, OSError) as error:
        code = getattr(error, "code", None)  # an HTTPError's status
        reason = f"HTTP {code}" if code else type(error).__name__
        raise TelegramError("file download", reason) from None
    if len(data) > limit:
        return None
    return file_path, data


def send_message(bot: Bot, *, chat_id: str, text: str) -> dict[str, Any]:
    """``sendMessage``; returns the sent Message. Raises if Telegram says not ok."""
    result: dict[str, Any] = _call(bot, "sendMessage", {"chat_id": chat_id, "text": text[:4096]})
    return result
