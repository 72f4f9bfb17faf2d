"""Triage of tasks: the guesses written onto a new task, corrections by assistants,
and per-agency retraining of the category classifier from those corrections.

``triage_task`` runs as a background job right after a task is created (see
``delegate.tasks.services.create_task``); it acts as the system.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.agencies.models import Agency, Member, Skill
from delegate.clients.models import Address, Client
from delegate.tasks import services as task_services
from delegate.tasks.models import Category, Task
from delegate.triage.classifier import Classifier, cached, seed_classifier, train
from delegate.triage.engine import Analysis, Message, analyse_many
from delegate.triage.models import TriageCorrection, TriageModel, TriageResult
from delegate.triage.seed import seed_examples
from delegate.triage.text import prepare
from delegate.triage.workdays import WorkCalendar

logger = logging.getLogger(__name__)

GERMAN_STATES = {
    "baden-württemberg": "BW", "bayern": "BY", "bavaria": "BY", "berlin": "BE",
    "brandenburg": "BB", "bremen": "HB", "hamburg": "HH", "hessen": "HE", "hesse": "HE",
    "mecklenburg-vorpommern": "MV", "niedersachsen": "NI", "lower saxony": "NI",
    "nordrhein-westfalen": "NW", "nrw": "NW", "north rhine-westphalia": "NW",
    "rheinland-pfalz": "RP", "saarland": "SL", "sachsen": "SN", "saxony": "SN",
    "sachsen-anhalt": "ST", "schleswig-holstein": "SH", "thüringen": "TH",
    "thuringia": "TH",
}  # fmt: skip
STATE_CODES = frozenset(GERMAN_STATES.values())


def holiday_region(client: Client) -> str:
    """The client's holiday region ("DE-BY"), from their office, billing or postal
    address (the first that names a country); the agency's country otherwise."""
    addresses = {a.kind: a for a in Address.objects.filter(client=client)}
    for kind in (Address.Kind.OFFICE, Address.Kind.BILLING, Address.Kind.POSTAL):
        address = addresses.get(kind)
        if address is None or not address.country:
            continue
        country = address.country.upper()
        region = address.region.strip().lower().removeprefix("de-")
        if country == "DE":
            code = GERMAN_STATES.get(region) or (
                region.upper() if region.upper() in STATE_CODES else ""
            )
            return f"DE-{code}" if code else "DE"
        return country
    return client.agency.country.upper() if client.agency_id else "DE"


def work_calendar(client: Client) -> WorkCalendar:
    """The client's working days and hours (the agency's where the client has none) and
    the public holidays of the client's region: what "asap" and working days count in."""
    agency = client.agency
    return WorkCalendar.of(
        holiday_region(client),
        days=client.work_days or agency.work_days,
        starts_at=client.work_starts_at or agency.work_starts_at,
        ends_at=client.work_ends_at or agency.work_ends_at,
    )


def threshold() -> float:
    return settings.TRIAGE_CHECK_BELOW_PERCENT / 100


def task_text(task: Task) -> str:
    return f"{task.title}\n{task.description}".strip()


# --- models per agency ---------------------------------------------------------------------


def classifier_for(agency_id: Any) -> tuple[Classifier, str]:
    """The agency's active classifier (loaded once per process) or the seed model, and
    a label naming it."""
    active = (
        TriageModel.objects.filter(agency_id=agency_id, is_active=True)
        .values_list("pk", flat=True)
        .first()
    )
    if active is None:
        return seed_classifier(), "seed"

    def load() -> Classifier:
        blob = TriageModel.objects.values_list("blob", flat=True).get(pk=active)
        return Classifier.loads(bytes(blob))

    return cached(("agency-model", active), load), str(active)


# --- triage of a new task ------------------------------------------------------------------


def triage_task(task_id: Any) -> TriageResult | None:
    """Guess language, category and skills, deadline and priority of a new task, store
    the full result, write the guesses onto the task where no person set the field at
    creation, and move the task from ``new`` to ``triaged`` as the system.

    Safe to run twice and concurrently: a task that is no longer ``new`` (or already has
    a result) is left alone and None is returned."""
    return triage_tasks([task_id]).get(str(task_id))


