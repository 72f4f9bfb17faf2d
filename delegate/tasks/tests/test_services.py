from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from delegate.tasks import services
from delegate.tasks.models import AppendOnlyError, Attachment, Message, Task, TaskEvent
from delegate.tasks.status import TransitionError, TransitionForbidden
from delegate.testing import Cast

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def _media_files(settings: object) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)  # type: ignore[attr-defined]
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_it_creates_a_task_with_event_and_files(cast: Cast) -> None:
    task = services.create_task(
        cast.carol,
        client=cast.acme,
        title="  Scan receipts ",
        channel="portal",
        files=[
            SimpleUploadedFile("photo.jpg", PNG, content_type="image/jpeg"),
            SimpleUploadedFile("doc.bin", PDF),
        ],
    )
    assert task.title == "Scan receipts"
    assert task.requester == cast.carol
    assert task.language == "de"
    assert task.events.filter(kind="created").count() == 1
    types = sorted(Attachment.objects.filter(task=task).values_list("content_type", flat=True))
    # Sniffed from the bytes, not from the claimed name or type.
    assert types == ["application/pdf", "image/png"]


def test_it_refuses_a_contact_creating_for_another_client(cast: Cast) -> None:
    before = Task.objects.count()
    with pytest.raises(PermissionDenied):
        services.create_task(cast.carol, client=cast.globex, title="x", channel="portal")
    with pytest.raises(PermissionDenied):
        services.create_task(cast.gina, client=cast.acme, title="x", channel="portal")
    assert Task.objects.count() == before


