"""Reading a mail's MIME tree with a bound on its depth.

The standard parser descends into every nested multipart and ``message/*`` part by
recursion, so a mail nested a thousand levels deep (a few kilobytes of hostile input)
ends in a ``RecursionError`` deep inside the parser. This parser counts the levels as
it descends and stops at ``MAX_PARSE_DEPTH``: time and memory stay bounded by that
depth, whatever the mail. A mail that is too deep is then read for its headers only —
sender, subject and threading still work — and the caller decides what to do with
the body (see ``parse.parse_email``).
"""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

# Real mail clients nest a handful of levels (a forwarded mail with inline images and
# alternatives is about six); the parser itself copes with a few hundred.
MAX_PARSE_DEPTH = 50


class NestingTooDeep(ValueError):
    """The MIME tree goes deeper than the parser is allowed to follow."""


class _DepthBoundFeedParser(BytesFeedParser):
    def __init__(self, *, limit: int) -> None:
        # Before super().__init__, which creates the top-level parse generator.
        self._depth = 0
        self._limit = limit
        super().__init__(policy=policy.default)

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


def read_message(raw: bytes, *, limit: int = MAX_PARSE_DEPTH) -> tuple[EmailMessage, bool]:
    """The parsed message (``policy.default``) and False; or, for a mail nested deeper
    than ``limit``, the message read for its headers only (the body left as text) and
    True."""
    parser = _DepthBoundFeedParser(limit=limit)
    try:
        parser.feed(raw)
        msg: Message = parser.close()
        too_deep = False
    except NestingTooDeep:
        msg = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        too_deep = True
    assert isinstance(msg, EmailMessage)
    return msg, too_deep
