"""The client portal: the client's phone-first "butler app".

Only logged-in client contacts (``request.contact``) get here. Every object named in
the URL comes through ``delegate.access`` scoped to the contact, and nothing internal
(internal notes, their files, the events about them) is ever put in a page.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegate.access import (
    access_attachment,
    access_portal_task,
    events_visible_to,
    messages_visible_to,
    portal_tasks,
)
from delegate.clients.models import Contact
from delegate.core.http import contact_required
from delegate.portal.forms import NewTaskForm, ReplyForm, add_service_errors
from delegate.tasks import services
from delegate.tasks.models import Attachment, Message, Task, TaskEvent
from delegate.tasks.status import TransitionError, TransitionForbidden, allowed_targets

PAGE_SIZE = 20
SHOW_FILTERS: dict[str, Q] = {
    "all": Q(),
    "open": Q(status__in=Task.OPEN_STATUSES),
    "done": ~Q(status__in=Task.OPEN_STATUSES),
}
# What a client may read of a task's trail. Notes, messages and attachment events are
# left out: the conversation shows what is theirs, and the rest could name internal work.
ACTIVITY_LIMIT = 30

View = Callable[..., HttpResponse]


def _contact(request: HttpRequest) -> Contact:
    return cast(Contact, request.contact)  # type: ignore[attr-defined]


def _in_client_time_zone(view: View) -> View:
    """Show and read dates in the client's own time zone."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            zone = zoneinfo.ZoneInfo(_contact(request).client.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        with timezone.override(zone):
            return view(request, *args, **kwargs)

    return wrapper


# --- my tasks ------------------------------------------------------------------------------