def test_it_validates_requester_and_title(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.create_task(
            cast.alice, client=cast.acme, title="x", channel="desk", requester=cast.gina
        )
    with pytest.raises(ValidationError):
        services.create_task(cast.alice, client=cast.acme, title="   ", channel="desk")
    with pytest.raises(ValidationError):
        services.create_task(cast.alice, client=cast.acme, title="x", channel="pigeon")


@override_settings(ATTACHMENT_MAX_BYTES=1000)
def test_it_writes_nothing_for_an_oversize_attachment(cast: Cast, settings: object) -> None:
    tasks, files = Task.objects.count(), len(_media_files(settings))
    with pytest.raises(ValidationError):
        services.create_task(
            cast.carol,
            client=cast.acme,
            title="Big",
            channel="portal",
            files=[SimpleUploadedFile("ok.txt", b"ok"), SimpleUploadedFile("big.bin", b"x" * 1001)],
        )
    assert Task.objects.count() == tasks
    assert len(_media_files(settings)) == files


def test_it_removes_stored_files_when_the_write_fails(
    cast: Cast, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, messages = len(_media_files(settings)), Message.objects.count()

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record_event", explode)
    with pytest.raises(RuntimeError):
        services.post_message(
            cast.bob, cast.task, text="see file", files=[SimpleUploadedFile("a.txt", b"hello")]
        )
    assert Message.objects.count() == messages
    assert len(_media_files(settings)) == files


def test_it_reopens_a_task_when_the_client_replies(cast: Cast) -> None:
    task = services.change_status(cast.bob, cast.task, to="in_progress")
    task = services.change_status(cast.bob, task, to="waiting_on_client")
    services.post_message(cast.carol, task, text="Hamburg airport please")
    task.refresh_from_db()
    assert task.status == "in_progress"
    message = task.messages.latest("created_at")
    assert message.direction == "inbound"
    assert message.author_contact == cast.carol


def test_it_refuses_internal_notes_from_contacts(cast: Cast) -> None:
    before = Message.objects.count()
    with pytest.raises(PermissionDenied):
        services.post_message(cast.carol, cast.task, text="psst", is_internal=True)
    with pytest.raises(ValidationError):
        services.post_message(cast.carol, cast.task, text="   ")
    assert Message.objects.count() == before


def test_it_sanitises_html(cast: Cast) -> None:
    message = services.post_message(
        cast.bob,
        cast.task,
        text="hi",
        html='<p onclick="x()">Hi <script>alert(1)</script><a href="https://a.example">a</a></p>',
    )
    assert "<script" not in message.html
    assert "onclick" not in message.html
    assert 'rel="noopener noreferrer nofollow"' in message.html


def test_it_assigns_and_hands_over(cast: Cast) -> None:
    services.update_task(cast.alice, cast.task)  # no change, no event
    task = services.assign_task(cast.bob, cast.task, assistant=cast.eve, reason="handover")
    assert task.assignee == cast.eve
    event = task.events.latest("id")
    assert event.kind == "assigned"
    assert event.data["reason"] == "handover"
    # bob is no longer the assignee and only sees the client as primary: he may not assign.
    with pytest.raises(TransitionForbidden):
        services.assign_task(cast.bob, task, assistant=cast.bob)


def test_it_refuses_assigning_outside_the_agency(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.assign_task(cast.alice, cast.task, assistant=cast.mallory)
    with pytest.raises(PermissionDenied):
        services.assign_task(cast.mallory, cast.task, assistant=cast.mallory)
    cast.task.refresh_from_db()
    assert cast.task.assignee == cast.bob


def test_it_refuses_assigning_closed_tasks(cast: Cast) -> None:
    task = services.change_status(cast.alice, cast.task, to="cancelled")
    with pytest.raises(TransitionError):
        services.assign_task(cast.alice, task, assistant=cast.eve)


def test_it_records_field_changes(cast: Cast) -> None:
    task = services.update_task(cast.bob, cast.task, title="Book flight HAM", priority=4)
    event = task.events.latest("id")
    assert event.kind == "updated"
    assert event.data["title"] == ["Book a flight to Hamburg", "Book flight HAM"]
    assert event.data["priority"] == [2, 4]
    with pytest.raises(ValidationError):
        services.update_task(cast.bob, task, status="done")
    with pytest.raises(PermissionDenied):
        services.update_task(cast.carol, task, title="mine now")


def test_it_keeps_events_append_only(cast: Cast) -> None:
    event = TaskEvent.objects.filter(task=cast.task).first()
    assert event is not None
    event.data = {"forged": True}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    event.refresh_from_db()
    assert "forged" not in event.data


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        ("Grüße".encode(), "text/plain"),
        (b"\x00\x01\x02\xff\xfe", "application/octet-stream"),
    ],
)
def test_it_sniffs_content_types(head: bytes, expected: str) -> None:
    assert services.sniff_content_type(head) == expected


def test_it_sends_a_reply_on_an_unassigned_task_back_to_triage(cast: Cast) -> None:
    task = services.change_status(cast.bob, cast.task, to="waiting_on_client")
    task = services.assign_task(cast.dora, task, assistant=None)
    assert task.status == "triaged"
    task = services.change_status(cast.dora, task, to="cancelled")
    task = services.change_status(cast.dora, task, to="triaged")
    services.post_message(cast.carol, task, text="Still needed?")
    task.refresh_from_db()
    assert task.status == "triaged"
    assert task.messages.filter(direction="inbound").count() == 1


def test_it_reopens_a_done_task_without_assignee_into_triage(cast: Cast) -> None:
    task = services.change_status(cast.bob, cast.task, to="done")
    Task.objects.filter(pk=task.pk).update(assignee=None)  # the assistant left the agency
    services.post_message(cast.carol, task, text="One more thing")
    task.refresh_from_db()
    assert task.status == "triaged"


def test_it_creates_many_tasks_with_events_and_skills(cast: Cast) -> None:
    from delegate.agencies.services import get_or_create_skill

    skill = get_or_create_skill(cast.alice, "Travel booking")
    specs = [
        services.NewTask(
            client=cast.acme,
            title=f"Bulk {i}",
            channel="api",
            required_skills=[skill] if i % 2 else [],
        )
        for i in range(5)
    ]
    tasks = services.create_tasks(cast.alice, specs)
    assert [t.title for t in tasks] == [f"Bulk {i}" for i in range(5)]
    stored = Task.objects.filter(title__startswith="Bulk ")
    assert stored.count() == 5
    assert stored.filter(required_skills=skill).count() == 2
    assert TaskEvent.objects.filter(task__in=stored, kind="created").count() == 5
    assert all(t.created_at is not None and t.code for t in stored)


def test_it_creates_no_task_of_a_batch_with_one_bad_spec(cast: Cast) -> None:
    specs = [
        services.NewTask(client=cast.acme, title="Good", channel="api"),
        services.NewTask(client=cast.acme, title="Bad", channel="api", requester=cast.gina),
    ]
    with pytest.raises(ValidationError):
        services.create_tasks(cast.alice, specs)
    with pytest.raises(PermissionDenied):
        services.create_tasks(cast.alice, [services.NewTask(client=cast.globex, title="x",
                                                            channel="api")])  # fmt: skip
    assert not Task.objects.filter(title__in=["Good", "Bad", "x"]).exists()


def test_it_refuses_rewriting_events_in_the_database(cast: Cast) -> None:
    from django.db import DatabaseError, transaction

    from delegate.tasks.models import history_rewrite

    event = TaskEvent.objects.filter(task=cast.task).first()
    assert event is not None
    # Even code that bypasses the model cannot change the trail, on either database.
    with pytest.raises(DatabaseError), transaction.atomic():
        TaskEvent.objects.filter(pk=event.pk).update(kind="forged")
    event.refresh_from_db()
    assert event.kind != "forged"
    # Rewriting on purpose is possible, inside one transaction only.
    with transaction.atomic(), history_rewrite():
        TaskEvent.objects.filter(pk=event.pk).update(data={"rewritten": True})
    event.refresh_from_db()
    assert event.data == {"rewritten": True}
    with pytest.raises(DatabaseError), transaction.atomic():
        TaskEvent.objects.filter(pk=event.pk).update(kind="forged")
    event.refresh_from_db()
    assert event.kind != "forged"
    # Deleting stays possible, so erasing a task can cascade to its trail.
    TaskEvent.objects.filter(pk=event.pk).delete()
    assert not TaskEvent.objects.filter(pk=event.pk).exists()


def test_it_rewrites_history_only_inside_a_transaction() -> None:
    from delegate.tasks.models import history_rewrite

    with pytest.raises(RuntimeError), history_rewrite():
        pass
