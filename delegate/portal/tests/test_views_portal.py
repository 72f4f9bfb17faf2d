"""The portal home: who gets in, the contact's task list, sending a new task."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from delegate.clients.models import Contact
from delegate.tasks import services
from delegate.tasks.models import Attachment, Message, Task, TaskEvent
from delegate.testing import Cast

HOME = reverse("portal:home")


@pytest.fixture(autouse=True)
def _english(settings: SettingsWrapper) -> None:
    settings.LANGUAGE_CODE = "en"


def db_state() -> tuple[Any, ...]:
    """Everything a portal request could write: row counts and every task's status."""
    return (
        Task.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        TaskEvent.objects.count(),
        tuple(Task.objects.order_by("pk").values_list("pk", "status", "title", "updated_at")),
    )


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def portal_urls(cast: Cast) -> list[str]:
    return [
        HOME,
        reverse("portal:task", args=[cast.task.pk]),
        reverse("portal:reply", args=[cast.task.pk]),
        reverse("portal:cancel", args=[cast.task.pk]),
        reverse("portal:attachment", args=[cast.task.pk, cast.attachment.pk]),
    ]


def new_task(cast: Cast, title: str, **kwargs: Any) -> Task:
    return services.create_task(
        cast.carol, client=cast.acme, title=title, channel=Task.Channel.PORTAL, **kwargs
    )


# --- who gets in -------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login(cast: Cast) -> None:
    from django.test import Client as HttpClient

    before = db_state()
    anonymous = HttpClient()
    for url in portal_urls(cast):
        for method in (anonymous.get, anonymous.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("accounts:login"))
    assert db_state() == before


@pytest.mark.parametrize("who", ["alice", "bob", "eve", "mallory"])
def test_it_refuses_staff_without_a_contact(cast: Cast, who: str) -> None:
    before = db_state()
    client = cast.login(getattr(cast, who))
    for url in portal_urls(cast):
        assert client.get(url).status_code == 403, url
    response = client.post(HOME, {"text": "Please do my taxes"})
    assert response.status_code == 403
    assert (
        client.post(reverse("portal:reply", args=[cast.task.pk]), {"text": "x"}).status_code == 403
    )
    assert client.post(reverse("portal:cancel", args=[cast.task.pk])).status_code == 403
    assert db_state() == before


def test_it_refuses_a_deactivated_contact(cast: Cast) -> None:
    Contact.objects.filter(pk=cast.carol.pk).update(is_active=False)
    before = db_state()
    client = cast.login(cast.carol)
    assert client.get(HOME).status_code == 403
    assert client.post(HOME, {"text": "Still here?"}).status_code == 403
    assert db_state() == before


# --- the task list -----------------------------------------------------------------------


def test_it_lists_only_the_contacts_own_client_tasks(cast: Cast) -> None:
    response = cast.login(cast.carol).get(HOME)
    assert response.status_code == 200
    content = response.content.decode()
    assert cast.task.title in content
    assert reverse("portal:task", args=[cast.task.pk]) in content
    assert cast.task_b.title not in content
    assert str(cast.task_b.pk) not in content

    content = cast.login(cast.gina).get(HOME).content.decode()
    assert cast.task_b.title in content
    assert cast.task.title not in content


def test_it_lists_waiting_tasks_first_then_open_then_closed(cast: Cast) -> None:
    done = new_task(cast, "Finished errand")
    services.assign_task(cast.dora, done, assistant=cast.bob)
    services.change_status(cast.bob, done, to=Task.Status.DONE)
    waiting = new_task(cast, "Question for you")
    services.assign_task(cast.dora, waiting, assistant=cast.bob)
    services.change_status(cast.bob, waiting, to=Task.Status.WAITING_ON_CLIENT)
    fresh = new_task(cast, "Fresh request")

    content = cast.login(cast.carol).get(HOME).content.decode()
    positions = [content.index(t) for t in (waiting.title, fresh.title, cast.task.title)]
    assert positions == sorted(positions)
    assert content.index(cast.task.title) < content.index(done.title)
    # The newest open task comes before the older one.
    assert content.index(fresh.title) < content.index(cast.task.title)


def test_it_filters_open_and_done(cast: Cast) -> None:
    done = new_task(cast, "Finished errand")
    services.change_status(cast.dora, done, to=Task.Status.CANCELLED)
    client = cast.login(cast.carol)

    open_page = client.get(HOME, {"show": "open"}).content.decode()
    assert cast.task.title in open_page and done.title not in open_page
    done_page = client.get(HOME, {"show": "done"}).content.decode()
    assert done.title in done_page and cast.task.title not in done_page
    for show in ("all", "nonsense"):
        page = client.get(HOME, {"show": show}).content.decode()
        assert done.title in page and cast.task.title in page


def test_it_orders_by_activity_the_client_can_see(cast: Cast) -> None:
    older = new_task(cast, "Older task")
    newer = new_task(cast, "Newer task")
    # A message to the client on the older task brings it to the top ...
    services.post_message(cast.bob, older, text="News for you")
    content = cast.login(cast.carol).get(HOME).content.decode()
    assert content.index(older.title) < content.index(newer.title)
    # ... an internal note on the other one does not.
    services.post_message(cast.bob, newer, text="psst", is_internal=True)
    content = cast.login(cast.carol).get(HOME).content.decode()
    assert content.index(older.title) < content.index(newer.title)


