"""Reading a mail with bounds on its depth and on its header values.

The standard parser descends into every nested multipart and ``message/*`` part by
recursion, so a mail nested a thousand levels deep (a few kilobytes of hostile input)
ends in a ``RecursionError`` deep inside the parser. This parser counts the levels as
it descends and stops at ``MAX_PARSE_DEPTH``: time and memory stay bounded by that
depth, whatever the mail. A mail that is too deep is then read for its headers only —
sender, subject and threading still work — and the caller decides what to do with
the body (see ``parse.parse_email``).

Header values are bounded too: ``policy.default`` parses a structured header in time
that grows faster than its length (a From header listing 4,000 addresses takes a
second) and by recursion for nested comments. Values are cut to ``MAX_HEADER_CHARS``
before parsing (References keeps its end, where the latest Message-IDs are), and a
value nested too deeply to parse reads as empty. The raw bytes are kept as they came.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from typing import Any

# Real mail clients nest a handful of levels (a forwarded mail with inline images and
# alternatives is about six); the parser itself copes with a few hundred.
MAX_PARSE_DEPTH = 50
# Far beyond any real subject or sender; a long thread's References (trimmed by mail
# clients to a few dozen ids) fits too.
MAX_HEADER_CHARS = 8_000
_KEEP_THE_END = frozenset({"references", "in-reply-to"})


class BoundedPolicy(EmailPolicy):
    """``policy.default``, with header values bounded in length and nesting."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_HEADER_CHARS:
            if name.lower() in _KEEP_THE_END:
                value = value[-MAX_HEADER_CHARS:]
            else:
                value = value[:MAX_HEADER_CHARS]
        try:
            return super().header_fetch_parse(name, value)
        except RecursionError:  # comments nested thousands deep: read as empty
            return super().header_fetch_parse(name, "")


BOUNDED = BoundedPolicy()


class NestingTooDeep(ValueError):
    """The MIME tree goes deeper than the parser is allowed to follow."""


class _DepthBoundFeedParser(BytesFeedParser):
    def __init__(self, *, limit: int, policy: EmailPolicy) -> None:
        # Before super().__init__, which creates the top-level parse generator.
        self._depth = 0
        self._limit = limit
        super().__init__(policy=policy)

    def _parsegen(self) -> Iterator[Any]:
        # FeedParser._parsegen calls self._parsegen() once for every nested part, so
        # each running generator is one level of the tree.
        if self._depth >= self._limit:
            raise NestingTooDeep(f"MIME parts nested more than {self._limit} levels deep")
        self._depth += 1
        try:
            yield from super()._parsegen()  # type: ignore[misc]
        finally:
            self._depth -= 1


def read_message(
    raw: bytes, *, limit: int = MAX_PARSE_DEPTH, policy: EmailPolicy = BOUNDED
) -> tuple[EmailMessage, bool]:
    """The parsed message and False; or, for a mail nested deeper than ``limit``, the
    message read for its headers only (the body left as text) and True. ``policy``
    should be ``BOUNDED`` or derived from ``BoundedPolicy``, so header values are
    bounded too."""
    parser = _DepthBoundFeedParser(limit=limit, policy=policy)
    try:
        parser.feed(raw)
        msg: Message = parser.close()
        too_deep = False
    except NestingTooDeep:
        msg = BytesParser(policy=policy).parsebytes(raw, headersonly=True)
        too_deep = True
    assert isinstance(msg, EmailMessage)
    return msg, too_deep
