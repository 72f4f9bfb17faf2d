"""The task page and its actions: rendering, reply and note (with email), status change,
reassignment, editing, attachment download, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from delegate.agencies import services as agency_services
from delegate.clients import services as client_services
from delegate.tasks import services
from delegate.tasks.models import Attachment, Category, Message, Task, TaskEvent
from delegate.tasks.notifications import send_event_notifications
from delegate.testing import Cast


def url(name: str, cast: Cast, *extra: Any) -> str:
    return reverse(f"tasks:{name}", args=[cast.task.pk, *extra])


def db_state() -> tuple[Any, ...]:
    """Everything a request on a task could write."""
    return (
        Message.objects.count(),
        Attachment.objects.count(),
        TaskEvent.objects.count(),
        tuple(
            Task.objects.order_by("pk").values_list(
                "pk", "status", "assignee_id", "title", "priority", "due_at", "updated_at"
            )
        ),
    )


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def run_enqueued_jobs() -> int:
    """Run the notification jobs the request enqueued, as the worker would (the worker
    command itself closes the database connection, which a test transaction cannot
    survive on PostgreSQL)."""
    results = list(DBTaskResult.objects.filter(status="READY").order_by("enqueued_at"))
    for result in results:
        assert result.task_path == "delegate.tasks.jobs.notify_task_event"
        result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
    return len(results)


def make_eve_backup(cast: Cast) -> None:
    """eve sees acme's task (as backup) without being its assignee."""
    client_services.update_client(cast.alice, cast.acme, backup_assistant=cast.eve)


# --- every id-bearing URL is closed to outsiders -------------------------------------------


