"""Deadlines from German and English text, resolved against the receipt time, the
client's time zone and the client's working days.

Hand-written rules, chosen over duckling and dateparser by measurement (see
``bench/triage/README.md``): they know which date in a message is the *deadline* ("bis
Freitag", "by Tuesday EOD") and which is only the date the task is about ("Zahnarzt am
Dienstag"), and they resolve period ends ("Ende nächster Woche", "end of month") and
"asap" against working days and public holidays. The conventions are written down in
``eval/triage/README.md``; in short: a day without a time means 17:00, "before <day>"
means the day before, "asap" is two working hours.

The parser finds *components* (a day, a time of day, a period end, an offset, "asap"),
joins neighbours into *groups* ("morgen" + "früh", "Friday" + "noon") and decides per
group whether the client means it as a deadline: a marker in front ("bis", "by",
"spätestens", "before"), a cue in the same sentence ("muss … raus", "is fine", "at the
latest"), a deadline by nature ("asap", "in 2 Tagen", "Monatsende"), or standing alone
("…, morgen früh"). A day after "am", "on", "for", "vom" is an event, not a deadline.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from delegate.triage.workdays import WorkCalendar

END_OF_BUSINESS = dt.time(17, 0)
ASAP_WORKING_HOURS = 2

# --- vocabulary ----------------------------------------------------------------------------

WEEKDAYS = {
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4,
    "samstag": 5, "sonnabend": 5, "sonntag": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
}  # fmt: skip
MONTHS = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1,
    "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mär": 3, "mar": 3,
    "april": 4, "apr": 4, "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11, "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip
NUMBERS = {
    "ein": 1, "eine": 1, "einem": 1, "einer": 1, "einen": 1, "a": 1, "an": 1, "one": 1,
    "zwei": 2, "two": 2, "couple of": 2, "paar": 2, "drei": 3, "three": 3, "vier": 4,
    "four": 4, "fünf": 5, "five": 5, "sechs": 6, "six": 6, "sieben": 7, "seven": 7,
    "acht": 8, "eight": 8, "neun": 9, "nine": 9, "zehn": 10, "ten": 10, "elf": 11,
    "zwölf": 12, "vierzehn": 14, "fourteen": 14,
}  # fmt: skip
PARTS_OF_DAY = {
    "früh": dt.time(9), "morgens": dt.time(9), "frühmorgens": dt.time(9),
    "morning": dt.time(9), "first thing": dt.time(9), "vormittag": dt.time(12),
    "vormittags": dt.time(12), "mittag": dt.time(12), "mittags": dt.time(12),
    "noon": dt.time(12), "midday": dt.time(12), "lunchtime": dt.time(12),
    "lunch": dt.time(12), "mittagspause": dt.time(12), "nachmittag": dt.time(15),
    "nachmittags": dt.time(15), "afternoon": dt.time(15), "abend": dt.time(18),
    "abends": dt.time(18), "evening": dt.time(18), "tonight": dt.time(18),
    "eod": END_OF_BUSINESS, "cob": END_OF_BUSINESS, "end of day": END_OF_BUSINESS,
    "end of the day": END_OF_BUSINESS, "close of business": END_OF_BUSINESS,
    "end of business": END_OF_BUSINESS, "feierabend": END_OF_BUSINESS,
    "dienstschluss": END_OF_BUSINESS, "geschäftsschluss": END_OF_BUSINESS,
}  # fmt: skip

_WD = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MON = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMW = "|".join(sorted(NUMBERS, key=len, reverse=True))
_POD = "|".join(sorted((re.escape(p) for p in PARTS_OF_DAY), key=len, reverse=True))
_PODCOMPOUND = "mittag|früh|morgen|abend|nachmittag|vormittag"

# --- components ----------------------------------------------------------------------------


@dataclass
class Component:
    kind: str  # day, time, period, offset, asap
    start: int
    end: int
    text: str
    data: dict[str, object] = field(default_factory=dict)


# (kind, pattern); earlier patterns win overlapping spans.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("asap", re.compile(
        r"(?<!ab )\b(?:asap|a\.s\.a\.p\.?|schnellstmöglich|umgehend|so schnell wie möglich"
        r"|as soon as possible|right away|straight away|immediately|sofort)\b")),
    ("today_eod", re.compile(r"\b(?:heute noch|noch heute)\b")),
    ("offset", re.compile(
        r"\b(?:in|within|innerhalb(?: von)?|binnen|in den nächsten|within the next|in the next)"
        rf"\s+(?P<n>\d{{1,3}}|{_NUMW})\s*"
        r"(?P<unit>minuten|minutes|mins?|stunden|std|hours?|hrs?|werktagen|werktage"
        r"|arbeitstagen|arbeitstage|business days?|working days?|tagen|tage|days?"
        r"|wochen|woche|weeks?)\b")),
    ("period", re.compile(
        r"\b(?P<p>ende (?:der |dieser )?(?:nächsten|nächster|kommenden) woche"
        r"|end of next week|ende (?:der|dieser) woche|end of (?:the|this) week|end of week"
        r"|eow|anfang (?:der )?(?:nächsten|nächster|kommenden) woche|early next week"
        r"|beginning of next week|start of next week|monatsende|ende (?:des|dieses) monats"
        r"|end of (?:the|this) month|end of month|eom|ende (?:des )?nächsten monats"
        r"|end of next month|nächsten werktag|nächster werktag|next (?:business|working) day"
        r"|diese woche|this week|nächste woche|next week)\b")),
    ("month_end", re.compile(rf"\b(?:ende|end of)\s+(?P<mon>{_MON})\b")),
    ("date", re.compile(r"\b(?P<y>20\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")),
    ("date", re.compile(
        r"(?<![\d.])(?P<d>[0-3]?\d)\.\s?(?P<m>[01]?\d)\.(?:(?P<y>(?:20)?\d\d)\b)?(?![\d])")),
    ("date", re.compile(rf"\b(?P<d>[0-3]?\d)\.?\s*(?P<mon>{_MON})\.?(?:\s+(?P<y>20\d\d))?\b")),
    ("date", re.compile(
        rf"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MON})\b(?:\s+(?P<y>20\d\d))?")),
    ("date", re.compile(
        rf"\b(?P<mon>{_MON})\.?\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b(?![:.]\d)(?:,?\s+(?P<y>20\d\d))?")),
    ("dom", re.compile(r"\bthe\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)\b")),
    ("dom", re.compile(
        rf"\b(?:am|zum|den)\s+(?P<d>[0-3]?\d)\.(?!\s*\d)(?!\s*(?:{_MON}))")),
    ("day", re.compile(r"\b(?P<w>übermorgen|day after tomorrow)\b")),
    ("day", re.compile(
        r"(?<!guten )(?<!heute )\b(?P<w>morgen|tomorrow|tmrw|tmr)(?P<poss>'s)?\b")),
    ("day", re.compile(r"\b(?P<w>heute|today|tonight|tonite)(?P<poss>'s)?\b")),
    ("weekday", re.compile(
        rf"\b(?:(?P<q>nächste[nrs]?|kommende[nrs]?|next|this|diese[nrs]?|coming)\s+)?"
        rf"(?P<wd>{_WD})(?P<part>{_PODCOMPOUND})?(?P<poss>'s)?"
        r"(?P<nw>\s+(?:nächste|kommende) woche|\s+next week)?\b")),
    ("time", re.compile(
        r"\b(?P<h>[01]?\d|2[0-3])(?:[:.](?P<m>[0-5]\d))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?!\w)")),
    ("time", re.compile(r"\b(?P<h>[01]?\d|2[0-3])[:.](?P<m>[0-5]\d)(?:\s*(?:uhr|h))?\b")),
    ("time", re.compile(r"\b(?P<h>[01]?\d|2[0-3])\s*(?:uhr|h)\b")),
    ("time", re.compile(
        r"\bhalb\s+(?P<half>\d{1,2}|eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf"
        r"|zwölf)\b")),
    ("time", re.compile(
        r"(?:(?<=\bbis )|(?<=\bvor ))(?P<h>[01]?\d|2[0-3])\b(?![.:,/]?\d)"
        r"(?!\s*(?:%|€|\$|£|euro|eur|tage|tagen|wochen|stunden|minuten|personen|leute|stück"
        r"|mal|km|kg|\.))")),
    ("time", re.compile(
        r"(?:(?<=\bby )|(?<=\bbefore )|(?<=\buntil )|(?<=\btill ))(?P<h>[01]?\d|2[0-3])\b"
        r"(?![.:,/]?\d)(?!\s*(?:%|€|\$|£|days|weeks|hours|minutes|people|pcs|km|kg|\.))")),
    ("time", re.compile(rf"\b(?P<pod>{_POD})\b")),
]  # fmt: skip

_HALF = {"eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7,
         "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12}  # fmt: skip


MAX_GROUPS = 40


def find_components(text: str) -> list[Component]:
    """Every temporal component of lower-cased ``text``, without overlaps."""
    taken = bytearray(len(text))  # 1 where an earlier pattern matched
    found: list[Component] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if start == end or 1 in taken[start:end]:
                continue
            data = {k: v for k, v in match.groupdict().items() if v is not None}
            taken[start:end] = b"\x01" * (end - start)
            found.append(Component(kind, start, end, match.group(0), data))
    found.sort(key=lambda c: c.start)
    return found


# --- groups and deadline decision ------------------------------------------------------

_JOIN = re.compile(
    r"^[\s,]*(?:(?:um|at|@|gegen|by|bis|before|vor|zum|am|on|the|den|spätestens|latest"
    r"|at the latest|noch|same|ca\.|circa|around|so gegen)\b[\s,]*){0,3}$"
)
_MARKER = re.compile(
    r"(?:\b(?:bis|by|until|till|before|vor|spätestens|latest|due|fällig|frist|deadline"
    r"|no later than|not later than|prior to|innerhalb|within|allerspätestens)\b[\s:,]*"
    r"(?:\b(?:zum|zur|am|den|the|on|spätestens|latest|end of|ende|nächste[nr]?|next|this"
    r"|diese[nr]?|kommende[nr]?|coming|also|bitte|please|pls|noch|dann|zu)\b[\s,]*)*"
    r"|\b(?:before|vor)\s+(?:\w+\s+){1,3}(?:on|am)\s+(?:the\s+)?"
    r"|\b(?:before|vor)\s+(?:my|our|the|meinem|meiner|unserem|unserer|dem|der)\s+)$"
)
_BEFORE = re.compile(r"\b(?:before|vor|prior to)\b")
_EVENT_PREP = re.compile(
    r"\b(?:am|an|on|for|für|at|um|vom|from|ab|seit|since|starting|beginning|zum|im|in der"
    r"|during|während|to|auf|nach|after|von|fürs|ab dem|bis zum nächsten)\s+(?:the\s+|den\s+"
    r"|dem\s+|der\s+)?$"
)
_CUE = re.compile(
    r"\b(?:muss|müssen|sollte|sollten|soll|brauche|brauch|brauchen|benötige|need|needs"
    r"|needed|deadline|frist|latest|spätestens|reicht|genügt|fine|wäre|ideally|ideal"
    r"|if possible|wenn möglich|falls möglich|raus|fertig|ready|erledigt|erledigen|done"
    r"|have it|sorted|da sein|vorliegen)\b"
)
_REQUEST = re.compile(
    r"\b(?:bitte|please|pls|plz|can you|could you|kannst du|könnt ihr|können sie|könntest"
    r"|würdest)\b"
)
_FILLER = re.compile(
    r"\b(?:bitte|please|pls|plz|danke|thanks|thx|also|so|dann|ok|ja|ideally|noch|at the latest"
    r"|spätestens|latest|is|ist|the|die|der)\b|[^\w]+"
)
_CLAUSE_BREAK = re.compile(r"[.!?;\n]|,|\s[–—-]\s|\)|\(|→")
_SENTENCE_BREAK = re.compile(r"[.!?;\n]|\s[–—-]\s|→")


@dataclass
class Group:
    parts: list[Component]
    start: int
    end: int
    marked: bool = False
    before: bool = False
    invalid: bool = False

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.parts)

    def kinds(self) -> set[str]:
        return {p.kind for p in self.parts}


def _group(text: str, components: list[Component]) -> list[Group]:
    groups: list[Group] = []
    for comp in components:
        if groups:
            last = groups[-1]
            gap = text[last.end : comp.start]
            compatible = comp.kind not in last.kinds() and not ({comp.kind} | last.kinds()) >= {
                "offset",
                "time",
            }
            if compatible and _JOIN.match(gap) and "\n" not in gap:
                if re.search(r"\b(?:bis|by|before|vor|spätestens|latest)\b", gap):
                    last.marked = True
                    if _BEFORE.search(gap) and comp.kind != "time":
                        last.before = True
                last.parts.append(comp)
                last.end = comp.end
                continue
        groups.append(Group([comp], comp.start, comp.end))
    return groups


def _clause(text: str, start: int, end: int, breaker: re.Pattern[str]) -> tuple[str, str]:
    before = text[max(0, start - 200) : start]
    after = text[end : end + 200]
    cuts = list(breaker.finditer(before))
    if cuts:
        before = before[cuts[-1].end() :]
    cut = breaker.search(after)
    if cut:
        after = after[: cut.start()]
    return before, after


def _decide(text: str, group: Group, *, in_list: bool = False) -> str | None:
    """How the client means this group: "marked", "inherent", "cue", "alone" (all
    deadlines) or None (an event, a range, a possessive)."""
    kinds = group.kinds()
    if any(p.data.get("poss") for p in group.parts):
        return None
    preceding = text[max(0, group.start - 60) : group.start]
    if re.search(r"(?:(?<!\d)\d{1,2}\.?(?:\d{1,2}\.)?|\d(?:st|nd|rd|th)|" + _WD
                 + r")\s*(?:–|-|—|bis|to|till|until)\s*$", preceding):  # fmt: skip
        return None  # the end of a range: "vom 14. bis 16.12."
    following = text[group.end : group.end + 12]
    if re.match(r"\s*(?:–|-|—|bis|to|till|until)\s*\d", following) and "offset" not in kinds:
        return None  # the start of a range
    marker = _MARKER.search(preceding)
    if marker:
        if _BEFORE.search(marker.group(0)):
            group.before = True
        return "marked"
    if group.marked:
        return "marked"
    if "asap" in kinds or "offset" in kinds or "today_eod" in kinds:
        return "inherent"
    if "period" in kinds or "month_end" in kinds:
        period = next(p for p in group.parts if p.kind in ("period", "month_end"))
        name = str(period.data.get("p", "end"))
        if not any(w in name for w in ("diese woche", "this week", "nächste woche", "next week")):
            return "inherent"
        if name.startswith(("ende", "end")):
            return "inherent"
    if _EVENT_PREP.search(preceding):
        return None
    if any(
        p.data.get("pod") in ("eod", "cob", "end of day", "feierabend", "first thing")
        for p in group.parts
    ):
        return "inherent"
    if kinds == {"time"} and all("pod" in p.data for p in group.parts):
        return None  # "lunch", "morning" on their own need a marker ("before lunch")
    clause_before, clause_after = _clause(text, group.start, group.end, _CLAUSE_BREAK)
    sentence_before, sentence_after = _clause(text, group.start, group.end, _SENTENCE_BREAK)
    if _CUE.search(sentence_before) or _CUE.search(sentence_after):
        return "cue"
    rest = _FILLER.sub("", clause_before + " " + clause_after)
    if not rest.strip() and not in_list:
        return "alone"
    is_today = any(p.data.get("w") in ("heute", "today", "tonight") for p in group.parts)
    if is_today and _REQUEST.search(clause_before + clause_after):
        return "cue"
    return None


# --- resolution ----------------------------------------------------------------------------


class InvalidDate(ValueError):
    pass


def _time_of(part: Component) -> dt.time:
    data = part.data
    if "pod" in data:
        return PARTS_OF_DAY[str(data["pod"])]
    if "half" in data:
        raw = str(data["half"])
        hour = int(raw) if raw.isdigit() else _HALF[raw]
        hour = (hour - 1) % 24
        if hour < 8:
            hour += 12
        return dt.time(hour, 30)
    hour = int(str(data["h"]))
    minute = int(str(data.get("m", 0)))
    ampm = str(data.get("ampm", "")).replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif not ampm and 1 <= hour < 8:
        hour += 12  # "bis 4" in an office means the afternoon
    return dt.time(hour, minute)


def _date_from(data: dict[str, object], today: dt.date) -> dt.date:
    day = int(str(data["d"]))
    month = MONTHS[str(data["mon"])] if "mon" in data else int(str(data["m"]))
    year_text = str(data.get("y", ""))
    try:
        if year_text:
            year = int(year_text) if len(year_text) == 4 else 2000 + int(year_text)
            return dt.date(year, month, day)
        candidate = dt.date(today.year, month, day)
        if candidate < today:
            candidate = dt.date(today.year + 1, month, day)
        return candidate
    except ValueError as exc:
        raise InvalidDate(str(exc)) from None


def _day_of_month(day: int, today: dt.date) -> dt.date:
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    raise InvalidDate(f"no day {day}")


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _resolve(group: Group, received: dt.datetime, calendar: WorkCalendar) -> dt.datetime:
    today = received.date()
    tz = received.tzinfo
    day: dt.date | None = None
    at_time: dt.time | None = None
    exact: dt.datetime | None = None
    for part in group.parts:
        data = part.data
        if part.kind == "asap":
            exact = calendar.add_working_hours(received, ASAP_WORKING_HOURS)
        elif part.kind == "today_eod":
            day = today
        elif part.kind == "offset":
            raw = str(data["n"])
            n = int(raw) if raw.isdigit() else NUMBERS[raw]
            unit = str(data["unit"])
            if unit.startswith(("min",)):
                exact = received + dt.timedelta(minutes=n)
            elif unit.startswith(("stunde", "std", "hour", "hr")):
                exact = received + dt.timedelta(hours=n)
            elif unit.startswith(("werktag", "arbeitstag", "business", "working")):
                day = calendar.add_working_days(today, n)
            elif unit.startswith(("woche", "week")):
                day = today + dt.timedelta(weeks=n)
            else:
                day = today + dt.timedelta(days=n)
        elif part.kind == "period":
            day = _period_day(str(data["p"]), today, calendar)
        elif part.kind == "month_end":
            month = MONTHS[str(data["mon"])]
            year = today.year + (month < today.month)
            day = calendar.last_working_day(_month_end(year, month), not_before=today)
        elif part.kind == "date":
            day = _date_from(data, today)
        elif part.kind == "dom":
            day = _day_of_month(int(str(data["d"])), today)
        elif part.kind == "day":
            word = str(data["w"])
            offset = {"übermorgen": 2, "day after tomorrow": 2, "morgen": 1, "tomorrow": 1,
                      "tmrw": 1, "tmr": 1}.get(word, 0)  # fmt: skip
            day = today + dt.timedelta(days=offset)
            if word in ("tonight", "tonite"):
                at_time = at_time or PARTS_OF_DAY["tonight"]
        elif part.kind == "weekday":
            day = _weekday(data, today)
            if "part" in data:
                compound = str(data["part"])
                at_time = at_time or PARTS_OF_DAY["früh" if compound == "morgen" else compound]
        elif part.kind == "time":
            at_time = _time_of(part)
    if exact is not None:
        return exact.replace(second=0, microsecond=0)
    if day is None:
        if at_time is None:
            raise InvalidDate("nothing to resolve")
        candidate = dt.datetime.combine(today, at_time, tzinfo=tz)
        return candidate if candidate > received else candidate + dt.timedelta(days=1)
    if group.before and at_time is None and not group.kinds() & {"period", "month_end", "offset"}:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, at_time or END_OF_BUSINESS, tzinfo=tz)


def _weekday(data: dict[str, object], today: dt.date) -> dt.date:
    target = WEEKDAYS[str(data["wd"])]
    qualifier = str(data.get("q", ""))
    if data.get("nw"):
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=1)
        return monday + dt.timedelta(days=target)
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and qualifier not in ("this", "diesen", "diese", "dieser", "dieses"):
        ahead = 7
    return today + dt.timedelta(days=ahead)


def _period_day(name: str, today: dt.date, calendar: WorkCalendar) -> dt.date:
    monday = today - dt.timedelta(days=today.weekday())
    if "next" in name or "nächst" in name or "kommend" in name:
        if "monat" in name or "month" in name:
            first = _month_end(today.year, today.month) + dt.timedelta(days=1)
            end = _month_end(first.year, first.month)
            return calendar.last_working_day(end, not_before=first)
        if "werktag" in name or "business" in name or "working" in name:
            return calendar.next_working_day(today)
        next_monday = monday + dt.timedelta(weeks=1)
        if any(w in name for w in ("anfang", "early", "beginning", "start")):
            day = next_monday
            while not calendar.is_working_day(day) and day < next_monday + dt.timedelta(days=4):
                day += dt.timedelta(days=1)
            return day
        return calendar.last_working_day(next_monday + dt.timedelta(days=4), not_before=today)
    if "monat" in name or "month" in name or name == "eom":
        end = _month_end(today.year, today.month)
        return calendar.last_working_day(end, not_before=today)
    # this week / end of the week / EOW
    return calendar.last_working_day(monday + dt.timedelta(days=4), not_before=today)


# --- the entry point -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime | None  # aware, in the client's zone
    text: str  # the words it came from
    confidence: float
    found_dates: tuple[tuple[str, str], ...] = ()  # every date/time mentioned (text, ISO)
    invalid: tuple[str, ...] = ()  # dates that do not exist ("30. Februar")


_CONFIDENCE = {"marked": 0.9, "inherent": 0.85, "alone": 0.75, "cue": 0.7}
_TIER = {"marked": 0, "inherent": 0, "alone": 1, "cue": 1}


def extract_deadline(
    text: str,
    *,
    received_at: dt.datetime,
    time_zone: str = "Europe/Berlin",
    region: str = "",
    calendar: WorkCalendar | None = None,
) -> Deadline:
    """The deadline the client sets in ``text`` (the request body, see
    ``delegate.triage.text``), resolved in ``time_zone`` with the working days of
    ``region`` (or the client's own ``calendar`` of working days and hours, which "asap"
    counts in); ``at`` is None when the text sets none."""
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    received = received_at.astimezone(zone)
    calendar = calendar or WorkCalendar(region)
    lowered = text.lower()
    # A real request names a handful of dates; a paste of hundreds is cut off here so
    # the work stays bounded (bench/triage times such inputs).
    groups = _group(lowered, find_components(lowered))[:MAX_GROUPS]
    deadlines: list[tuple[dt.datetime, str, str]] = []
    found: list[tuple[str, str]] = []
    invalid: list[str] = []
    for index, group in enumerate(groups):
        neighbours = groups[max(0, index - 1) : index] + groups[index + 1 : index + 2]
        in_list = any(
            re.fullmatch(
                r"\s*(?:,|and|und|or|oder|&)\s*",
                lowered[min(g.end, group.end) : max(g.start, group.start)],
            )
            for g in neighbours
        )
        how = _decide(lowered, group, in_list=in_list)
        try:
            moment = _resolve(group, received, calendar)
        except InvalidDate:
            if group.kinds() & {"date", "dom"}:
                invalid.append(text[group.start : group.end])
            continue
        found.append((text[group.start : group.end], moment.isoformat()))
        if how is not None:
            deadlines.append((moment, how, text[group.start : group.end]))
    if not deadlines:
        confidence = 0.3 if invalid else (0.75 if found else 0.9)
        return Deadline(None, "", confidence, tuple(found), tuple(invalid))
    # Explicit words win over inferred ones; among equals, the earliest deadline.
    moment, how, words = min(deadlines, key=lambda item: (_TIER[item[1]], item[0]))
    confidence = _CONFIDENCE[how]
    if len({d[0] for d in deadlines}) > 1:
        confidence -= 0.15
    if moment < received - dt.timedelta(hours=1):
        confidence = min(confidence, 0.4)  # a deadline in the past: surely misread
    if invalid:
        confidence = min(confidence, 0.4)
    return Deadline(moment, words, round(confidence, 2), tuple(found), tuple(invalid))
