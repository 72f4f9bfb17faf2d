"""Reading the labelled messages of ``eval/triage/data`` (format in the README)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Example:
    id: str
    received_at: dt.datetime
    time_zone: str
    region: str
    channel: str
    language: str
    category: str
    deadline: dt.datetime | None
    text: str
    priority: int | None = None  # 1 low … 4 urgent; None: not labelled
    # (type, value) pairs, normalised (see the README); None: not labelled
    entities: tuple[tuple[str, str], ...] | None = None


def _local(value: str, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=zone)


def load(directory: Path = DATA) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(directory.glob("*.txt")):
        header: list[str] | None = None
        lines: list[str] = []
        for line in [*path.read_text(encoding="utf-8").split("\n"), "=== END"]:
            if line.startswith("=== "):
                if header is not None:
                    examples.append(_example(header, "\n".join(lines).strip()))
                header = [part.strip() for part in line[4:].split("|")]
                lines = []
            else:
                lines.append(line)
    if not examples:
        # The set once went missing unnoticed (an ignore rule kept it out of git) and
        # every figure read 0 %: an empty set is an error, not a result.
        raise FileNotFoundError(f"no labelled messages in {directory}")
    return examples


def _entities(field: str) -> tuple[tuple[str, str], ...]:
    if field == "-":
        return ()
    pairs = []
    for part in field.split(";"):
        kind, _, value = part.strip().partition(":")
        pairs.append((kind.strip(), value.strip()))
    return tuple(pairs)


def _example(header: list[str], text: str) -> Example:
    ident, received, zone_name, region, channel, language, category, deadline = header[:8]
    # Optional: priority and entities (labelled for part of the set).
    priority = header[8] if len(header) > 8 else "-"
    entities = header[9] if len(header) > 9 else None
    zone = ZoneInfo(zone_name)
    return Example(
        id=ident,
        received_at=_local(received, zone),
        time_zone=zone_name,
        region=region,
        channel=channel,
        language=language,
        category=category,
        deadline=None if deadline == "-" else _local(deadline, zone),
        text=text,
        priority=None if priority == "-" else int(priority),
        entities=None if entities is None else _entities(entities),
    )
