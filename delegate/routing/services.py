"""Routing against the database: build the agency's roster, let ``core.decide`` choose,
assign through ``delegate.tasks.services.assign_task`` and record why.

Every function that writes runs in one transaction with the task row locked, checks the
task's state again under the lock and is safe to run twice: a second run finds the task
assigned (or its alert recorded) and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from delegate.agencies.models import (
    Absence,
    AssistantProfile,
    AssistantSkill,
    Member,
    WorkingHours,
)
from delegate.clients.models import Client, ClientTeamMember
from delegate.routing import batch, core, simulation
from delegate.routing.models import CategoryRoute, RebalanceProposal, RoutingAlert
from delegate.tasks.models import Category, Task, TaskEvent
from delegate.tasks.services import assign_task, record_event

logger = logging.getLogger(__name__)

# Tasks routing may (re)assign on its own: not started yet.
ROUTABLE = (Task.Status.NEW, Task.Status.TRIAGED)
# How long before the deadline an unstarted or unassigned task alerts the dispatchers.
ALERT_BEFORE = dt.timedelta(hours=2)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# --- reading the agency ----------------------------------------------------------------


def minutes_of(task: Task | None = None, estimate: int | None = None) -> int:
    value = task.estimate_minutes if task is not None else estimate
    return value or core.DEFAULT_MINUTES


def load_roster(
    agency_id: Any,
    *,
    now: dt.datetime,
    exclude_tasks: Iterable[Any] = (),
    deadline: dt.datetime | None = None,
) -> tuple[core.Roster, dict[str, Member]]:
    """The agency's active assistants (members with a profile) and their open work.
    ``exclude_tasks`` leaves tasks out of the load (a rebalance moves them). With a
    ``deadline`` the open work is summed in the database per assistant, split into what
    is due by then and the rest: exact for deciding one task with that deadline, and one
    row per assistant instead of one per open task."""
    today = now.date()
    horizon_end = today + dt.timedelta(days=core.HORIZON_DAYS + 1)
    profiles = list(
        AssistantProfile.objects.filter(agency_id=agency_id, member__is_active=True).select_related(
            "member__user"
        )
    )
    # Plain rows rather than prefetched objects: a large team has thousands of them.
    skills: dict[Any, dict[str, int]] = {}
    for profile_id, slug, level in AssistantSkill.objects.filter(agency_id=agency_id).values_list(
        "profile_id", "skill__slug", "level"
    ):
        skills.setdefault(profile_id, {})[slug] = level
    hours: dict[Any, list[core.Block]] = {}
    for profile_id, weekday, starts_at, ends_at in WorkingHours.objects.filter(
        agency_id=agency_id
    ).values_list("profile_id", "weekday", "starts_at", "ends_at"):
        hours.setdefault(profile_id, []).append(core.Block(weekday, starts_at, ends_at))
    away: dict[Any, list[core.Away]] = {}
    for member_id, starts_on, ends_on, stand_in in Absence.objects.filter(
        agency_id=agency_id,
        ends_on__gte=today - dt.timedelta(days=1),
        starts_on__lte=horizon_end,
    ).values_list("member_id", "starts_on", "ends_on", "stand_in_id"):
        stand_in_id = str(stand_in) if stand_in else None
        away.setdefault(member_id, []).append(core.Away(starts_on, ends_on, stand_in_id))
    assistants = []
    members: dict[str, Member] = {}
    for profile in profiles:
        member = profile.member
        members[str(member.pk)] = member
        assistants.append(
            core.Assistant(
                id=str(member.pk),
                name=member.name or member.user.email,
                agency_id=str(agency_id),
                level=profile.level,
                time_zone=profile.time_zone,
                holiday_region=profile.holiday_region,
                languages=frozenset(profile.languages or ()),
                skills=skills.get(profile.pk, {}),
                hours=hours.get(profile.pk, []),
                absences=sorted(away.get(member.pk, []), key=lambda a: a.starts_on),
                capacity_minutes=float(profile.capacity_hours_per_week) * 60,
                max_open_tasks=profile.max_open_tasks,
            )
        )
    open_work = Task.objects.filter(
        agency_id=agency_id, status__in=Task.OPEN_STATUSES, assignee__isnull=False
    ).exclude(pk__in=list(exclude_tasks))
    if deadline is not None:
        open_tasks = _summed_work(open_work, now=now, deadline=deadline)
    else:
        open_tasks = [
            core.OpenTask(str(assignee), due.timestamp() if due else None, minutes_of(estimate=est))
            for assignee, due, est in open_work.values_list(
                "assignee_id", "due_at", "estimate_minutes"
            )
        ]
    rules = core.Rules(category_teams=category_teams(agency_id))
    return core.Roster(str(agency_id), assistants, open_tasks, now=now, rules=rules), members


def _summed_work(open_work: Any, *, now: dt.datetime, deadline: dt.datetime) -> list[core.OpenTask]:
    """Per assistant: the work due by ``deadline`` (placed at ``now``, so it counts before
    any deadline) and the rest (no deadline)."""
    minutes = Coalesce("estimate_minutes", Value(core.DEFAULT_MINUTES))
    due_by = Q(due_at__lte=deadline)
    rows = (
        open_work.order_by()
        .values("assignee_id")
        .annotate(
            count=Count("id"),
            total=Sum(minutes),
            count_due=Count("id", filter=due_by),
            minutes_due=Sum(Case(When(due_by, then=minutes), default=Value(0))),
        )
    )
    work = []
    for row in rows:
        assignee, due = str(row["assignee_id"]), row["minutes_due"] or 0
        work.append(core.OpenTask(assignee, now.timestamp(), due, row["count_due"]))
        work.append(
            core.OpenTask(
                assignee, None, (row["total"] or 0) - due, row["count"] - row["count_due"]
            )
        )
    return work


def category_teams(agency_id: Any) -> dict[str, frozenset[str]]:
    teams: dict[str, set[str]] = {}
    for slug, member_id in CategoryRoute.objects.filter(agency_id=agency_id).values_list(
        "category__slug", "member_id"
    ):
        teams.setdefault(slug, set()).add(str(member_id))
    return {slug: frozenset(ids) for slug, ids in teams.items()}


def job_for(task: Task, *, holder: Any = None, team: Iterable[Any] | None = None) -> core.Job:
    """What routing needs to know about ``task``; ``holder`` is the assignee being
    replaced (whose stand-in comes first); ``team`` the client's team if known."""
    client: Client = task.client
    if team is None:
        team = ClientTeamMember.objects.filter(client_id=client.pk).values_list(
            "member_id", flat=True
        )
    return core.Job(
        agency_id=str(task.agency_id),
        required_skills=tuple(sorted(s.slug for s in task.required_skills.all())),
        language=task.language or client.language,
        due_ts=task.due_at.timestamp() if task.due_at else None,
        minutes=minutes_of(task),
        category=task.category.slug if task.category_id and task.category else "",
        is_vip=client.service_level == Client.ServiceLevel.VIP,
        primary=str(client.primary_assistant_id) if client.primary_assistant_id else None,
        backup=str(client.backup_assistant_id) if client.backup_assistant_id else None,
        team=tuple(str(member_id) for member_id in team),
        holder=str(holder) if holder else None,
    )


