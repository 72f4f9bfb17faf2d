"""Triage of one message, without the database: language, category, deadline,
priority, entities, a confidence for each and whether a human should check.

``analyse`` is what the service, the evaluation (``eval/triage``) and the benchmark
(``bench/triage``) all call, so they measure the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from delegate.triage.classifier import Classifier, Prediction
from delegate.triage.entities import Entity, extract_entities
from delegate.triage.language import Language, detect_language
from delegate.triage.temporal import Deadline, extract_deadline
from delegate.triage.text import PreparedText, prepare
from delegate.triage.workdays import WorkCalendar

# Below this a field is flagged for a human check (overridable: TRIAGE_CONFIDENCE_THRESHOLD).
DEFAULT_THRESHOLD = 0.6

LOW, NORMAL, HIGH, URGENT = 1, 2, 3, 4

# The deadline and urgency are stated near the top; reading further only costs time
# on huge pastes.
DEADLINE_CHARS = 2000

_URGENT_WORDS = re.compile(
    r"\b(?:dringend|eilt|eilig|notfall|sofort|asap|urgent|urgently|emergency|immediately"
    r"|right away|on fire|schnellstmöglich|umgehend)\b|!!+",
    re.IGNORECASE,
)
_RELAXED_WORDS = re.compile(
    r"\b(?:keine eile|hat zeit|no rush|whenever|when you get a chance|irgendwann"
    r"|kein stress|not urgent|nicht dringend)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Analysis:
    language: str
    language_confidence: float
    category: str  # slug
    category_confidence: float
    category_ranked: tuple[tuple[str, float], ...]
    due_at: dt.datetime | None
    deadline_text: str
    deadline_confidence: float
    priority: int
    priority_confidence: float
    entities: list[Entity] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why a human should check

    @property
    def needs_check(self) -> bool:
        return bool(self.reasons)

    def confidences(self) -> dict[str, float]:
        return {
            "language": self.language_confidence,
            "category": self.category_confidence,
            "deadline": self.deadline_confidence,
            "priority": self.priority_confidence,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "category": self.category,
            "category_ranked": [list(pair) for pair in self.category_ranked],
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "deadline_text": self.deadline_text,
            "priority": self.priority,
            "confidence": self.confidences(),
            "entities": self.entities,
            "reasons": self.reasons,
        }


def _priority(
    text: str,
    deadline: Deadline,
    *,
    received_at: dt.datetime,
    service_level: str,
    calendar: WorkCalendar,
) -> tuple[int, float]:
    """Urgency words (two steps up; "no rush" one down), how close the deadline is in
    working hours (within 4: two steps, within 8: one; beyond two weeks one down) and
    the client's service level."""
    score = NORMAL
    signals = 0
    if _URGENT_WORDS.search(text):
        score += 2
        signals += 1
    elif _RELAXED_WORDS.search(text):
        score -= 1
        signals += 1
    if deadline.at is not None:
        signals += 1
        local = received_at.astimezone(deadline.at.tzinfo)
        if deadline.at <= calendar.add_working_hours(local, 4):
            score += 2
        elif deadline.at <= calendar.add_working_hours(local, 8):
            score += 1
        elif deadline.at > local + dt.timedelta(days=14):
            score -= 1
    # VIP clients always go one step up; clients with a priority contract when anything
    # about the request is pressing.
    if service_level == "vip" or (service_level == "priority" and score > NORMAL):
        score += 1
    priority = max(LOW, min(URGENT, score))
    return priority, 0.8 if signals else 0.65


def analyse(
    text: str,
    *,
    classifier: Classifier,
    received_at: dt.datetime,
    time_zone: str = "Europe/Berlin",
    region: str = "DE",
    service_level: str = "standard",
    threshold: float = DEFAULT_THRESHOLD,
    calendar: WorkCalendar | None = None,
) -> Analysis:
    """Triage ``text`` (title and description of a task, or a raw message) received at
    ``received_at`` from a client in ``time_zone`` whose working days follow the public
    holidays of ``region``. Never raises on odd input: empty or meaningless text gives
    a low-confidence result."""
    return analyse_many(
        [Message(text, received_at, time_zone, region, service_level, calendar)],
        classifier=classifier,
        threshold=threshold,
    )[0]


@dataclass(frozen=True)
class Message:
    text: str
    received_at: dt.datetime
    time_zone: str = "Europe/Berlin"
    region: str = "DE"
    service_level: str = "standard"
    # The client's working days and hours; None: Monday to Friday, 09:00–17:00.
    calendar: WorkCalendar | None = None


_NO_WORDS = Prediction("other", 0.0, (("other", 0.0),))
_WORD = re.compile(r"[^\W\d_]{2,}")
_FILE_NAME = re.compile(
    r"[\w.-]+\.(?:pdf|docx?|xlsx?|pptx?|odt|ods|csv|txt|jpe?g|png|gif|heic|webp|zip|eml|msg)\b",
    re.IGNORECASE,
)


def analyse_many(
    messages: list[Message], *, classifier: Classifier, threshold: float = DEFAULT_THRESHOLD
) -> list[Analysis]:
    """``analyse`` for many messages at once: the classifier sees them in one batch,
    which is several times faster per message than one call each."""
    prepared = [prepare(m.text) for m in messages]
    # A file name alone ("📎 scan_0042.pdf") is no request: nothing to classify. (Only
    # short bodies can be that; the pattern would cost quadratic time on a long word.)
    has_words = [
        bool(_WORD.search(_FILE_NAME.sub(" ", p.body) if len(p.body) < 300 else p.body))
        for p in prepared
    ]
    worded = [p.body for p, ok in zip(prepared, has_words, strict=True) if ok]
    predictions = iter(classifier.predict_many(worded) if worded else [])
    return [
        _finish(m, p, next(predictions) if ok else _NO_WORDS, threshold)
        for m, p, ok in zip(messages, prepared, has_words, strict=True)
    ]


def _finish(
    message: Message, prepared: PreparedText, prediction: Prediction, threshold: float
) -> Analysis:
    received_at, time_zone, region = message.received_at, message.time_zone, message.region
    calendar = message.calendar or WorkCalendar(region)
    service_level = message.service_level
    body = prepared.body
    reasons: list[str] = [] if prediction is not _NO_WORDS else ["no text"]
    language: Language = detect_language(body)
    deadline = extract_deadline(
        body[:DEADLINE_CHARS],
        received_at=received_at,
        time_zone=time_zone,
        region=region,
        calendar=calendar,
    )
    priority, priority_confidence = _priority(
        body[:DEADLINE_CHARS],
        deadline,
        received_at=received_at,
        service_level=service_level,
        calendar=calendar,
    )
    entities = extract_entities(prepared.full, deadline=deadline, region=region)
    if prepared.truncated:
        reasons.append("text truncated")
    for name, value in (
        ("language", language.confidence),
        ("category", prediction.confidence),
        ("deadline", deadline.confidence),
        ("priority", priority_confidence),
    ):
        if value < threshold and f"low {name} confidence" not in reasons:
            reasons.append(f"low {name} confidence")
    if deadline.invalid:
        reasons.append("date that does not exist")
    return Analysis(
        language=language.code,
        language_confidence=language.confidence,
        category=prediction.slug,
        category_confidence=prediction.confidence,
        category_ranked=prediction.ranked,
        due_at=deadline.at,
        deadline_text=deadline.text,
        deadline_confidence=deadline.confidence,
        priority=priority,
        priority_confidence=priority_confidence,
        entities=entities,
        reasons=reasons,
    )
