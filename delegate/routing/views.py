"""Dispatcher pages for routing: rebalance proposals (compute, review the moves, apply
or discard) and routing one task on demand. Views parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from delegate.access import access_category, access_member, access_rebalance, access_task
from delegate.agencies.models import Member
from delegate.routing import services
from delegate.routing.models import CategoryRoute, RebalanceProposal
from delegate.tasks.models import Category
from delegate.tasks.views import _post_only, staff_view


def _member(request: HttpRequest) -> Member:
    member: Member = request.member  # type: ignore[attr-defined]
    return member


@staff_view(manager=True)
def rebalance(request: HttpRequest) -> HttpResponse:
    """GET: recent proposals; POST: compute a new one and show it."""
    member = _member(request)
    if request.method == "POST":
        proposal = services.propose_rebalance(member)
        return redirect("routing:proposal", proposal_id=proposal.pk)
    recent = RebalanceProposal.objects.filter(agency_id=member.agency_id).select_related(
        "created_by__user"
    )[:10]
    return render(request, "routing/rebalance.html", {"recent": list(recent)})


@staff_view(manager=True)
def proposal(request: HttpRequest, proposal_id: str) -> HttpResponse:
    found = access_rebalance(_member(request), proposal_id)
    moves = [
        {**move, "due": parse_datetime(move["due_at"]) if move.get("due_at") else None}
        for move in found.moves
    ]
    return render(request, "routing/proposal.html", {"proposal": found, "moves": moves})


@staff_view(manager=True)
def apply(request: HttpRequest, proposal_id: str) -> HttpResponse:
    member = _member(request)
    found = access_rebalance(member, proposal_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        result = services.apply_rebalance(member, found, task_ids=request.POST.getlist("task"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("routing:proposal", proposal_id=found.pk)
    messages.success(
        request,
        _("%(moved)s tasks moved, %(skipped)s skipped (changed meanwhile).")
        % {"moved": result.moved, "skipped": result.skipped},
    )
    return redirect("routing:proposal", proposal_id=found.pk)


@staff_view(manager=True)
def discard(request: HttpRequest, proposal_id: str) -> HttpResponse:
    member = _member(request)
    found = access_rebalance(member, proposal_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        services.discard_rebalance(member, found)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Proposal discarded."))
    return redirect("routing:proposal", proposal_id=found.pk)


@staff_view()
def route(request: HttpRequest, task_id: str) -> HttpResponse:
    """Let routing choose now, for an unassigned task (managers only)."""
    member = _member(request)
    task = access_task(member, task_id, write=True)
    member.require_manager()
    if (refused := _post_only(request)) is not None:
        return refused
    decision = services.route_task(member, task)
    if decision is None:
        messages.info(request, _("The task is assigned already or not waiting for routing."))
    elif decision.assignee is None:
        messages.error(request, _("Nobody fits; see the activity for why."))
    else:
        messages.success(request, _("Routing assigned the task."))
    return redirect("tasks:detail", task_id=task.pk)


@staff_view(manager=True)
def rules(request: HttpRequest) -> HttpResponse:
    """Agency rules: which members take which category (VIP clients always go to senior
    assistants when routing chooses)."""
    member = _member(request)
    if request.method == "POST":
        category = access_category(member, request.POST.get("category"))
        chosen = [access_member(member, pk) for pk in request.POST.getlist("members")]
        try:
            services.set_category_team(member, category, members=chosen)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Rule saved."))
        return redirect("routing:rules")
    taken: dict[Any, set[Any]] = {}
    for category_id, member_id in CategoryRoute.objects.filter(
        agency_id=member.agency_id
    ).values_list("category_id", "member_id"):
        taken.setdefault(category_id, set()).add(member_id)
    assistants = list(
        Member.objects.filter(agency_id=member.agency_id, is_active=True, profile__isnull=False)
        .select_related("user")
        .order_by("user__name")
    )
    rows = [
        {"category": c, "members": [(m, m.pk in taken.get(c.pk, set())) for m in assistants]}
        for c in Category.objects.filter(agency_id=member.agency_id)
    ]
    return render(request, "routing/rules.html", {"rows": rows})