def triage_tasks(task_ids: Sequence[Any]) -> dict[str, TriageResult | None]:
    """``triage_task`` for many tasks: the classifier of each agency sees its tasks in
    one batch, each client's calendar is read once, and each task is stored in its own
    savepoint, so one that fails leaves the others triaged. Returns the result per task
    id (None: skipped, as ``triage_task``)."""
    tasks = list(
        Task.objects.select_related("client__agency", "requester__client").filter(
            pk__in=list(task_ids), status=Task.Status.NEW
        )
    )
    results: dict[str, TriageResult | None] = {str(task_id): None for task_id in task_ids}
    calendars: dict[Any, WorkCalendar] = {}
    by_agency: dict[Any, list[Task]] = {}
    for task in tasks:
        by_agency.setdefault(task.agency_id, []).append(task)
        if task.client_id not in calendars:
            calendars[task.client_id] = work_calendar(task.client)
    # Classify first, outside the transaction: it is CPU work (and a model load), and
    # on SQLite a transaction holds the database's only write lock.
    analysed: list[tuple[Task, Any, str, Any]] = []
    for agency_id, group in by_agency.items():
        classifier, label = classifier_for(agency_id)
        messages = [
            Message(
                task_text(task),
                task.created_at,
                task.client.time_zone,
                calendars[task.client_id].region,
                task.client.service_level,
                calendars[task.client_id],
            )
            for task in group
        ]
        analyses = analyse_many(messages, classifier=classifier, threshold=threshold())
        categories = active_categories(agency_id)
        analysed.extend(
            (task, analysis, label, categories)
            for task, analysis in zip(group, analyses, strict=True)
        )
    failed: list[str] = []
    # The tasks triaged here are routed together afterwards, not one job each; all are
    # written in one transaction, each task in its own savepoint.
    with task_services.routing_batched(), transaction.atomic():
        for task, analysis, label, categories in analysed:
            try:
                results[str(task.pk)] = _store_triage(task, analysis, label, categories)
            except Exception:
                # One task's failure must not cost the others: they are stored, and the
                # job fails afterwards naming the task, which stays new.
                if len(tasks) == 1:
                    raise
                logger.exception("triage of task %s failed", task.pk)
                failed.append(str(task.pk))
    if failed:
        raise TriageFailed(f"triage failed for task(s) {', '.join(failed)}")
    return results


class TriageFailed(RuntimeError):
    """Some tasks of a batch could not be triaged (the others were)."""


def _store_triage(
    task: Task, analysis: Analysis, label: str, categories: dict[str, Category]
) -> TriageResult | None:
    try:
        with transaction.atomic():
            locked = (
                Task.objects.select_for_update(of=("self",))
                .select_related("client", "requester")
                .get(pk=task.pk)
            )
            if (
                locked.status != Task.Status.NEW
                or TriageResult.objects.filter(task=locked).exists()
            ):
                return None
            result = _store(locked, analysis, label, categories)
            task_services.change_status(None, locked, to=Task.Status.TRIAGED)
    except IntegrityError:
        # A second run of the job got here at the same time and lost the race.
        logger.info("triage of task %s already stored", task.pk)
        return None
    return result


def active_categories(agency_id: Any) -> dict[str, Category]:
    """The agency's active categories by slug, with their skills (read once per batch)."""
    return {
        c.slug: c
        for c in Category.objects.filter(agency_id=agency_id, is_active=True).prefetch_related(
            "skills"
        )
    }


def _active_category(analysis: Analysis, categories: dict[str, Category]) -> Category | None:
    """The best-ranked of triage's guesses that is an active category of the agency."""
    ranked = [analysis.category, *(slug for slug, _p in analysis.category_ranked)]
    return next((categories[slug] for slug in ranked if slug in categories), None)


