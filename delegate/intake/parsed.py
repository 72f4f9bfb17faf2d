"""What every channel's parser produces: one shape, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class InboundFile:
    name: str
    data: bytes


@dataclass
class ParsedInbound:
    """An inbound message reduced to what intake needs.

    ``sender_kind``/``sender_value`` are a normalised ``ContactIdentity`` (kind, value),
    empty when the sender cannot be trusted to be anyone (missing or malformed address).
    ``thread_codes`` are task codes this message names (reply address, subject token,
    our own Message-IDs it answers); ``references`` are the Message-IDs it answers.
    """

    sender_kind: str
    sender_value: str
    sender_display: str = ""
    sender_problem: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    message_id: str = ""
    references: list[str] = field(default_factory=list)
    thread_codes: list[str] = field(default_factory=list)
    files: list[InboundFile] = field(default_factory=list)
    files_dropped: int = 0
    automatic_reason: str = ""
    link_code: str = ""  # a one-time code linking this chat to a contact (Telegram)

    @property
    def is_automatic(self) -> bool:
        return bool(self.automatic_reason)


def note_file_left_out(parsed: ParsedInbound, name: str) -> None:
    """Say in the message's text that the file ``name`` was over ``ATTACHMENT_MAX_BYTES``
    and not fetched (chat and MMS files live at the provider, not in the raw message)."""
    megabytes = settings.ATTACHMENT_MAX_BYTES / 1024 / 1024
    note = _("[%(name)s was not fetched: files may be at most %(limit)s MB]") % {
        "name": name,
        "limit": f"{megabytes:.3g}",
    }
    parsed.text = f"{parsed.text}\n\n{note}".strip()