def decision_data(decision: core.Decision) -> dict[str, Any]:
    """How a decision is stored on the task's event (rendered by ``reasons``)."""
    return {"step": decision.step, "reasons": [r.as_dict() for r in decision.reasons]}


# --- routing one task ------------------------------------------------------------------


def route_task(
    actor: Member | None, task: Task, *, now: dt.datetime | None = None, record_none: bool = True
) -> core.Decision | None:
    """Choose an assistant for an unassigned, not yet started task and assign it as
    ``actor`` (``None``: the system). Returns ``None`` and changes nothing when the task
    is assigned already or no longer waiting for routing, so two workers routing the
    same task assign it once. When nobody fits, the reasons are recorded as an internal
    note (unless ``record_none`` is false: a periodic retry should not repeat them)."""
    if actor is not None:
        actor.require_manager()
        actor.require_same_agency(task)
    now = _now(now)
    with transaction.atomic():
        locked = (
            Task.objects.select_for_update(of=("self",))
            .select_related("client", "category")
            .get(pk=task.pk)
        )
        if locked.assignee_id is not None or locked.status not in ROUTABLE:
            return None
        deadline = locked.due_at or now + dt.timedelta(days=core.NO_DEADLINE_DAYS)
        roster, members = load_roster(locked.agency_id, now=now, deadline=deadline)
        decision = core.decide(roster, job_for(locked), now_ts=now.timestamp())
        _apply(actor, locked, decision, members, record_none=record_none)
    return decision


