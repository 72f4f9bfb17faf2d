"""Time on a task in the desk: a card the task page loads with htmx (and a plain page
without JavaScript), timer start/stop, manual entries, edits and deletion."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.access import access_task, access_time_entry
from delegate.agencies.models import Member
from delegate.tasks.models import Task
from delegate.tasks.views import _is_partial, _member, _post_only, staff_view
from delegate.timetracking import services
from delegate.timetracking.forms import EntryForm, add_service_errors
from delegate.timetracking.models import TimeEntry

CARD = "timetracking/task_time.html"


def _context(member: Member, task: Task, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    summary = services.task_time(task)
    running = services.running_timer(member)
    context = {
        "task": task,
        "now": now,
        "summary": summary,
        "total_minutes": summary.total_at(now),
        "my_timer": running if running and running.task_id == task.pk else None,
        "timer_elsewhere": running if running and running.task_id != task.pk else None,
        "form": EntryForm(
            auto_id="time_%s",
            initial={"started_at": timezone.localtime(now).replace(second=0, microsecond=0)},
        ),
        "error": "",
    }
    context.update(extra)
    return context


def _card(
    request: HttpRequest, member: Member, task: Task, *, status: int = 200, **extra: Any
) -> HttpResponse:
    template = f"{CARD}#card" if _is_partial(request) else CARD
    return render(request, template, _context(member, task, **extra), status=status)


def _done(request: HttpRequest, member: Member, task: Task, text: str) -> HttpResponse:
    if _is_partial(request):
        return _card(request, member, task)
    messages.success(request, text)
    return redirect(reverse("timetracking:task_time", args=[task.pk]))


@staff_view()
def task_time(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id)
    return _card(request, member, task)


@staff_view()
def start(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        services.start_timer(member, task)
    except ValidationError as exc:
        return _card(request, member, task, status=400, error=" ".join(exc.messages))
    return _done(request, member, task, _("Timer started."))


@staff_view()
def stop(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    services.stop_timer(member)
    return _done(request, member, task, _("Timer stopped."))


@staff_view()
def log(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = EntryForm(request.POST, auto_id="time_%s")
    if form.is_valid():
        try:
            services.log_time(member, task, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, member, task, _("Time logged."))
    return _card(request, member, task, status=400, form=form)


@staff_view()
def edit_entry(request: HttpRequest, entry_id: str) -> HttpResponse:
    member = _member(request)
    entry = access_time_entry(member, entry_id, write=True)
    task = access_task(member, entry.task_id)
    if (refused := _post_only(request)) is not None:
        return refused
    form = EntryForm(request.POST, auto_id=f"entry_{entry.pk}_%s")
    if form.is_valid():
        try:
            services.update_entry(member, entry, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, member, task, _("Entry saved."))
    error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _card(request, member, task, status=400, error=error)


@staff_view()
def delete_entry(request: HttpRequest, entry_id: str) -> HttpResponse:
    member = _member(request)
    entry = access_time_entry(member, entry_id, write=True)
    task = access_task(member, entry.task_id)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        services.delete_entry(member, entry)
    except ValidationError as exc:
        return _card(request, member, task, status=400, error=" ".join(exc.messages))
    return _done(request, member, task, _("Entry deleted."))


@staff_view(manager=True)
def approvals(request: HttpRequest) -> HttpResponse:
    """Finished, unapproved time of the agency; a manager approves the ticked entries
    at once. Ids from the form count only within the member's agency."""
    member = _member(request)
    if request.method == "POST":
        ids = [value for value in request.POST.getlist("entry") if _is_uuid(value)]
        entries = TimeEntry.objects.filter(agency_id=member.agency_id, pk__in=ids)
        count = services.approve_entries(member, entries)
        messages.success(request, _("%(count)s entries approved.") % {"count": count})
        return redirect("timetracking:approvals")
    pending = (
        TimeEntry.objects.filter(
            agency_id=member.agency_id, ended_at__isnull=False, approved_at__isnull=True
        )
        .select_related("client", "task", "member__user")
        .order_by("client__name", "started_at")[:500]
    )
    return render(request, "timetracking/approvals.html", {"pending": pending})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