@contact_required
@_in_client_time_zone
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    contact = _contact(request)
    if request.method != "POST":
        return _render_home(request, NewTaskForm())
    form = NewTaskForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            task = services.create_task(
                contact,
                client=contact.client,
                channel=Task.Channel.PORTAL,
                title=data["title"],
                description=data["text"],
                due_at=data["due_at"],
                priority=Task.Priority.URGENT if data["is_urgent"] else Task.Priority.NORMAL,
                files=data["attachments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            flash.success(request, _("Thank you — we have your task and are on it."))
            return redirect("portal:task", task_id=task.pk)
    return _render_home(request, form, status=400)


def _render_home(request: HttpRequest, form: NewTaskForm, status: int = 200) -> HttpResponse:
    show = request.GET.get("show", "all")
    if show not in SHOW_FILTERS:
        show = "all"
    tasks = _task_list(_contact(request)).filter(SHOW_FILTERS[show])
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "show": show,
        "filters": [("all", _("All")), ("open", _("Open")), ("done", _("Done"))],
        "now": timezone.now(),
    }
    return render(request, "portal/home.html", context, status=status)


def _task_list(contact: Contact) -> QuerySet[Task]:
    """Tasks waiting for the client first, then the other open ones, then closed ones;
    within each, the most recent activity (visible to the client) first."""
    last_message_at = (
        Message.objects.filter(task=OuterRef("pk"), is_internal=False)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return (
        portal_tasks(contact)
        .select_related("assignee__user")
        .annotate(
            group=Case(
                When(status=Task.Status.WAITING_ON_CLIENT, then=Value(0)),
                When(status__in=Task.OPEN_STATUSES, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            last_activity_at=Greatest(
                Coalesce(Subquery(last_message_at, output_field=DateTimeField()), F("created_at")),
                Coalesce(F("status_changed_at"), F("created_at")),
            ),
        )
        .order_by("group", "-last_activity_at", "-created_at", "pk")
    )


# --- one task ------------------------------------------------------------------------------


@contact_required
@_in_client_time_zone
@require_GET
def task(request: HttpRequest, task_id: str) -> HttpResponse:
    the_task = access_portal_task(_contact(request), task_id)
    return _render_task(request, the_task, ReplyForm())


@contact_required
@_in_client_time_zone
@require_POST
def reply(request: HttpRequest, task_id: str) -> HttpResponse:
    contact = _contact(request)
    the_task = access_portal_task(contact, task_id, write=True)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.post_message(
                contact,
                the_task,
                text=form.cleaned_data["text"],
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except TransitionError:
            form.add_error(None, _("Your message could not be added to this task right now."))
        else:
            if request.htmx:  # type: ignore[attr-defined]
                return _render_thread(request, access_portal_task(contact, task_id))
            flash.success(request, _("Message sent."))
            return redirect(reverse("portal:task", args=[the_task.pk]) + "#conversation")
    if request.htmx:  # type: ignore[attr-defined]
        return _render_thread(request, the_task, form, status=400)
    return _render_task(request, the_task, form, status=400)


@contact_required
@_in_client_time_zone
@require_POST
def cancel(request: HttpRequest, task_id: str) -> HttpResponse:
    contact = _contact(request)
    the_task = access_portal_task(contact, task_id, write=True)
    try:
        services.change_status(contact, the_task, to=Task.Status.CANCELLED)
    except TransitionForbidden:
        error = _(
            "We are already working on this task, so it can no longer be cancelled here. "
            "Write us a message instead."
        )
        return _render_task(request, the_task, ReplyForm(), error=error, status=403)
    except TransitionError:
        error = _("This task cannot be cancelled any more.")
        return _render_task(request, the_task, ReplyForm(), error=error, status=400)
    flash.success(request, _("The task was cancelled."))
    return redirect("portal:task", task_id=the_task.pk)


@contact_required
@require_GET
def attachment(request: HttpRequest, task_id: str, attachment_id: str) -> FileResponse:
    contact = _contact(request)
    the_task = access_portal_task(contact, task_id)
    found = access_attachment(contact, attachment_id)
    if found.task_id != the_task.pk:
        raise Http404("No such attachment")
    response = FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.filename,
        content_type=found.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- rendering -------------------------------------------------------------------------


def _task_context(request: HttpRequest, task: Task, form: ReplyForm) -> dict[str, Any]:
    contact = _contact(request)
    conversation = list(
        messages_visible_to(contact, task)
        .select_related("author_member__user", "author_contact")
        .prefetch_related("attachments")
    )
    return {
        "task": task,
        "conversation": conversation,
        "task_files": _task_files(task),
        "form": form,
        "can_cancel": Task.Status.CANCELLED in allowed_targets(task.status, "client"),
        "now": timezone.now(),
    }


def _task_files(task: Task) -> list[Attachment]:
    """Files sent with the task itself (those on messages show in the conversation)."""
    return list(Attachment.objects.filter(agency_id=task.agency_id, task=task, message=None))


def _render_task(
    request: HttpRequest, task: Task, form: ReplyForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = _task_context(request, task, form)
    context["activity"] = _client_activity(task, _contact(request))
    context["error"] = error
    return render(request, "portal/task.html", context, status=status)


def _render_thread(
    request: HttpRequest, task: Task, form: ReplyForm | None = None, *, status: int = 200
) -> HttpResponse:
    """The htmx answer to a reply: the conversation with a fresh (or the failed) form,
    and the task facts out of band, since a reply may have reopened the task."""
    context = _task_context(request, task, form or ReplyForm())
    context["sent"] = status == 200
    html = render_to_string("portal/task.html#conversation", context, request=request)
    if status == 200:
        context["oob"] = True
        html += render_to_string("portal/task.html#facts", context, request=request)
    return HttpResponse(html, status=status)


def _client_activity(task: Task, viewer: Contact) -> list[dict[str, Any]]:
    events = (
        events_visible_to(viewer, task)
        .select_related("actor_member__user", "actor_contact")
        .order_by("-created_at", "-id")[:ACTIVITY_LIMIT]
    )
    return [{"at": event.created_at, "line": _line(event, viewer)} for event in events]


def _actor(event: TaskEvent) -> str:
    """Colleagues by first name, as in the conversation."""
    if event.actor_member is not None:
        return event.actor_member.user.get_short_name()
    if event.actor_contact is not None:
        return event.actor_contact.name
    return "Delegate"


def _line(event: TaskEvent, viewer: Contact) -> str:
    """One sentence per event. The viewer's own actions are phrased with "you" as their
    own sentences, because German conjugates the verb ("Sie haben …", "Anna hat …")."""
    data = event.data if isinstance(event.data, dict) else {}
    mine = event.actor_member_id is None and event.actor_contact_id == viewer.pk
    values: dict[str, Any] = {"name": _actor(event)}
    if event.kind == TaskEvent.Kind.CREATED:
        if mine:
            return _("You created the task.")
        return _("%(name)s created the task.") % values
    if event.kind == TaskEvent.Kind.STATUS_CHANGED:
        target = data.get("to")
        values["status"] = Task.Status(target).label if target in Task.Status.values else target
        if mine:
            return _("You changed the status to “%(status)s”.") % values
        return _("%(name)s changed the status to “%(status)s”.") % values
    if event.kind == TaskEvent.Kind.ASSIGNED:
        values["assignee"] = (data.get("to_name") or "").split(" ")[0]
        if values["assignee"]:
            return _("%(name)s handed the task to %(assignee)s.") % values
        return _("%(name)s handed the task back to the team.") % values
    if mine:
        return _("You updated the details.")
    return _("%(name)s updated the details.") % values