def route_tasks(
    task_ids: Sequence[Any], *, now: dt.datetime | None = None
) -> dict[str, core.Decision | None]:
    """``route_task`` as the system for many tasks: the roster of each agency is read
    once and kept up to date with each assignment made (as ``route_waiting`` does), and
    each task is decided and written in its own savepoint, so one that fails leaves the
    others routed. Returns the decision per task id (None: skipped, as
    ``route_task``); raises at the end if any task failed."""
    now = _now(now)
    found = (
        Task.objects.filter(pk__in=list(task_ids), assignee__isnull=True, status__in=ROUTABLE)
        .order_by("due_at", "created_at")
        .values_list("agency_id", "pk")
    )
    decisions: dict[str, core.Decision | None] = {str(task_id): None for task_id in task_ids}
    rosters: dict[Any, tuple[core.Roster, dict[str, Member]]] = {}
    failed: list[str] = []
    with transaction.atomic():  # one commit; each task in its own savepoint
        for agency_id, task_id in found:
            if agency_id not in rosters:
                rosters[agency_id] = load_roster(agency_id, now=now)
            roster, members = rosters[agency_id]
            try:
                decisions[str(task_id)] = _route_one(task_id, roster, members, now=now)
            except Exception:
                logger.exception("routing of task %s failed", task_id)
                failed.append(str(task_id))
    if failed:
        raise RoutingFailed(f"routing failed for task(s) {', '.join(failed)}")
    return decisions


class RoutingFailed(RuntimeError):
    """Some tasks of a batch could not be routed (the others were)."""


def _route_one(
    task_id: Any,
    roster: core.Roster,
    members: dict[str, Member],
    *,
    now: dt.datetime,
    record_none: bool = True,
) -> core.Decision | None:
    """Route one task with a roster kept for a run (it learns the assignment); None when
    the task is taken or no longer routable. ``record_none``: note on the task that
    nobody could take it."""
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("client", "category")
            .get(pk=task_id)
        )
        if task.assignee_id is not None or task.status not in ROUTABLE:
            return None
        decision = core.decide(roster, job_for(task), now_ts=now.timestamp())
        _apply(None, task, decision, members, record_none=record_none)
    if decision.assignee is not None:
        roster.add_task(
            decision.assignee,
            due_ts=task.due_at.timestamp() if task.due_at else None,
            minutes=minutes_of(task),
        )
    return decision


def _apply(
    actor: Member | None,
    task: Task,
    decision: core.Decision,
    members: dict[str, Member],
    *,
    record_none: bool,
) -> None:
    data = decision_data(decision)
    if decision.assignee is None:
        if record_none:
            record_event(task, actor=actor, kind=TaskEvent.Kind.NOTE, data={"routing": data})
        return
    assign_task(
        actor,
        task,
        assistant=members[decision.assignee],
        reason="routing",
        details={"routing": data},
    )


# --- absences --------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    moved: int
    kept: int


def move_tasks_of_absent(*, now: dt.datetime | None = None, absence_id: Any | None = None) -> Moved:
    """Hand the open tasks of everyone away now (by the date in their own time zone) to
    their stand-in, else the client's backup, team, agency, in routing's order, with the
    reasons on each task and the usual assignment email to the new assignee. Runs every
    ten minutes and as soon as an absence covering today is entered (so one entered late
    moves the work at once: ``absence_id`` limits the run to that absence). A task
    nobody can take stays and gets one note per absence saying why."""
    now = _now(now)
    today = now.date()
    moved = kept = 0
    day = dt.timedelta(days=1)
    absences = Absence.objects.filter(
        starts_on__lte=today + day, ends_on__gte=today - day
    ).order_by("agency_id", "pk")
    if absence_id is not None:
        absences = absences.filter(pk=absence_id)
    rosters: dict[Any, tuple[core.Roster, dict[str, Member]]] = {}
    for absence in absences:
        if not _is_away_now(absence, rosters, now=now):
            continue
        task_ids = list(
            Task.objects.filter(
                agency_id=absence.agency_id,
                assignee_id=absence.member_id,
                status__in=Task.OPEN_STATUSES,
            ).values_list("pk", flat=True)
        )
        roster, members = rosters[absence.agency_id]
        for task_id in task_ids:
            if _move_one(task_id, absence, roster, members, now=now):
                moved += 1
            else:
                kept += 1
    return Moved(moved, kept)