def _store(
    task: Task, analysis: Analysis, label: str, categories: dict[str, Category]
) -> TriageResult:
    category = _active_category(analysis, categories)
    skills = list(category.skills.all()) if category else []
    reasons = list(analysis.reasons)
    if category is None or category.slug != analysis.category:
        reasons.append("category not in the agency's list")
    changes: dict[str, Any] = {}
    if task.category_id is None and category is not None:
        changes["category"] = category
    # The skills follow the category the task ends up in: a person's choice wins.
    needed = skills if task.category is None else list(task.category.skills.all())
    if needed and not task.required_skills.exists():
        changes["required_skills"] = needed
    if task.due_at is None and analysis.due_at is not None:
        changes["due_at"] = analysis.due_at
    # A priority other than the default was chosen by a person.
    if task.priority == Task.Priority.NORMAL and analysis.priority != task.priority:
        changes["priority"] = analysis.priority
    # The language a task starts with is the requester's (or client's) unless a person
    # chose another; only the former is replaced by the language the text is written in.
    default_language = task.requester.effective_language if task.requester else task.client.language
    if (
        analysis.language
        and analysis.language_confidence >= threshold()
        and task.language in ("", default_language)
        and analysis.language != task.language
    ):
        changes["language"] = analysis.language[:5]
    result = TriageResult.objects.create(
        agency_id=task.agency_id,
        task=task,
        language=analysis.language,
        category=category,
        category_slug=analysis.category,
        category_ranked=[list(pair) for pair in analysis.category_ranked],
        skill_slugs=[skill.slug for skill in skills],
        due_at=analysis.due_at,
        deadline_text=analysis.deadline_text[:200],
        priority=analysis.priority,
        entities=analysis.entities,
        confidence=analysis.confidences(),
        reasons=reasons,
        needs_check=bool(reasons),
        applied=sorted(changes),
        model_label=label,
        received_at=task.created_at,
    )
    if changes:
        task_services.update_task(None, task, **changes)
    return result


# --- corrections ---------------------------------------------------------------------------

UNSET: Any = object()


def _guess(result: TriageResult | None, field: str) -> Any:
    if result is None:
        return None
    if field == TriageCorrection.Field.CATEGORY:
        return result.category_slug or None
    if field == TriageCorrection.Field.SKILLS:
        return result.skill_slugs
    if field == TriageCorrection.Field.DUE_AT:
        return result.due_at.isoformat() if result.due_at else None
    return result.priority


def _minute(value: dt.datetime | None) -> dt.datetime | None:
    # Forms show minutes: a due date with seconds is not corrected by re-saving it.
    return value.replace(second=0, microsecond=0) if value else None


def correct_triage(
    member: Member,
    task: Task,
    *,
    category: Category | None = UNSET,
    required_skills: Iterable[Skill] = UNSET,
    due_at: dt.datetime | None = UNSET,
    priority: int = UNSET,
) -> list[TriageCorrection]:
    """Correct what triage guessed (only the fields passed). Each changed field is
    stored with the original guess and the text it was made from, and changed on the
    task (one ``updated`` event). With nothing changed, the guesses are confirmed. The
    caller fetched ``task`` through ``access_task(member, …, write=True)``; any member
    who sees the task may correct it."""
    member.require_same_agency(task, None if category in (None, UNSET) else category)
    if not member.is_active:
        raise PermissionDenied("Inactive members cannot correct triage")
    if priority is not UNSET and priority not in Task.Priority.values:
        raise ValidationError({"priority": _("Unknown priority.")})
    result = TriageResult.objects.filter(task=task).first()
    changes: dict[str, Any] = {}
    corrections: list[TriageCorrection] = []
    text = task_text(task)
    skills_now = sorted(s.slug for s in task.required_skills.all())

    def record(field: str, corrected: Any) -> None:
        corrections.append(
            TriageCorrection(
                agency_id=task.agency_id,
                task=task,
                member=member,
                field=field,
                guessed=_guess(result, field),
                corrected=corrected,
                text=text,
            )
        )

    if category is not UNSET and category != task.category:
        changes["category"] = category
        record(TriageCorrection.Field.CATEGORY, category.slug if category else None)
        # Skills that came with the old category follow the new one (routing needs
        # them right); skills a person picked stay.
        old_skills = sorted(s.slug for s in task.category.skills.all()) if task.category else []
        if required_skills is UNSET and skills_now == old_skills:
            changes["required_skills"] = list(category.skills.all()) if category else []
    if required_skills is not UNSET:
        skills = list(required_skills)
        if sorted(s.slug for s in skills) != skills_now:
            changes["required_skills"] = skills
            record(TriageCorrection.Field.SKILLS, sorted(s.slug for s in skills))
    if due_at is not UNSET and _minute(due_at) != _minute(task.due_at):
        changes["due_at"] = due_at
        record(TriageCorrection.Field.DUE_AT, due_at.isoformat() if due_at else None)
    if priority is not UNSET and priority != task.priority:
        changes["priority"] = priority
        record(TriageCorrection.Field.PRIORITY, priority)
    with transaction.atomic():
        if changes:
            task_services.update_task(member, task, **changes)
        TriageCorrection.objects.bulk_create(corrections)
        if result is not None:
            result.checked_by = member
            result.checked_at = timezone.now()
            result.save(update_fields=["checked_by", "checked_at"])
    return corrections


