"""Read-side helpers for the staff pages: the queue, the dispatcher board, team load and
the activity feed.

Everything here starts from the visibility querysets in ``delegate.access`` and filters in
the database on indexed columns (``agency``/``assignee`` + ``status`` + ``due_at``), so a
page costs a handful of bounded queries however many tasks the agency has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import BooleanField, Case, Count, F, OrderBy, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _

from delegate.access import tasks_visible_to
from delegate.agencies.models import Absence, AssistantProfile, Member
from delegate.clients.models import Client
from delegate.tasks.models import Task, TaskEvent

PAGE_SIZE = 25
# Offset pagination without a COUNT: deep pages cost their offset, so they are capped
# (the first 500 tasks); past the cap the filters are the better tool.
MAX_PAGE = 20
SOON = dt.timedelta(hours=48)
BOARD_ROWS = 20

UNASSIGNED_STATUSES = (Task.Status.NEW, Task.Status.TRIAGED)


def _due_first() -> OrderBy:
    return F("due_at").asc(nulls_last=True)


# Every ordering ends with the primary key so pages never overlap or skip rows.
SORTS: dict[str, tuple[Any, ...]] = {
    "due": (_due_first(), "-priority", "id"),
    # Undated tasks count as due last, so "latest first" starts with them (this is also
    # the order a backward scan of the due-date indexes gives).
    "-due": (F("due_at").desc(nulls_first=True), "-priority", "id"),
    "priority": ("-priority", _due_first(), "id"),
    "-priority": ("priority", _due_first(), "id"),
    "created": ("-created_at", "id"),
    "-created": ("created_at", "id"),
}
DEFAULT_SORT = "due"


@dataclass(frozen=True)
class QueueFilters:
    scope: str = "mine"  # mine | all | unassigned
    status: str = "open"  # open | all | one Task.Status value
    client: Client | None = None
    priority: int | None = None
    due: str = ""  # "" | overdue | soon | none
    sort: str = DEFAULT_SORT
    needs_check: bool = False  # only tasks whose triage a person should still check


# Triage (a later app) flags uncertain guesses on its result row, reached through the
# reverse one-to-one "triage"; a checked result no longer needs a check.
NEEDS_CHECK = Q(triage__needs_check=True, triage__checked_at__isnull=True)


def queue_tasks(member: Member, filters: QueueFilters, *, now: dt.datetime) -> QuerySet[Task]:
    """The member's queue as a queryset, filtered and ordered in the database."""
    return _listed(_filtered(member, filters, now=now), filters.sort)


def _listed(tasks: QuerySet[Task], sort: str) -> QuerySet[Task]:
    """What a list of tasks shows, in the order ``sort`` names."""
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    flagged = Case(When(NEEDS_CHECK, then=Value(True)), default=Value(False),
                   output_field=BooleanField())  # fmt: skip
    return (
        tasks.select_related("client", "assignee__user")
        .only(*_LIST_FIELDS)
        .annotate(needs_check=flagged)
        .order_by(*order)
    )


def _filtered(member: Member, filters: QueueFilters, *, now: dt.datetime) -> QuerySet[Task]:
    tasks = tasks_visible_to(member)
    if filters.scope == "mine":
        tasks = tasks.filter(assignee=member)
    elif filters.scope == "unassigned":
        tasks = tasks.filter(assignee__isnull=True)
    if filters.status == "open":
        tasks = tasks.filter(status__in=Task.OPEN_STATUSES)
    elif filters.status != "all":
        tasks = tasks.filter(status=filters.status)
    if filters.client is not None:
        tasks = tasks.filter(client=filters.client)
    if filters.priority is not None:
        tasks = tasks.filter(priority=filters.priority)
    if filters.due == "overdue":
        tasks = tasks.filter(due_at__lt=now)
    elif filters.due == "soon":
        tasks = tasks.filter(due_at__gte=now, due_at__lt=now + SOON)
    elif filters.due == "none":
        tasks = tasks.filter(due_at__isnull=True)
    if filters.needs_check:
        tasks = tasks.filter(NEEDS_CHECK)
    return tasks


# What a task row shows; loading only these keeps wide description columns out of lists.
_LIST_FIELDS = (
    "id",
    "code",
    "title",
    "status",
    "priority",
    "due_at",
    "created_at",
    "agency",
    "client__id",
    "client__name",
    "assignee__id",
    "assignee__user__id",
    "assignee__user__name",
    "assignee__user__email",
)