def _is_away_now(
    absence: Absence,
    rosters: dict[Any, tuple[core.Roster, dict[str, Member]]],
    *,
    now: dt.datetime,
) -> bool:
    """Whether ``absence`` covers ``now`` on the member's own calendar (loads the
    agency's roster once per run)."""
    if absence.agency_id not in rosters:
        rosters[absence.agency_id] = load_roster(absence.agency_id, now=now)
    roster, _members = rosters[absence.agency_id]
    i = roster.index.get(str(absence.member_id))
    if i is None:  # no assistant profile: their calendar is the server's
        return absence.starts_on <= now.date() <= absence.ends_on
    away = roster.absence_now[i]
    return away is not None and (away.starts_on, away.ends_on) == (
        absence.starts_on,
        absence.ends_on,
    )


def _move_one(
    task_id: Any,
    absence: Absence,
    roster: core.Roster,
    members: dict[str, Member],
    *,
    now: dt.datetime,
) -> bool:
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("client", "category")
            .get(pk=task_id)
        )
        if task.assignee_id != absence.member_id or not task.is_open:
            return False  # moved meanwhile
        job = job_for(task, holder=absence.member_id)
        decision = core.decide(roster, job, now_ts=now.timestamp())
        if decision.assignee is None or decision.assignee == str(absence.member_id):
            _alert_once(task, kind=RoutingAlert.Kind.ABSENT_UNMOVED, key=str(absence.pk),
                        data={"routing": decision_data(decision)})  # fmt: skip
            return False
        old_due = task.due_at.timestamp() if task.due_at else None
        assign_task(
            None,
            task,
            assistant=members[decision.assignee],
            reason="absence",
            details={"routing": decision_data(decision)},
        )
        # Later decisions in this run see the new load.
        roster.add_task(decision.assignee, due_ts=old_due, minutes=minutes_of(task))
        if str(absence.member_id) in roster.index:
            roster.remove_task(str(absence.member_id), due_ts=old_due, minutes=minutes_of(task))
    return True


# --- retries and deadline alerts -------------------------------------------------------


