"""Staff pages for tasks: the desk queue, the task page with its actions, the dispatcher
board and the manual new-task form.

Views parse input, fetch objects through ``delegate.access``, call one service and render.
Every page works without JavaScript (plain links and POST + redirect); with htmx the same
URLs answer with template partials.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from delegate.access import (
    access_attachment,
    access_client,
    access_task,
    messages_visible_to,
    role_on_task,
)
from delegate.agencies.models import AssistantProfile, Member
from delegate.core.http import View, member_required
from delegate.tasks import queries
from delegate.tasks.forms import (
    AssignForm,
    MessageForm,
    NewTaskForm,
    QueueFilterForm,
    StatusForm,
    TaskEditForm,
    add_service_errors,
    agency_members,
)
from delegate.tasks.models import Attachment, Task
from delegate.tasks.services import assign_task, change_status, create_task, post_message
from delegate.tasks.services import update_task as update_task_service
from delegate.tasks.status import ASSIGNERS, TransitionError, allowed_targets


def _member(request: HttpRequest) -> Member:
    member: Member = request.member  # type: ignore[attr-defined]
    return member


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def _viewer_zone(member: Member) -> zoneinfo.ZoneInfo:
    """The assistant's own time zone if they have a profile, else the agency's."""
    name = (
        AssistantProfile.objects.filter(member_id=member.pk)
        .values_list("time_zone", flat=True)
        .first()
    ) or member.agency.time_zone
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def staff_view(*, manager: bool = False) -> Callable[[View], View]:
    """A member-only view that reads and shows dates in the viewer's time zone."""

    def decorator(view: View) -> View:
        @wraps(view)
        def in_zone(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            with timezone.override(_viewer_zone(_member(request))):
                return view(request, *args, **kwargs)

        return member_required(manager=manager)(in_zone)

    return decorator


def _fragments(
    request: HttpRequest,
    template: str,
    names: Iterable[str],
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """Several partials of one template in one htmx response (the later ones swap
    out of band)."""
    html = "".join(render_to_string(f"{template}#{name}", context, request) for name in names)
    return HttpResponse(html, status=status)


# --- the desk queue ----------------------------------------------------------------------


@staff_view()
def queue(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    now = timezone.now()
    form = QueueFilterForm(member, request.GET)
    status = 200
    page: queries.Page | None = None
    if form.is_valid():
        page = queries.queue_page(
            member, form.filters(), now=now, number=form.cleaned_data.get("page") or 1
        )
    else:
        status = 400
    context = {"form": form, "page": page, "now": now}
    template = "tasks/queue.html#results" if _is_partial(request) else "tasks/queue.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the task page -----------------------------------------------------------------------

DETAIL = "tasks/detail.html"


def _detail_context(member: Member, task: Task, **extra: Any) -> dict[str, Any]:
    role = role_on_task(member, task)
    targets = allowed_targets(task.status, role)  # type: ignore[arg-type]
    conversation = (
        messages_visible_to(member, task)
        .select_related("author_member__user", "author_contact")
        .prefetch_related("attachments")
        .order_by("created_at")
    )
    attachments = (
        Attachment.objects.filter(agency_id=task.agency_id, task=task)
        .select_related("message")
        .order_by("created_at")
    )
    context: dict[str, Any] = {
        "task": task,
        "role": role,
        "now": timezone.now(),
        "targets": [(value, Task.Status(value).label) for value in targets],
        "can_assign": role in ASSIGNERS and task.is_open,
        "can_route": member.is_manager
        and task.assignee_id is None
        and task.status in (Task.Status.NEW, Task.Status.TRIAGED),
        "routing_reason": queries.routing_reason(task),
        "skills": list(task.required_skills.all()),
        "conversation": list(conversation),
        "attachments": list(attachments),
        "activity": queries.activity(task),
        "reply_form": MessageForm(auto_id="reply_%s"),
        "note_form": MessageForm(auto_id="note_%s"),
        "assign_form": AssignForm(
            member, auto_id="assign_%s", initial={"assignee": task.assignee_id}
        ),
        "edit_form": TaskEditForm(member, task, auto_id="edit_%s"),
        "status_error": "",
        "oob": False,
    }
    context.update(extra)
    return context


def _refetch(member: Member, task: Task) -> Task | None:
    """The task after a change, or None when the member no longer sees it (an assistant
    who handed it over to someone else)."""
    try:
        return access_task(member, task.pk)
    except Http404:
        return None


def _gone(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("The task is no longer in your view."))
    if _is_partial(request):
        return HttpResponseClientRedirect(reverse("tasks:queue"))
    return redirect("tasks:queue")


@staff_view()
def detail(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id)
    return render(request, DETAIL, _detail_context(member, task))


def _post_only(request: HttpRequest) -> HttpResponse | None:
    # Checked after the object is fetched, so an outsider gets the same 404 for any method.
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


def _message(request: HttpRequest, task_id: str, *, is_internal: bool) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    prefix = "note" if is_internal else "reply"
    form = MessageForm(request.POST, request.FILES, auto_id=f"{prefix}_%s")
    if form.is_valid():
        try:
            post_message(
                member,
                task,
                text=form.cleaned_data["text"],
                is_internal=is_internal,
                files=form.cleaned_data["files"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            fresh = _refetch(member, task)
            if fresh is None:
                return _gone(request)
            if _is_partial(request):
                context = _detail_context(member, fresh, oob=True)
                return _fragments(request, DETAIL, ["conversation", "activity", "files"], context)
            messages.success(request, _("Note saved.") if is_internal else _("Reply sent."))
            return redirect(reverse("tasks:detail", args=[task.pk]) + "#conversation")
    context = _detail_context(member, task, **{f"{prefix}_form": form})
    if _is_partial(request):
        return _fragments(request, DETAIL, ["conversation"], context, status=400)
    return render(request, DETAIL, context, status=400)


@staff_view()
def reply(request: HttpRequest, task_id: str) -> HttpResponse:
    return _message(request, task_id, is_internal=False)


@staff_view()
def note(request: HttpRequest, task_id: str) -> HttpResponse:
    return _message(request, task_id, is_internal=True)


def _summary_refused(
    request: HttpRequest, member: Member, task: Task, error: str, **extra: Any
) -> HttpResponse:
    context = _detail_context(member, task, status_error=error, **extra)
    if _is_partial(request):
        return _fragments(request, DETAIL, ["summary"], context, status=400)
    return render(request, DETAIL, context, status=400)


def _summary_changed(request: HttpRequest, member: Member, task: Task, done: str) -> HttpResponse:
    fresh = _refetch(member, task)
    if fresh is None:
        return _gone(request)
    if _is_partial(request):
        context = _detail_context(member, fresh, oob=True)
        return _fragments(request, DETAIL, ["summary", "activity"], context)
    messages.success(request, done)
    return redirect("tasks:detail", task_id=task.pk)


@staff_view()
def change_task_status(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _summary_refused(request, member, task, _("Unknown status."))
    try:
        change_status(member, task, to=form.cleaned_data["to"], note=form.cleaned_data["note"])
    except TransitionError as exc:
        return _summary_refused(request, member, task, str(exc))
    return _summary_changed(request, member, task, _("Status changed."))


@staff_view()
def assign(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = AssignForm(member, request.POST, auto_id="assign_%s")
    if not form.is_valid():
        return _summary_refused(
            request, member, task, _("Choose an active member of the agency."), assign_form=form
        )
    try:
        assign_task(
            member,
            task,
            assistant=form.cleaned_data["assignee"],
            reason=form.cleaned_data["reason"].strip(),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _summary_refused(request, member, task, "", assign_form=form)
    except TransitionError as exc:
        return _summary_refused(request, member, task, str(exc))
    return _summary_changed(request, member, task, _("Assignment changed."))


@staff_view()
def edit(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = TaskEditForm(member, task, request.POST, auto_id="edit_%s")
    if form.is_valid():
        try:
            update_task_service(member, task, **form.changes())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Task saved."))
            return redirect("tasks:detail", task_id=task.pk)
    context = _detail_context(member, task, edit_form=form, edit_open=True)
    return render(request, DETAIL, context, status=400)


@staff_view()
def attachment(request: HttpRequest, task_id: str, attachment_id: str) -> FileResponse:
    member = _member(request)
    task = access_task(member, task_id)
    stored = access_attachment(member, attachment_id)
    if stored.task_id != task.pk:
        raise Http404("No such attachment")
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    response = FileResponse(
        handle, as_attachment=True, filename=stored.filename, content_type=stored.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the dispatcher board ----------------------------------------------------------------


def _board(request: HttpRequest, member: Member, *, error: str = "") -> HttpResponse:
    from delegate.routing.services import open_alerts

    now = timezone.now()
    context = {
        "alerts": open_alerts(member, now=now),
        "sections": queries.board_sections(member, now=now),
        "team": queries.team_load(member, today=timezone.localdate(now)),
        "members": list(agency_members(member)),
        "now": now,
        "board_error": error,
    }
    return render(request, "tasks/dispatch.html", context, status=400 if error else 200)


@staff_view(manager=True)
def dispatch(request: HttpRequest) -> HttpResponse:
    return _board(request, _member(request))


@staff_view()
def quick_assign(request: HttpRequest, task_id: str) -> HttpResponse:
    member = _member(request)
    task = access_task(member, task_id, write=True)
    member.require_manager()
    if (refused := _post_only(request)) is not None:
        return refused
    form = AssignForm(member, request.POST)
    error = ""
    if not form.is_valid() or form.cleaned_data["assignee"] is None:
        error = _("Choose an active member of the agency.")
    else:
        try:
            task = assign_task(member, task, assistant=form.cleaned_data["assignee"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except TransitionError as exc:
            error = str(exc)
    status = 400 if error else 200
    if _is_partial(request):
        fresh = queries.with_labels([access_task(member, task.pk)])[0]
        context = {
            "task": fresh,
            "members": list(agency_members(member)),
            "now": timezone.now(),
            "error": error,
            "just_assigned": not error,
        }
        return render(request, "tasks/dispatch.html#row", context, status=status)
    if error:
        return _board(request, member, error=error)
    messages.success(request, _("Task assigned."))
    return redirect("tasks:dispatch")


# --- a new task from the desk ------------------------------------------------------------


@staff_view()
def new(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if request.method == "POST":
        form = NewTaskForm(member, request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = create_task(
                    member,
                    client=data["client"],
                    requester=data["requester"],
                    title=data["title"],
                    description=data["description"],
                    priority=data["priority"],
                    due_at=data["due_at"],
                    category=data["category"],
                    channel=Task.Channel.DESK,
                    files=data["files"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Task created."))
                return redirect("tasks:detail", task_id=task.pk)
        return render(request, "tasks/new.html", {"form": form}, status=400)
    chosen = request.GET.get("client") or None
    client = access_client(member, chosen) if chosen else None
    form = NewTaskForm(member, client=client, initial={"client": client})
    if _is_partial(request) and "client" in request.GET:
        return render(request, "tasks/new.html#requester", {"form": form})
    return render(request, "tasks/new.html", {"form": form})