@dataclass(frozen=True)
class Page:
    rows: list[Task]
    number: int
    has_previous: bool
    has_next: bool
    is_truncated: bool = False  # more rows exist past the last page offered

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1


def queue_page(
    member: Member,
    filters: QueueFilters,
    *,
    now: dt.datetime,
    number: int,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the queue: a LIMIT query (one row more tells if there is a next page)
    and no COUNT over the agency."""
    number = max(1, min(number, MAX_PAGE))
    start, stop = (number - 1) * size, number * size + 1
    tasks = _filtered(member, filters, now=now)
    rows = with_labels(_rows(tasks, filters.sort, _phases(filters), start, stop))
    more = len(rows) > size
    return Page(
        rows=rows[:size],
        number=number,
        has_previous=number > 1,
        has_next=more and number < MAX_PAGE,
        is_truncated=more and number >= MAX_PAGE,
    )


def with_labels(rows: list[Task]) -> list[Task]:
    """Set ``status_label`` and ``priority_label`` on each row: translated once per list
    rather than through ``get_FOO_display`` per row, which re-translates every choice."""
    statuses = {value: str(label) for value, label in Task.Status.choices}
    priorities = {value: str(label) for value, label in Task.Priority.choices}
    for row in rows:
        row.status_label = statuses.get(row.status, row.status)  # type: ignore[attr-defined]
        row.priority_label = priorities.get(row.priority, "")  # type: ignore[attr-defined]
    return rows


# Ordering a filter like "status IN (five open statuses)" by due date makes the database
# read and sort every matching row: no index delivers that order across several statuses.
# A single status is an index range already in due-date order, though (the agency's and
# the assignee's status+due indexes), so the page is taken from the top rows of each
# status. The rows are split further into phases that sort wholly before one another
# (dated before undated tasks, urgent before high priority, ...): the later phases are
# only read when the earlier ones do not fill the page.
MAX_CANDIDATES = MAX_PAGE * PAGE_SIZE + 1


def _phases(filters: QueueFilters) -> list[list[Q]]:
    if filters.status == "open":
        statuses: list[str] = list(Task.OPEN_STATUSES)
    elif filters.status == "all":
        statuses = list(Task.Status.values)
    else:
        statuses = [filters.status]
    by_status = [Q(status=status) for status in statuses]

    def split(parts: list[Q], extra: list[Q]) -> list[list[Q]]:
        return [[part & more for part in parts] for more in extra]

    dated, undated = Q(due_at__isnull=False), Q(due_at__isnull=True)
    # Undated rows are ordered by priority (then id), so that part is split by priority
    # too: each piece is then small enough to sort.
    by_priority = [Q(priority=value) for value in sorted(Task.Priority.values, reverse=True)]
    if filters.priority is not None:
        by_priority = [Q()]
    if filters.sort in ("due", "-due"):
        if filters.due in ("overdue", "soon"):
            return [by_status]
        undated_phases = split(by_status, [undated & more for more in by_priority])
        if filters.due == "none":
            return undated_phases
        dated_phases = split(by_status, [dated])
        if filters.sort == "due":
            return dated_phases + undated_phases
        return undated_phases + dated_phases
    if filters.sort in ("priority", "-priority"):
        if filters.sort == "-priority":
            by_priority.reverse()
        whens = [dated, undated] if filters.due in ("", "none") else [dated]
        if filters.due == "none":
            whens = [undated]
        return split(by_status, [more & when for more in by_priority for when in whens])
    return [[Q()]]


def _rows(
    tasks: QuerySet[Task], sort: str, phases: list[list[Q]], start: int, stop: int
) -> list[Task]:
    """Rows ``start:stop`` of the filtered ``tasks`` in ``sort`` order. Every row of a
    phase sorts before every row of the next one."""
    if (len(phases) == 1 and len(phases[0]) == 1) or stop > MAX_CANDIDATES:
        return list(_listed(tasks, sort)[start:stop])
    ordered = tasks.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
    candidates: list[Any] = []
    for parts in phases:
        candidates += _heads(ordered, parts, stop)
        if len(candidates) >= stop:
            break
    # The candidates passed every filter already; filtering on the ids alone keeps the
    # planner (SQLite's above all) on the primary key instead of a status range scan.
    return list(_listed(Task.objects.filter(pk__in=candidates), sort)[start:stop])


def _heads(tasks: QuerySet[Task], parts: list[Q], stop: int) -> list[Any]:
    """The first ``stop`` ids of every part, in one query."""
    heads = [tasks.filter(part).values_list("pk", flat=True)[:stop] for part in parts]
    if len(heads) == 1:
        return list(heads[0])
    if connection.features.supports_slicing_ordering_in_compound:
        return list(heads[0].union(*heads[1:], all=True))
    # SQLite cannot slice the parts of a UNION, but it can slice IN-subqueries.
    either = Q()
    for head in heads:
        either |= Q(pk__in=head)
    return list(Task.objects.filter(either).values_list("pk", flat=True))


# --- dispatcher board ------------------------------------------------------------------


# Section counts stop here: "1000+" says enough and keeps the count bounded.
COUNT_CAP = 1000


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: list[Task]
    total: int
    more_query: str  # query string for the full list on the desk

    @property
    def is_capped(self) -> bool:
        return self.total >= COUNT_CAP


def board_sections(member: Member, *, now: dt.datetime) -> list[Section]:
    """Unassigned, overdue and due-soon tasks: the first rows of each (by due date) and a
    bounded count."""
    visible = tasks_visible_to(member)
    open_now = [Q(status=status) for status in Task.OPEN_STATUSES]
    unassigned = [Q(status=status) for status in UNASSIGNED_STATUSES]
    specs = [
        (
            "unassigned",
            _("Unassigned"),
            visible.filter(status__in=UNASSIGNED_STATUSES),
            [
                [part & Q(due_at__isnull=False) for part in unassigned],
                [part & Q(due_at__isnull=True) for part in unassigned],
            ],
            "scope=unassigned",
        ),
        (
            "overdue",
            _("Overdue"),
            visible.filter(status__in=Task.OPEN_STATUSES, due_at__lt=now),
            [open_now],
            "scope=all&due=overdue",
        ),
        (
            "soon",
            _("Due in the next 48 hours"),
            visible.filter(status__in=Task.OPEN_STATUSES, due_at__gte=now, due_at__lt=now + SOON),
            [open_now],
            "scope=all&due=soon",
        ),
        (
            "needs_check",
            _("Triage needs a check"),
            visible.filter(NEEDS_CHECK, status__in=Task.OPEN_STATUSES),
            [open_now],
            "scope=all&check=needed",
        ),
    ]
    sections = []
    for key, title, tasks, phases, query in specs:
        rows = with_labels(_rows(tasks, DEFAULT_SORT, phases, 0, BOARD_ROWS))
        total = len(rows) if len(rows) < BOARD_ROWS else tasks.order_by()[:COUNT_CAP].count()
        sections.append(Section(key, title, rows, total, query))
    return sections


@dataclass(frozen=True)
class Load:
    member: Member
    open_tasks: int
    max_open_tasks: int | None
    open_hours: Decimal
    capacity_hours: Decimal | None
    absence: Absence | None

    @property
    def tasks_percent(self) -> int:
        return _percent(Decimal(self.open_tasks), self.max_open_tasks)

    @property
    def hours_percent(self) -> int:
        return _percent(self.open_hours, self.capacity_hours)

    @property
    def is_over(self) -> bool:
        over_tasks = self.max_open_tasks is not None and self.open_tasks > self.max_open_tasks
        over_hours = self.capacity_hours is not None and self.open_hours > self.capacity_hours
        return over_tasks or over_hours


def _percent(value: Decimal, limit: int | Decimal | None) -> int:
    if not limit:
        return 100 if value else 0
    return min(100, int(value * 100 / Decimal(limit)))


def team_load(member: Member, *, today: dt.date) -> list[Load]:
    """Per working member: open tasks and estimated open hours against their capacity,
    and today's absence with the stand-in. Three queries for the whole team: members,
    one aggregate over the open tasks, today's absences."""
    members = list(
        Member.objects.filter(agency_id=member.agency_id, is_active=True)
        .select_related("user", "profile")
        .order_by("user__name", "user__email")
    )
    # By assignee (the assignee+status index), not by agency: an agency's open tasks
    # outnumber any one team's by far.
    totals = {
        row["assignee"]: (row["open_count"], row["open_minutes"] or 0)
        for row in Task.objects.filter(
            agency_id=member.agency_id,
            assignee__in=[other.pk for other in members],
            status__in=Task.OPEN_STATUSES,
        )
        .values("assignee")
        .annotate(open_count=Count("id"), open_minutes=Sum("estimate_minutes"))
        .order_by()
    }
    absences = {
        absence.member_id: absence
        for absence in Absence.objects.filter(
            agency_id=member.agency_id, starts_on__lte=today, ends_on__gte=today
        ).select_related("stand_in__user")
    }
    rows = []
    for other in members:
        profile: AssistantProfile | None = getattr(other, "profile", None)
        count, minutes = totals.get(other.pk, (0, 0))
        if profile is None and not count and other.role != Member.Role.ASSISTANT:
            continue  # managers who do no task work stay off the board
        rows.append(
            Load(
                member=other,
                open_tasks=count,
                max_open_tasks=profile.max_open_tasks if profile else None,
                open_hours=(Decimal(minutes) / 60).quantize(Decimal("0.1")),
                capacity_hours=profile.capacity_hours_per_week if profile else None,
                absence=absences.get(other.pk),
            )
        )
    return rows


# --- activity feed ---------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    at: dt.datetime
    text: str
    kind: str


def _status_label(value: Any) -> str:
    try:
        return str(Task.Status(value).label)
    except ValueError:
        return str(value)


def _field_label(name: str) -> str:
    try:
        field = Task._meta.get_field(name)
    except FieldDoesNotExist:  # an event written by an older version may name a removed field
        return name
    return str(getattr(field, "verbose_name", name))


def describe_event(event: TaskEvent) -> str:
    """One human-readable line for an event of the task's trail."""
    data = event.data or {}
    actor = event.actor_name
    kind = event.kind
    if kind == TaskEvent.Kind.CREATED:
        channel = data.get("channel", "")
        label = Task.Channel(channel).label if channel in Task.Channel.values else channel
        return _("%(actor)s created the task (via %(channel)s).") % {
            "actor": actor,
            "channel": label,
        }
    if kind == TaskEvent.Kind.STATUS_CHANGED:
        line = _("%(actor)s changed the status from %(old)s to %(new)s.") % {
            "actor": actor,
            "old": _status_label(data.get("from")),
            "new": _status_label(data.get("to")),
        }
        if data.get("note"):
            line += f" ({data['note']})"
        return line
    if kind == TaskEvent.Kind.ASSIGNED:
        if data.get("to"):
            line = _("%(actor)s assigned the task to %(name)s.") % {
                "actor": actor,
                "name": data.get("to_name") or "?",
            }
        else:
            line = _("%(actor)s removed the assignee.") % {"actor": actor}
        return line + _why(data)
    if kind == TaskEvent.Kind.UPDATED:
        fields = ", ".join(_field_label(name) for name in sorted(data))
        return _("%(actor)s changed %(fields)s.") % {"actor": actor, "fields": fields}
    if kind == TaskEvent.Kind.MESSAGE:
        if data.get("direction") == "inbound":
            return _("%(actor)s wrote a message.") % {"actor": actor}
        return _("%(actor)s replied to the client.") % {"actor": actor}
    if kind == TaskEvent.Kind.NOTE:
        if "routing" in data or "routing_alert" in data:
            from delegate.routing.reasons import describe_note

            return describe_note(data)
        return _("%(actor)s added an internal note.") % {"actor": actor}
    if kind == TaskEvent.Kind.ATTACHMENT:
        return _("%(actor)s attached %(filename)s.") % {
            "actor": actor,
            "filename": data.get("filename", ""),
        }
    return f"{actor}: {event.get_kind_display()}"


def _why(data: dict[str, Any]) -> str:
    """Routing's reasons, or the reason a person gave, after an assignment line."""
    if isinstance(data.get("routing"), dict):
        from delegate.routing.reasons import explain

        return " " + explain(data["routing"])
    reason = data.get("reason")
    if reason and reason not in ("routing", "absence", "rebalance"):
        return " " + _("Reason: %(reason)s") % {"reason": reason}
    return ""


def routing_reason(task: Task) -> str:
    """Why the current assignee has the task, if routing chose them."""
    if task.assignee_id is None:
        return ""
    last = (
        TaskEvent.objects.filter(agency_id=task.agency_id, task=task, kind=TaskEvent.Kind.ASSIGNED)
        .order_by("-created_at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    if not isinstance(last, dict) or last.get("to") != str(task.assignee_id):
        return ""
    return _why(last).strip()


def activity(task: Task, *, limit: int = 200) -> list[Activity]:
    """The task's trail as lines, oldest first (the latest ``limit`` events)."""
    events = list(
        TaskEvent.objects.filter(agency_id=task.agency_id, task=task)
        .select_related("actor_member__user", "actor_contact")
        .order_by("-created_at", "-id")[:limit]
    )
    events.reverse()
    return [Activity(event.created_at, describe_event(event), event.kind) for event in events]