def route_waiting(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Try again to route triaged tasks nobody has taken (someone may have started
    work since), one roster per agency. Returns how many were assigned."""
    now = _now(now)
    waiting = list(
        Task.objects.filter(status=Task.Status.TRIAGED, assignee__isnull=True)
        .order_by("due_at", "created_at")
        .values_list("agency_id", "pk")[:limit]
    )
    rosters: dict[Any, tuple[core.Roster, dict[str, Member]]] = {}
    assigned = 0
    for agency_id, task_id in waiting:
        if agency_id not in rosters:
            rosters[agency_id] = load_roster(agency_id, now=now)
        roster, members = rosters[agency_id]
        decision = _route_one(task_id, roster, members, now=now, record_none=False)
        assigned += bool(decision and decision.assignee)
    return assigned


def alert_deadlines(*, now: dt.datetime | None = None) -> int:
    """Tell the dispatchers about tasks due within ``ALERT_BEFORE`` (or overdue by less
    than a day) that nobody has taken or started. Once per task, kind and deadline."""
    now = _now(now)
    at_risk = Task.objects.filter(
        status__in=(Task.Status.NEW, Task.Status.TRIAGED, Task.Status.ASSIGNED),
        due_at__lte=now + ALERT_BEFORE,
        due_at__gte=now - dt.timedelta(days=1),
    ).select_related("agency", "client", "assignee__user")
    sent = 0
    for task in at_risk:
        kind = RoutingAlert.Kind.NOT_STARTED if task.assignee_id else RoutingAlert.Kind.UNASSIGNED
        assert task.due_at is not None
        if _alert_once(task, kind=kind, key=task.due_at.isoformat(), data={}, email=True):
            sent += 1
    return sent


def _alert_once(
    task: Task, *, kind: str, key: str, data: dict[str, Any], email: bool = False
) -> bool:
    """Record the alert (unique per task, kind and key), note it on the task and email
    the agency's dispatchers and owners; False when it was raised before."""
    if RoutingAlert.objects.filter(task=task, kind=kind, key=key).exists():
        return False
    try:
        with transaction.atomic():
            RoutingAlert.objects.create(agency_id=task.agency_id, task=task, kind=kind, key=key)
            record_event(
                task, actor=None, kind=TaskEvent.Kind.NOTE, data={"routing_alert": kind, **data}
            )
            if email:
                _email_dispatchers(task, kind)
    except IntegrityError:
        return False  # another worker raised it
    return True


def _email_dispatchers(task: Task, kind: str) -> None:
    managers = Member.objects.filter(
        agency_id=task.agency_id,
        is_active=True,
        role__in=(Member.Role.OWNER, Member.Role.DISPATCHER),
    ).select_related("user")
    link = settings.SITE_URL + reverse("tasks:detail", args=[task.pk])
    for manager in managers:
        with translation.override(manager.user.language):
            context = {"task": task, "kind": kind, "link": link}
            subject = render_to_string("routing/email/alert_subject.txt", context)
            body = render_to_string("routing/email/alert.txt", context)
        EmailMessage(
            subject=" ".join(subject.split()),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[manager.user.email],
            headers={"Auto-Submitted": "auto-generated", "X-Delegate-Task": task.code},
        ).send(fail_silently=False)


def open_alerts(member: Member, *, now: dt.datetime | None = None) -> list[RoutingAlert]:
    """Alerts of the last day whose cause is still there (nobody has the task; it is
    assigned but not started; the away assignee still has it), for the dispatcher board."""
    member.require_manager()
    now = _now(now)
    kind = RoutingAlert.Kind
    return list(
        RoutingAlert.objects.filter(
            agency_id=member.agency_id,
            created_at__gte=now - dt.timedelta(days=1),
            task__status__in=Task.OPEN_STATUSES,
        )
        .filter(
            Q(kind=kind.UNASSIGNED, task__assignee__isnull=True)
            | Q(kind=kind.NOT_STARTED, task__status=Task.Status.ASSIGNED)
            | Q(kind=kind.ABSENT_UNMOVED, task__assignee__isnull=False)
        )
        .select_related("task__client", "task__assignee__user")
        .order_by("task__due_at")[:50]
    )


# --- rebalance -------------------------------------------------------------------------

REBALANCE_LIMIT = 10_000  # tasks per proposal


def propose_rebalance(member: Member, *, now: dt.datetime | None = None) -> RebalanceProposal:
    """Compute a min-cost re-assignment of the agency's unstarted open tasks (triaged or
    assigned, not in progress) and store it as a proposal; nothing is moved yet."""
    member.require_manager()
    now = _now(now)
    tasks = list(
        Task.objects.filter(
            agency_id=member.agency_id, status__in=(Task.Status.TRIAGED, Task.Status.ASSIGNED)
        )
        .select_related("client", "category", "assignee__user")
        .prefetch_related("required_skills")
        .order_by("due_at", "created_at")[:REBALANCE_LIMIT]
    )
    teams: dict[Any, list[Any]] = {}
    for client_id, member_id in ClientTeamMember.objects.filter(
        agency_id=member.agency_id
    ).values_list("client_id", "member_id"):
        teams.setdefault(client_id, []).append(member_id)
    roster, members = load_roster(member.agency_id, now=now, exclude_tasks=[t.pk for t in tasks])
    movables = [
        batch.Movable(
            str(t.pk),
            job_for(t, team=teams.get(t.client_id, [])),
            str(t.assignee_id) if t.assignee_id else None,
        )
        for t in tasks
    ]
    plan = batch.rebalance(roster, movables, now_ts=now.timestamp())
    by_id = {str(t.pk): t for t in tasks}
    moves = []
    for movable, new in plan.moves(movables):
        task = by_id[movable.id]
        moves.append(
            {
                "task": movable.id,
                "code": task.code,
                "title": task.title,
                "due_at": task.due_at.isoformat() if task.due_at else None,
                "from": movable.current,
                "from_name": task.assignee.name if task.assignee else None,
                "to": new,
                "to_name": members[new].name,
            }
        )
    return RebalanceProposal.objects.create(
        agency_id=member.agency_id,
        created_by=member,
        moves=moves,
        summary={
            "tasks": len(tasks),
            "at_risk_before": plan.at_risk_before,
            "at_risk_after": plan.at_risk_after,
            "max_load_before": round(plan.max_load_before * 100),
            "max_load_after": round(plan.max_load_after * 100),
        },
    )


@dataclass(frozen=True)
class Applied:
    moved: int
    skipped: int  # changed since the proposal was made


def apply_rebalance(
    member: Member, proposal: RebalanceProposal, *, task_ids: Iterable[str] | None = None
) -> Applied:
    """Apply the proposal's moves (only those in ``task_ids`` if given) as ``member``.
    A task that has been reassigned, started or closed since is left alone."""
    member.require_manager()
    member.require_same_agency(proposal)
    chosen = None if task_ids is None else {str(task_id) for task_id in task_ids}
    moved = skipped = 0
    with transaction.atomic():
        locked = RebalanceProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != RebalanceProposal.Status.OPEN:
            raise ValidationError(_("This proposal has been decided already."))
        assistants = {
            str(m.pk): m
            for m in Member.objects.filter(
                agency_id=member.agency_id, pk__in=[move["to"] for move in locked.moves]
            ).select_related("user")
        }
        for move in locked.moves:
            if chosen is not None and move["task"] not in chosen:
                continue
            task = (
                Task.objects.select_for_update()
                .filter(agency_id=member.agency_id, pk=move["task"])
                .first()
            )
            current = str(task.assignee_id) if task and task.assignee_id else None
            target = assistants.get(move["to"])
            if (
                task is None
                or current != move["from"]
                or task.status not in (Task.Status.TRIAGED, Task.Status.ASSIGNED)
                or target is None
                or not target.is_active
            ):
                skipped += 1
                continue
            assign_task(
                member,
                task,
                assistant=target,
                reason="rebalance",
                details={"rebalance": str(locked.pk)},
            )
            moved += 1
        locked.status = RebalanceProposal.Status.APPLIED
        locked.decided_at = timezone.now()
        locked.summary = {**locked.summary, "moved": moved, "skipped": skipped}
        locked.save(update_fields=["status", "decided_at", "summary"])
    return Applied(moved, skipped)


def discard_rebalance(member: Member, proposal: RebalanceProposal) -> None:
    member.require_manager()
    member.require_same_agency(proposal)
    with transaction.atomic():
        locked = RebalanceProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != RebalanceProposal.Status.OPEN:
            raise ValidationError(_("This proposal has been decided already."))
        locked.status = RebalanceProposal.Status.DISCARDED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])


