"""bench/triage/parsers.py: temporal parser candidates on the eval set (deadline exact to
the minute, no deadline invented, time per message).

    python bench/triage/parsers.py

Compares the rules in ``delegate/triage/temporal.py`` with duckling (the package
``pyduckling-native-phihos``) and dateparser when they are importable; neither is a
dependency of Delegate, install them into a scratch environment to run this (see
README.md). Duckling and dateparser find time expressions but do not say which one is a
deadline, so they get the friendliest reading: the first expression in the client's
own words that lies after the receipt time, with 17:00 for a whole day (the convention
of the labels). The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from delegate.triage.temporal import END_OF_BUSINESS, extract_deadline  # noqa: E402
from delegate.triage.text import prepare  # noqa: E402
from eval.triage.dataset import Example, load  # noqa: E402

Parser = Callable[[str, Example], dt.datetime | None]


def rules(text: str, ex: Example) -> dt.datetime | None:
    return extract_deadline(
        text, received_at=ex.received_at, time_zone=ex.time_zone, region=ex.region
    ).at


def _first_future(values: list[tuple[dt.datetime, bool]], ex: Example) -> dt.datetime | None:
    for value, whole_day in values:
        value = value.astimezone(ex.received_at.tzinfo)
        if whole_day:
            value = value.replace(hour=END_OF_BUSINESS.hour, minute=0)
        if value > ex.received_at:
            return value.replace(second=0, microsecond=0)
    return None


def make_duckling() -> Parser | None:
    try:
        import duckling
    except ImportError:
        return None
    zones = duckling.load_time_zones("/usr/share/zoneinfo")
    dims = duckling.parse_dimensions(["time"])
    locales = {
        code: duckling.default_locale_lang(duckling.parse_lang(code)) for code in ("DE", "EN")
    }

    def parse(text: str, ex: Example) -> dt.datetime | None:
        ref = duckling.parse_ref_time(zones, ex.time_zone, int(ex.received_at.timestamp()))
        context = duckling.Context(ref, locales["DE" if ex.language == "de" else "EN"])
        values = []
        for entity in duckling.parse(text, context, dims, False):
            value = entity["value"]
            point = value.get("value") or (value.get("to") or value.get("from") or {})
            if isinstance(point, dict):
                grain, point = point.get("grain", value.get("grain")), point.get("value")
            else:
                grain = value.get("grain")
            if point:
                values.append((dt.datetime.fromisoformat(point), grain in ("day", "week", "month")))
        return _first_future(values, ex)

    return parse


def make_dateparser() -> Parser | None:
    try:
        from dateparser.search import search_dates
    except ImportError:
        return None

    def parse(text: str, ex: Example) -> dt.datetime | None:
        settings = {
            "RELATIVE_BASE": ex.received_at.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": ex.time_zone,
            "RETURN_AS_TIMEZONE_AWARE": True,
        }
        found = search_dates(text, languages=[ex.language if ex.language in ("de", "en") else "en"],
                             settings=settings) or []  # fmt: skip
        values = [(value, value.hour == 0 and value.minute == 0) for _words, value in found]
        return _first_future(values, ex)

    return parse


def measure(name: str, parser: Parser, examples: list[Example]) -> dict[str, object]:
    exact = with_deadline = invented = without = 0
    times = []
    for ex in examples:
        body = prepare(ex.text).body
        started = time.perf_counter()
        try:
            found = parser(body, ex)
        except Exception:  # a candidate that crashes counts as finding nothing
            found = None
        times.append((time.perf_counter() - started) * 1000)
        if ex.deadline is not None:
            with_deadline += 1
            exact += found == ex.deadline
        else:
            without += 1
            invented += found is not None
    times.sort()
    return {
        "parser": name,
        "deadline_exact": round(exact / with_deadline, 4),
        "no_invented_deadline": round(1 - invented / without, 4),
        "ms_median": round(statistics.median(times), 3),
        "ms_p99": round(times[int(len(times) * 0.99) - 1], 3),
    }


def main() -> None:
    examples = load()
    candidates: list[tuple[str, Parser | None]] = [
        ("rules", rules),
        ("duckling", make_duckling()),
        ("dateparser", make_dateparser()),
    ]
    results = []
    for name, parser in candidates:
        if parser is None:
            print(f"{name}: not installed, skipped")
            continue
        figures = measure(name, parser, examples)
        results.append(figures)
        print(
            f"{name}: deadline exact {figures['deadline_exact']:.1%}, no invented deadline "
            f"{figures['no_invented_deadline']:.1%}, median {figures['ms_median']} ms, "
            f"p99 {figures['ms_p99']} ms per message"
        )
    print(json.dumps({"bench": "triage-parsers", "results": results}))


if __name__ == "__main__":
    main()
