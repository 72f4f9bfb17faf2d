"""A zip bomb is parsed within bounded memory: an archive is stored as the bytes that
arrived and never unpacked. (A thousand attachments and deep nesting: test_corpus.)"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

from delegate.intake.mail.parse import parse_email
from delegate.intake.tests.mails import mail


def _zip_bomb(unpacked_megabytes: int) -> bytes:
    """A small archive that unpacks to ``unpacked_megabytes`` of zeros."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(unpacked_megabytes):
            member.write(bytes(1024 * 1024))
    return buffer.getvalue()


def _peak_bytes(raw: bytes) -> tuple[int, object]:
    tracemalloc.start()
    try:
        parsed = parse_email(raw)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, parsed


def test_it_stores_a_zip_bomb_as_it_came_and_never_unpacks_it() -> None:
    bomb = _zip_bomb(64)  # 64 MB unpacked, about 64 KB packed
    assert len(bomb) < 256 * 1024
    raw = mail(attachments=[("bomb.zip", bomb, "application/zip")])
    peak, parsed = _peak_bytes(raw)
    assert [(f.name, f.data) for f in parsed.files] == [("bomb.zip", bomb)]  # type: ignore[attr-defined]
    # Parsing holds a few copies of the mail at most, nowhere near the 64 MB inside.
    assert peak < 20 * len(raw) + 5 * 1024 * 1024