# --- agency rules ----------------------------------------------------------------------


def set_category_team(member: Member, category: Category, *, members: Iterable[Member]) -> None:
    """Tasks of ``category`` go only to ``members`` when routing chooses (none: anyone).
    Only managers set rules; everyone named must be an active member of the agency."""
    member.require_manager()
    chosen = list(members)
    member.require_same_agency(category, *chosen)
    if any(not m.is_active for m in chosen):
        raise ValidationError({"members": _("Only active members can take tasks.")})
    with transaction.atomic():
        CategoryRoute.objects.filter(category=category).exclude(member__in=chosen).delete()
        existing = set(
            CategoryRoute.objects.filter(category=category).values_list("member_id", flat=True)
        )
        CategoryRoute.objects.bulk_create(
            CategoryRoute(agency_id=member.agency_id, category=category, member=m)
            for m in chosen
            if m.pk not in existing
        )


# --- simulation from the agency's own history ------------------------------------------


def scenario_from_agency(member: Member, *, day: dt.date) -> simulation.Scenario:
    """The agency's team as it is now and the tasks created on ``day`` (UTC), as a
    scenario for ``simulation.compare``. Tasks without a deadline get a working week;
    without an estimate, ``core.DEFAULT_MINUTES``."""
    member.require_manager()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    roster, _members = load_roster(member.agency_id, now=start)
    for a in roster.assistants:
        a.agency_id = "sim"
    known = set(roster.ids)
    teams: dict[Any, list[str]] = {}
    for client_id, member_id in ClientTeamMember.objects.filter(
        agency_id=member.agency_id
    ).values_list("client_id", "member_id"):
        teams.setdefault(client_id, []).append(str(member_id))
    clients = {
        str(c.pk): simulation.ClientSpec(
            str(c.pk),
            c.language,
            str(c.primary_assistant_id) if c.primary_assistant_id else None,
            str(c.backup_assistant_id) if c.backup_assistant_id else None,
            c.service_level == Client.ServiceLevel.VIP,
            tuple(m for m in teams.get(c.pk, []) if m in known),
        )
        for c in Client.objects.filter(agency_id=member.agency_id)
    }
    tasks = (
        Task.objects.filter(
            agency_id=member.agency_id,
            created_at__gte=start,
            created_at__lt=start + dt.timedelta(days=1),
        )
        .prefetch_related("required_skills")
        .order_by("created_at")
    )
    arrivals = [
        simulation.Arrival(
            str(t.pk),
            str(t.client_id),
            t.created_at.timestamp(),
            (t.due_at or t.created_at + dt.timedelta(days=core.NO_DEADLINE_DAYS)).timestamp(),
            minutes_of(t),
            tuple(sorted(s.slug for s in t.required_skills.all())),
        )
        for t in tasks
    ]
    return simulation.Scenario(
        f"{member.agency.name}, {day.isoformat()}", start, 48, roster.assistants, clients, arrivals
    )
