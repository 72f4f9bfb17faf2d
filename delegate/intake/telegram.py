"""Telegram bots: one per agency (``INTAKE_TELEGRAM_BOTS``: ``slug:secret:token``).

Telegram posts each update to our webhook with the secret we registered in the
``X-Telegram-Bot-Api-Secret-Token`` header; that secret also tells which agency's bot
it is. The update's JSON is the raw message and ``update_id`` its dedupe key, so an
update delivered again (or ten times at once) is stored once. Chats are recognised by
their chat id, which a contact links to themselves by sending the bot a one-time code
from the portal.
"""

from __future__ import annotations

import hmac
import json
import re
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from delegate.clients.models import ContactIdentity
from delegate.core.models import CODE_ALPHABET
from delegate.env import ConfigError
from delegate.intake.mail.parse import SUBJECT_TOKEN
from delegate.intake.parsed import ParsedInbound

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


def parse_update(raw: bytes) -> ParsedInbound:
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
    return parsed


def send_message(bot: Bot, *, chat_id: str, text: str) -> dict[str, Any]:
    """``sendMessage``; returns the sent Message. Raises if Telegram says not ok."""
    url = f"{settings.TELEGRAM_API_BASE.rstrip('/')}/bot{bot.token}/sendMessage"
    body = json.dumps({"chat_id": chat_id, "text": text[:4096]}).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
    if not answer.get("ok"):
        raise RuntimeError(f"Telegram sendMessage failed: {answer.get('description')}")
    result: dict[str, Any] = answer["result"]
    return result