def test_it_paginates(cast: Cast) -> None:
    for number in range(25):
        new_task(cast, f"Errand number {number:02d}")
    client = cast.login(cast.carol)
    first = client.get(HOME).content.decode()
    second = client.get(HOME, {"page": 2}).content.decode()
    assert "Errand number 24" in first and "Errand number 24" not in second
    assert "Errand number 00" in second and "Errand number 00" not in first
    assert "page=2" in first


# --- sending a new task ------------------------------------------------------------------


def test_it_creates_a_task_with_files(cast: Cast) -> None:
    before = Task.objects.count()
    response = cast.login(cast.carol).post(
        HOME,
        {
            "text": "Please book a table for four\nat Luigi's on Friday, 8 pm.",
            "attachments": [
                SimpleUploadedFile("menu.pdf", b"%PDF-1.4 menu"),
                SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16),
            ],
        },
    )
    assert Task.objects.count() == before + 1
    task = Task.objects.latest("created_at")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:task", args=[task.pk])
    assert task.client == cast.acme
    assert task.requester == cast.carol
    assert task.channel == Task.Channel.PORTAL
    assert task.title == "Please book a table for four"
    assert task.description.startswith("Please book a table for four\nat Luigi's")
    assert task.priority == Task.Priority.NORMAL
    assert task.due_at is None
    assert sorted(task.attachments.values_list("filename", flat=True)) == ["menu.pdf", "photo.png"]
    assert task.attachments.get(filename="photo.png").content_type == "image/png"
    assert list(task.events.filter(kind=TaskEvent.Kind.CREATED).values_list("data", flat=True)) == [
        {"channel": "portal"}
    ]
    assert len(stored_files()) == Attachment.objects.count()


def test_it_keeps_an_explicit_title_urgency_and_due_date_in_the_clients_time_zone(
    cast: Cast,
) -> None:
    cast.acme.time_zone = "America/New_York"
    cast.acme.save()
    cast.login(cast.carol).post(
        HOME,
        {
            "title": "Tax papers",
            "text": "All of them",
            "due_at": "2031-06-01T09:30",
            "is_urgent": "on",
        },
    )
    task = Task.objects.latest("created_at")
    assert task.title == "Tax papers"
    assert task.priority == Task.Priority.URGENT
    assert task.due_at == dt.datetime(
        2031, 6, 1, 9, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York")
    )


def test_it_shortens_a_long_first_line_into_the_title(cast: Cast) -> None:
    text = "\n\n  " + "word " * 80 + "\nsecond line"
    cast.login(cast.carol).post(HOME, {"text": text})
    task = Task.objects.latest("created_at")
    assert len(task.title) == 200
    assert task.title.startswith("word word")
    assert task.title.endswith("…")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "  ", "title": ""}, "Tell us what you need"),
        ({"text": "Too late", "due_at": "2001-01-01T10:00"}, "The due date lies in the past."),
        ({"text": "Whenever", "due_at": "tomorrowish"}, "Enter a valid date/time."),
        ({"text": "x", "title": "t" * 201}, "at most 200 characters"),
    ],
)
def test_it_rejects_bad_input_and_writes_nothing(
    cast: Cast, data: dict[str, str], message: str
) -> None:
    before = db_state()
    response = cast.login(cast.carol).post(HOME, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert db_state() == before


def test_it_rejects_an_oversize_file_and_writes_nothing(
    cast: Cast, settings: SettingsWrapper
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024
    files_before = stored_files()
    before = db_state()
    response = cast.login(cast.carol).post(
        HOME,
        {
            "text": "Scan attached",
            "attachments": [
                SimpleUploadedFile("small.txt", b"fine"),
                SimpleUploadedFile("scan.pdf", b"%PDF" + b"x" * 2000),
            ],
        },
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "scan.pdf is larger than" in content
    assert 'class="errorlist' in content
    assert db_state() == before
    assert stored_files() == files_before


def test_it_rejects_too_many_files(cast: Cast) -> None:
    before = db_state()
    files = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(11)]
    response = cast.login(cast.carol).post(HOME, {"text": "Lots", "attachments": files})
    assert response.status_code == 400
    assert "at most 10 files" in response.content.decode()
    assert db_state() == before


def test_it_creates_tasks_only_for_the_contacts_own_client(cast: Cast) -> None:
    # A forged client field is ignored: the task belongs to gina's client.
    cast.login(cast.gina).post(HOME, {"text": "Invoice run", "client": str(cast.acme.pk)})
    task = Task.objects.latest("created_at")
    assert task.client == cast.globex
    assert task.agency == cast.agency_b
    assert cast.acme.tasks.filter(title="Invoice run").count() == 0


def test_it_leaves_due_dates_for_the_future(cast: Cast) -> None:
    due = timezone.localtime(
        timezone.now() + dt.timedelta(days=3), zoneinfo.ZoneInfo("Europe/Berlin")
    )
    response = cast.login(cast.carol).post(
        HOME, {"text": "Soon", "due_at": due.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    task = Task.objects.latest("created_at")
    assert task.due_at is not None
    assert abs(task.due_at - due) < dt.timedelta(minutes=1)