# --- retraining ----------------------------------------------------------------------------

MIN_CORRECTIONS = 5
# Each correction counts this many times next to the seed examples: the agency's own
# words should outweigh generic phrases.
CORRECTION_WEIGHT = 3


@dataclass(frozen=True)
class Retraining:
    agency: str
    status: str  # "skipped", "kept" (candidate not better), "replaced"
    corrections: int = 0
    holdout: int = 0
    candidate_accuracy: float = 0.0
    current_accuracy: float = 0.0
    model_id: str = ""


def _split(examples: Sequence[tuple[str, str, str]]) -> tuple[list[Any], list[Any]]:
    """A stable split by text: the corrections are grouped by their (normalised) text,
    the groups ordered by a hash of it, and every fourth group is held out for the
    comparison and never trained on, by any model. The same request sent twice is thus
    never on both sides (which would flatter the candidate), and the same corrections
    always give the same split."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for text, slug, _task_id in examples:
        normalised = " ".join(text.lower().split())
        digest = hashlib.sha256(normalised.encode()).hexdigest()
        groups.setdefault(digest, []).append((text, slug))
    training: list[Any] = []
    holdout: list[Any] = []
    for index, digest in enumerate(sorted(groups)):
        (holdout if index % 4 == 0 else training).extend(groups[digest])
    return training, holdout


def retrain_agency(
    agency: Agency,
    *,
    base: Sequence[tuple[str, str]] | None = None,
    min_corrections: int = MIN_CORRECTIONS,
) -> Retraining:
    """Train a candidate classifier on the seed set (or ``base``) plus the agency's
    category corrections and activate it only if it classifies the held-out
    corrections strictly better than the model in use."""
    latest: dict[str, tuple[str, str, str]] = {}
    for correction in TriageCorrection.objects.filter(
        agency=agency, field=TriageCorrection.Field.CATEGORY
    ).order_by("created_at", "id"):
        if correction.corrected:
            # The latest correction of a task wins.
            # Only the client's own words, as triage classifies them (``text.prepare``):
            # a quoted mail or a signature would teach the model words it never sees.
            latest[str(correction.task_id)] = (
                prepare(correction.text).body,
                str(correction.corrected),
                str(correction.task_id),
            )
    examples = list(latest.values())
    if len(examples) < min_corrections:
        return Retraining(agency.slug, "skipped", corrections=len(examples))
    training, holdout = _split(examples)
    base_examples = list(base) if base is not None else seed_examples()
    candidate = train(base_examples + training * CORRECTION_WEIGHT)
    current, _label = classifier_for(agency.pk)
    candidate_accuracy = candidate.accuracy(holdout)
    current_accuracy = current.accuracy(holdout)
    outcome = Retraining(
        agency.slug,
        "kept",
        corrections=len(examples),
        holdout=len(holdout),
        candidate_accuracy=round(candidate_accuracy, 4),
        current_accuracy=round(current_accuracy, 4),
    )
    if candidate_accuracy <= current_accuracy:
        return outcome
    with transaction.atomic():
        TriageModel.objects.filter(agency=agency, is_active=True).update(is_active=False)
        model = TriageModel.objects.create(
            agency=agency,
            is_active=True,
            examples=len(base_examples) + len(training) * CORRECTION_WEIGHT,
            corrections=len(training),
            holdout=len(holdout),
            accuracy=candidate_accuracy,
            previous_accuracy=current_accuracy,
            classes=candidate.classes,
            blob=candidate.dumps(),
        )
    return Retraining(**{**outcome.__dict__, "status": "replaced", "model_id": str(model.pk)})


def retrain_all(*, base: Sequence[tuple[str, str]] | None = None) -> list[Retraining]:
    """Retrain every agency with corrections newer than its active model."""
    outcomes = []
    for agency in Agency.objects.all():
        corrections = TriageCorrection.objects.filter(
            agency=agency, field=TriageCorrection.Field.CATEGORY
        )
        active = TriageModel.objects.filter(agency=agency, is_active=True).first()
        if active is not None:
            corrections = corrections.filter(created_at__gt=active.created_at)
        if not corrections.exists():
            continue
        outcomes.append(retrain_agency(agency, base=base))
    return outcomes