def id_urls(cast: Cast) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, data) for every task URL, with data that would change something."""
    return [
        ("get", url("detail", cast), {}),
        ("post", url("reply", cast), {"text": "Hi"}),
        ("post", url("note", cast), {"text": "Psst"}),
        ("post", url("status", cast), {"to": "in_progress"}),
        ("post", url("assign", cast), {"assignee": str(cast.mallory.pk)}),
        ("post", url("edit", cast), {"title": "Hacked", "priority": "4"}),
        ("get", url("attachment", cast, cast.attachment.pk), {}),
        ("get", url("attachment", cast, cast.internal_attachment.pk), {}),
        (
            "post",
            reverse("tasks:quick_assign", args=[cast.task.pk]),
            {"assignee": str(cast.mallory.pk)},
        ),
    ]


@pytest.mark.parametrize("who", ["mallory", "eve"])
def test_it_answers_outsiders_404_everywhere_and_changes_nothing(cast: Cast, who: str) -> None:
    client = cast.login(getattr(cast, who))
    before, files = db_state(), stored_files()
    for method, target, data in id_urls(cast):
        for verb in {method, "get", "post"}:
            response = getattr(client, verb)(target, data)
            assert response.status_code == 404, (who, verb, target)
    assert db_state() == before
    assert stored_files() == files


def test_it_refuses_client_contacts_on_staff_urls(cast: Cast) -> None:
    for who in (cast.carol, cast.gina):
        client = cast.login(who)
        before = db_state()
        for method, target, data in id_urls(cast):
            assert getattr(client, method)(target, data).status_code == 403, target
        assert db_state() == before


def test_it_answers_404_for_unknown_ids(cast: Cast) -> None:
    client = cast.login(cast.alice)
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(reverse("tasks:detail", args=[missing])).status_code == 404
    assert client.get(url("attachment", cast, missing)).status_code == 404
    # An attachment of another task, named under this task's URL.
    other = services.create_task(
        cast.alice,
        client=cast.acme,
        title="Other",
        channel="desk",
        files=[SimpleUploadedFile("x.txt", b"x")],
    )
    foreign_file = other.attachments.get()
    assert client.get(url("attachment", cast, foreign_file.pk)).status_code == 404


def test_it_allows_only_post_on_actions(cast: Cast) -> None:
    client = cast.login(cast.bob)
    before = db_state()
    for name in ("reply", "note", "status", "assign", "edit"):
        assert client.get(url(name, cast)).status_code == 405
    assert db_state() == before


# --- the page ------------------------------------------------------------------------------


def test_it_shows_the_facts_conversation_files_and_activity_to_staff(cast: Cast) -> None:
    response = cast.login(cast.bob).get(url("detail", cast), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert cast.task.title in html and cast.acme.name in html and cast.carol.name in html
    # the client's request itself opens the conversation
    assert cast.task.description in html
    assert html.index(cast.task.description) < html.index("Which airport do you prefer?")
    # the internal note is there, styled as one; the reply as outbound
    assert 'class="msg internal"' in html and "Client prefers aisle seats." in html
    assert 'class="msg outbound"' in html and "Which airport do you prefer?" in html
    for attachment in (cast.attachment, cast.internal_attachment):
        assert url("attachment", cast, attachment.pk) in html
    assert "created the task" in html and "assigned the task to Bob Becker" in html
    assert "added an internal note" in html and "attached options.txt" in html


def test_it_offers_only_the_allowed_status_changes(cast: Cast) -> None:
    bob_page = cast.login(cast.bob).get(url("detail", cast)).content.decode()
    dora_page = cast.login(cast.dora).get(url("detail", cast)).content.decode()
    for target in ("in_progress", "waiting_on_client", "done"):
        assert f'value="{target}"' in bob_page
    assert 'value="cancelled"' not in bob_page and 'value="cancelled"' in dora_page
    make_eve_backup(cast)
    eve_page = cast.login(cast.eve).get(url("detail", cast)).content.decode()
    assert 'name="to"' not in eve_page
    assert url("assign", cast) not in eve_page  # only managers and the assignee reassign


# --- reply and note ------------------------------------------------------------------------


def test_it_sends_a_reply_with_files_and_emails_the_requester(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    mail.outbox.clear()
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.login(cast.bob).post(
            url("reply", cast),
            {
                "text": "Hamburg Airport it is.",
                "files": [
                    SimpleUploadedFile("ticket.pdf", b"%PDF-1.4 ticket"),
                    SimpleUploadedFile("seat.txt", b"12C"),
                ],
            },
        )
    assert response.status_code == 302
    assert response["Location"].startswith(url("detail", cast))
    message = Message.objects.get(text="Hamburg Airport it is.")
    assert message.direction == Message.Direction.OUTBOUND and not message.is_internal
    assert message.author_member == cast.bob
    assert sorted(a.filename for a in message.attachments.all()) == ["seat.txt", "ticket.pdf"]
    assert message.attachments.get(filename="ticket.pdf").content_type == "application/pdf"
    assert run_enqueued_jobs() >= 1
    assert [email.to for email in mail.outbox] == [["carol@acme.test"]]
    assert "Hamburg Airport it is." in mail.outbox[0].body


def test_it_saves_an_internal_note_and_emails_nobody(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.login(cast.bob).post(url("note", cast), {"text": "Call her tomorrow."})
    assert response.status_code == 302
    note = Message.objects.get(text="Call her tomorrow.")
    assert note.is_internal and note.direction == Message.Direction.INTERNAL
    run_enqueued_jobs()
    event = TaskEvent.objects.get(task=cast.task, kind="note", data__message=str(note.pk))
    assert send_event_notifications(event.pk) == 0
    assert mail.outbox == []


def test_it_swaps_in_the_conversation_for_htmx(cast: Cast) -> None:
    response = cast.login(cast.bob).post(
        url("reply", cast), {"text": "On it."}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="conversation"') and "<html" not in html
    assert "On it." in html
    assert 'id="task-activity"' in html and 'hx-swap-oob="true"' in html


def test_it_refuses_an_empty_reply(cast: Cast) -> None:
    before = db_state()
    response = cast.login(cast.bob).post(url("reply", cast), {"text": "   "})
    assert response.status_code == 400
    assert "Write a message or attach a file." in response.content.decode() or (
        "Nachricht" in response.content.decode()
    )
    assert db_state() == before


@pytest.mark.parametrize("name", ["reply", "note"])
def test_it_refuses_an_oversize_attachment_and_writes_nothing(
    cast: Cast, settings: Any, name: str
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    before, files = db_state(), stored_files()
    htmx: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
    for headers in ({}, htmx):
        response = cast.login(cast.bob).post(
            url(name, cast),
            {
                "text": "See attached",
                "files": [
                    SimpleUploadedFile("small.txt", b"ok"),
                    SimpleUploadedFile("huge.bin", b"x" * 100),
                ],
            },
            **headers,
        )
        assert response.status_code == 400
        assert "huge.bin" in response.content.decode()
    assert db_state() == before
    assert stored_files() == files


# --- status --------------------------------------------------------------------------------


def test_it_changes_the_status(cast: Cast) -> None:
    response = cast.login(cast.bob).post(url("status", cast), {"to": "in_progress"})
    assert response.status_code == 302
    cast.task.refresh_from_db()
    assert cast.task.status == Task.Status.IN_PROGRESS
    event = TaskEvent.objects.filter(task=cast.task).latest("id")
    assert event.kind == "status_changed" and event.actor_member == cast.bob


def test_it_swaps_the_summary_for_htmx(cast: Cast) -> None:
    response = cast.login(cast.bob).post(
        url("status", cast), {"to": "done"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="task-summary"')
    assert "badge status-done" in html and 'value="in_progress"' in html  # reopen offered
    assert 'id="task-activity"' in html


@pytest.mark.parametrize("target", ["new", "bogus", ""])
def test_it_refuses_an_invalid_transition_with_400(cast: Cast, target: str) -> None:
    before = db_state()
    htmx: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
    for headers in ({}, htmx):
        response = cast.login(cast.bob).post(url("status", cast), {"to": target}, **headers)
        assert response.status_code == 400
    assert db_state() == before


def test_it_forbids_a_transition_the_role_may_not_make(cast: Cast) -> None:
    make_eve_backup(cast)
    before = db_state()
    response = cast.login(cast.eve).post(url("status", cast), {"to": "done"})
    assert response.status_code == 403
    response = cast.login(cast.bob).post(url("status", cast), {"to": "cancelled"})
    assert response.status_code == 403
    assert db_state() == before


# --- reassignment --------------------------------------------------------------------------


def test_it_lets_a_manager_reassign(cast: Cast) -> None:
    make_eve_backup(cast)
    response = cast.login(cast.dora).post(url("assign", cast), {"assignee": str(cast.eve.pk)})
    assert response.status_code == 302
    cast.task.refresh_from_db()
    assert cast.task.assignee == cast.eve


def test_it_lets_the_assignee_hand_over_and_leaves_when_the_task_is_out_of_view(
    cast: Cast,
) -> None:
    # bob sees acme's tasks as primary; after handing over he still sees it.
    response = cast.login(cast.bob).post(url("assign", cast), {"assignee": str(cast.eve.pk)})
    assert response.status_code == 302 and response["Location"] == url("detail", cast)
    cast.task.refresh_from_db()
    assert cast.task.assignee == cast.eve
    # eve sees it only as assignee: handing it back takes it out of her view.
    response = cast.login(cast.eve).post(
        url("assign", cast), {"assignee": str(cast.bob.pk)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("tasks:queue")
    cast.task.refresh_from_db()
    assert cast.task.assignee == cast.bob


def test_it_forbids_reassignment_by_an_assistant_who_is_not_the_assignee(cast: Cast) -> None:
    make_eve_backup(cast)
    before = db_state()
    response = cast.login(cast.eve).post(url("assign", cast), {"assignee": str(cast.eve.pk)})
    assert response.status_code == 403
    assert db_state() == before


def test_it_refuses_a_foreign_or_inactive_assignee(cast: Cast) -> None:
    leaver = agency_services.add_member(
        cast.alice, email="leo@alpha.test", name="Leo", role="assistant"
    )
    agency_services.update_member(cast.alice, leaver, is_active=False)
    before = db_state()
    client = cast.login(cast.dora)
    for candidate in (cast.mallory, leaver, "not-a-uuid"):
        value = candidate if isinstance(candidate, str) else str(candidate.pk)
        assert client.post(url("assign", cast), {"assignee": value}).status_code == 400
    assert db_state() == before


# --- editing -------------------------------------------------------------------------------


def test_it_edits_the_core_fields_and_records_only_what_changed(cast: Cast) -> None:
    category = Category.objects.create(
        agency=cast.agency_a, slug="travel", name_en="Travel", name_de="Reisen"
    )
    due = timezone.localtime(cast.task.due_at).strftime("%Y-%m-%dT%H:%M")
    response = cast.login(cast.bob).post(
        url("edit", cast),
        {
            "title": "Book flights to Hamburg",
            "description": cast.task.description,
            "priority": "3",
            "due_at": due,
            "category": str(category.pk),
            "estimate_minutes": "45",
        },
    )
    assert response.status_code == 302
    before_due = cast.task.due_at
    cast.task.refresh_from_db()
    assert cast.task.title == "Book flights to Hamburg" and cast.task.priority == 3
    assert cast.task.category == category and cast.task.estimate_minutes == 45
    assert cast.task.due_at == before_due  # untouched: the seconds survive
    event = TaskEvent.objects.filter(task=cast.task, kind="updated").get()
    assert set(event.data) == {"title", "priority", "category", "estimate_minutes"}


def test_it_refuses_an_invalid_edit(cast: Cast) -> None:
    foreign = Category.objects.create(agency=cast.agency_b, slug="x", name_en="X", name_de="X")
    before = db_state()
    client = cast.login(cast.bob)
    for data in (
        {"title": "", "priority": "2"},
        {"title": "Ok", "priority": "9"},
        {"title": "Ok", "priority": "2", "category": str(foreign.pk)},
        {"title": "Ok", "priority": "2", "estimate_minutes": "-5"},
    ):
        assert client.post(url("edit", cast), data).status_code == 400, data
    assert db_state() == before


# --- attachments ---------------------------------------------------------------------------


def test_it_serves_an_attachment_safely(cast: Cast) -> None:
    response = cast.login(cast.bob).get(url("attachment", cast, cast.attachment.pk))
    assert response.status_code == 200
    assert response.getvalue() == b"HAM or LBC"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="options.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_sends_a_sniffed_type_not_the_uploaded_name(cast: Cast) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    message = services.post_message(
        cast.bob, cast.task, text="Pic", files=[SimpleUploadedFile("trick.html", png, "text/html")]
    )
    stored = message.attachments.get()
    response = cast.login(cast.dora).get(url("attachment", cast, stored.pk))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="trick.html"'


def test_it_serves_a_non_ascii_filename(cast: Cast) -> None:
    message = services.post_message(
        cast.bob, cast.task, text="Plan", files=[SimpleUploadedFile("Übersicht.txt", b"plan")]
    )
    response = cast.login(cast.bob).get(url("attachment", cast, message.attachments.get().pk))
    assert "filename*=utf-8''%C3%9Cbersicht.txt" in response["Content-Disposition"]


def test_it_answers_404_when_the_stored_file_is_gone(cast: Cast) -> None:
    cast.attachment.file.delete(save=False)
    response = cast.login(cast.bob).get(url("attachment", cast, cast.attachment.pk))
    assert response.status_code == 404


def test_it_shows_due_dates_localised_and_overdue(cast: Cast) -> None:
    Task.objects.filter(pk=cast.task.pk).update(due_at=dt.datetime(2020, 7, 1, 8, 0, tzinfo=dt.UTC))
    html = cast.login(cast.bob).get(url("detail", cast), HTTP_ACCEPT_LANGUAGE="de").content
    assert "01.07.2020 10:00" in html.decode()  # Berlin summer time, German format
    assert 'class="overdue"' in html.decode()


def test_it_sanitises_stored_html_again_when_showing_it(cast: Cast) -> None:
    # A row written around the services (a bug, an import) must not reach a browser raw.
    Message.objects.filter(pk=cast.reply.pk).update(
        html='<p>Hi<script>alert("x")</script><img src=x onerror="alert(1)"></p>'
    )
    for http, path in (
        (cast.login(cast.bob), url("detail", cast)),
        (cast.login(cast.carol), f"/portal/tasks/{cast.task.pk}/"),
    ):
        page = http.get(path).content.decode()
        assert "<p>Hi</p>" in page
        assert "<script>alert" not in page and "onerror" not in page
