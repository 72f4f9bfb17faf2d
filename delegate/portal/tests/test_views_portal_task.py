"""The portal task page: what a client sees, replying, cancelling, downloading files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from delegate.clients import services as client_services
from delegate.portal.tests.test_views_portal import db_state, stored_files
from delegate.tasks import services
from delegate.tasks.models import Message, Task, TaskEvent
from delegate.testing import Cast

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _english(settings: SettingsWrapper) -> None:
    settings.LANGUAGE_CODE = "en"


def task_url(task: Task) -> str:
    return reverse("portal:task", args=[task.pk])


def reply_url(task: Task) -> str:
    return reverse("portal:reply", args=[task.pk])


def cancel_url(task: Task) -> str:
    return reverse("portal:cancel", args=[task.pk])


def task_in(cast: Cast, status: str) -> Task:
    """A fresh acme task brought into ``status`` the way the team would."""
    task = services.create_task(
        cast.carol, client=cast.acme, title=f"Errand {status}", channel=Task.Channel.PORTAL
    )
    if status == Task.Status.NEW:
        return task
    if status == Task.Status.TRIAGED:
        return services.change_status(cast.dora, task, to=Task.Status.TRIAGED)
    task = services.assign_task(cast.dora, task, assistant=cast.bob)
    if status != Task.Status.ASSIGNED:
        task = services.change_status(cast.bob, task, to=status)
    return task


# --- outsiders ---------------------------------------------------------------------------


def test_it_hides_another_clients_task_from_a_contact(cast: Cast) -> None:
    before = db_state()
    files_before = stored_files()
    gina = cast.login(cast.gina)
    assert gina.get(task_url(cast.task)).status_code == 404
    assert gina.post(reply_url(cast.task), {"text": "Hello from Globex"}).status_code == 404
    assert gina.post(reply_url(cast.task), {"text": "htmx"}, headers=HTMX).status_code == 404
    assert gina.post(cancel_url(cast.task)).status_code == 404
    for attachment in (cast.attachment, cast.internal_attachment):
        url = reverse("portal:attachment", args=[cast.task.pk, attachment.pk])
        assert gina.get(url).status_code == 404
        # Nor through her own task's URL.
        url = reverse("portal:attachment", args=[cast.task_b.pk, attachment.pk])
        assert gina.get(url).status_code == 404
    assert db_state() == before
    assert stored_files() == files_before
    cast.task.refresh_from_db()
    assert cast.task.status == Task.Status.ASSIGNED


def test_it_answers_unknown_ids_with_404(cast: Cast) -> None:
    carol = cast.login(cast.carol)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert carol.get(f"/portal/tasks/{unknown}/").status_code == 404
    assert carol.get(f"/portal/tasks/{cast.task.pk}/attachments/{unknown}/").status_code == 404
    assert carol.get("/portal/tasks/12/").status_code == 404


# --- the page ------------------------------------------------------------------------------


def test_it_shows_the_task_without_anything_internal(cast: Cast) -> None:
    response = cast.login(cast.carol).get(task_url(cast.task))
    assert response.status_code == 200
    content = response.content.decode()
    assert cast.task.title in content
    assert "Next Tuesday morning" in content  # the description
    assert "Which airport do you prefer?" in content  # the reply
    assert reverse("portal:attachment", args=[cast.task.pk, cast.attachment.pk]) in content
    assert "options.txt" in content
    assert "Bob" in content and "Becker" not in content  # assignee by first name
    assert "status-assigned" in content
    # Nothing of the internal note: text, file name, link, ids, events.
    assert cast.note.text not in content
    assert "aisle" not in content
    assert "internal.txt" not in content
    assert str(cast.internal_attachment.pk) not in content
    assert str(cast.note.pk) not in content
    assert "internal note" not in content.lower()


def test_it_leaves_internal_activity_out(cast: Cast) -> None:
    services.change_status(cast.bob, cast.task, to=Task.Status.IN_PROGRESS, note="VIP, hurry")
    services.assign_task(cast.dora, cast.task, assistant=cast.eve, reason="Bob is off sick")
    kinds = set(cast.task.events.values_list("kind", flat=True))
    assert {TaskEvent.Kind.NOTE, TaskEvent.Kind.ATTACHMENT} <= kinds
    content = cast.login(cast.carol).get(task_url(cast.task)).content.decode()
    activity = content[content.index('<ul class="events">') :]
    activity = activity[: activity.index("</ul>")]
    # created, handed to bob, in progress, handed to eve: nothing about notes or files.
    assert activity.count("<li>") == 4
    assert "handed the task to Eve" in content
    assert "In progress" in content
    assert "VIP, hurry" not in content
    assert "Bob is off sick" not in content
    assert "secret" not in content


def activity_lines(content: str) -> list[str]:
    import re

    block = content[content.index('<ul class="events">') :]
    block = block[: block.index("</ul>")]
    return [re.sub(r"^.*?· ", "", line) for line in re.findall(r"<li>(.*?)</li>", block, re.S)]


def test_it_tells_the_activity_in_whole_sentences_in_both_languages(cast: Cast) -> None:
    task = task_in(cast, Task.Status.IN_PROGRESS)  # carol created it; dora, bob acted
    carol = cast.login(cast.carol)
    english = activity_lines(carol.get(task_url(task)).content.decode())
    assert english == [  # newest first
        "Bob changed the status to “In progress”.",
        "Dora handed the task to Bob.",
        "You created the task.",
    ]
    german = activity_lines(
        carol.get(task_url(task), headers={"Accept-Language": "de"}).content.decode()
    )
    assert german == [
        "Bob hat den Status auf „In Arbeit“ geändert.",
        "Dora hat die Aufgabe an Bob übergeben.",
        "Sie haben die Aufgabe erstellt.",
    ]
    # Another contact of the same client is named, not addressed as "you".
    colleague = client_services.create_contact(
        cast.alice, cast.acme, name="Paul Partner", emails=["paul@acme.test"]
    )
    theirs = services.create_task(
        colleague, client=cast.acme, title="From Paul", channel=Task.Channel.PORTAL
    )
    services.change_status(cast.carol, theirs, to=Task.Status.CANCELLED)
    assert activity_lines(carol.get(task_url(theirs)).content.decode()) == [
        "You changed the status to “Cancelled”.",
        "Paul Partner created the task.",
    ]


def test_it_offers_cancelling_only_where_the_client_may(cast: Cast) -> None:
    carol = cast.login(cast.carol)
    assert cancel_url(cast.task) in carol.get(task_url(cast.task)).content.decode()
    busy = task_in(cast, Task.Status.IN_PROGRESS)
    assert cancel_url(busy) not in carol.get(task_url(busy)).content.decode()


# --- replying ------------------------------------------------------------------------------


def test_it_reopens_a_task_waiting_on_the_client_when_she_replies(cast: Cast) -> None:
    task = task_in(cast, Task.Status.WAITING_ON_CLIENT)
    response = cast.login(cast.carol).post(reply_url(task), {"text": "Hamburg, please."})
    assert response.status_code == 302
    assert response["Location"].startswith(task_url(task))
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS
    message = task.messages.get()
    assert message.text == "Hamburg, please."
    assert message.direction == Message.Direction.INBOUND
    assert message.author_contact == cast.carol
    assert message.channel == Task.Channel.PORTAL
    assert not message.is_internal


def test_it_replies_with_files(cast: Cast) -> None:
    response = cast.login(cast.carol).post(
        reply_url(cast.task),
        {"text": "", "attachments": [SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n1234")]},
    )
    assert response.status_code == 302
    message = cast.task.messages.latest("created_at")
    assert message.author_contact == cast.carol
    assert list(message.attachments.values_list("filename", "content_type")) == [
        ("id.png", "image/png")
    ]


def test_it_swaps_the_conversation_after_an_htmx_reply(cast: Cast) -> None:
    task = task_in(cast, Task.Status.WAITING_ON_CLIENT)
    response = cast.login(cast.carol).post(reply_url(task), {"text": "Aisle, thanks"}, headers=HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.lstrip().startswith('<section id="conversation"')
    assert "Aisle, thanks" in content
    # The facts come along out of band: the reply reopened the task.
    assert 'id="task-facts"' in content and 'hx-swap-oob="true"' in content
    assert "status-in_progress" in content
    assert cast.note.text not in content


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_it_rejects_an_empty_reply_and_writes_nothing(cast: Cast, headers: dict[str, str]) -> None:
    task = task_in(cast, Task.Status.WAITING_ON_CLIENT)
    before = db_state()
    response = cast.login(cast.carol).post(reply_url(task), {"text": "   "}, headers=headers)
    assert response.status_code == 400
    assert "Write a message or attach a file." in response.content.decode()
    assert db_state() == before
    task.refresh_from_db()
    assert task.status == Task.Status.WAITING_ON_CLIENT


def test_it_rejects_an_oversize_reply_file_and_writes_nothing(
    cast: Cast, settings: SettingsWrapper
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    task = task_in(cast, Task.Status.WAITING_ON_CLIENT)
    before = db_state()
    files_before = stored_files()
    response = cast.login(cast.carol).post(
        reply_url(task),
        {"text": "See scan", "attachments": [SimpleUploadedFile("scan.pdf", b"x" * 101)]},
    )
    assert response.status_code == 400
    assert "scan.pdf is larger than" in response.content.decode()
    assert db_state() == before
    assert stored_files() == files_before


def test_it_refuses_get_on_write_urls(cast: Cast) -> None:
    carol = cast.login(cast.carol)
    assert carol.get(reply_url(cast.task)).status_code == 405
    assert carol.get(cancel_url(cast.task)).status_code == 405


# --- cancelling ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        Task.Status.NEW,
        Task.Status.TRIAGED,
        Task.Status.ASSIGNED,
        Task.Status.WAITING_ON_CLIENT,
    ],
)
def test_it_lets_the_client_cancel_before_work_starts(cast: Cast, status: str) -> None:
    task = task_in(cast, status)
    response = cast.login(cast.carol).post(cancel_url(task))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == Task.Status.CANCELLED
    event = task.events.filter(kind=TaskEvent.Kind.STATUS_CHANGED).latest("created_at")
    assert event.data == {"from": status, "to": "cancelled"}
    assert event.actor_contact == cast.carol


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (Task.Status.IN_PROGRESS, 403, "can no longer be cancelled here"),
        (Task.Status.DONE, 400, "cannot be cancelled any more"),
    ],
)
def test_it_refuses_to_cancel_once_work_started(
    cast: Cast, status: str, code: int, message: str
) -> None:
    task = task_in(cast, status)
    before = db_state()
    response = cast.login(cast.carol).post(cancel_url(task))
    assert response.status_code == code
    assert message in response.content.decode()
    assert db_state() == before


# --- downloads -----------------------------------------------------------------------------


def download(cast: Cast, task: Task, attachment: Any) -> Any:
    url = reverse("portal:attachment", args=[task.pk, attachment.pk])
    return cast.login(cast.carol).get(url)


def test_it_downloads_a_visible_attachment(cast: Cast) -> None:
    response = download(cast, cast.task, cast.attachment)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"HAM or LBC"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="options.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_serves_the_sniffed_type_not_the_name(cast: Cast) -> None:
    services.post_message(
        cast.bob,
        cast.task,
        text="See picture",
        files=[SimpleUploadedFile("page.html", b"\x89PNG\r\n\x1a\n<script>", "text/html")],
    )
    attachment = cast.task.attachments.get(filename="page.html")
    response = download(cast, cast.task, attachment)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")


def test_it_hides_internal_attachments_from_the_client(cast: Cast) -> None:
    assert download(cast, cast.task, cast.internal_attachment).status_code == 404


def test_it_serves_attachments_only_under_their_own_task(cast: Cast) -> None:
    other = task_in(cast, Task.Status.NEW)
    assert download(cast, other, cast.attachment).status_code == 404
