from __future__ import annotations

import pytest

from delegate.api.tests.conftest import Api
from delegate.tasks.models import Message, TaskEvent
from delegate.testing import Cast

pytestmark = pytest.mark.django_db


def test_it_lists_the_conversation_oldest_first(cast: Cast, bob_api: Api) -> None:
    response = bob_api.get(f"/tasks/{cast.task.pk}/messages")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [m["id"] for m in items] == [str(cast.note.pk), str(cast.reply.pk)]
    assert items[0]["is_internal"] is True and items[0]["direction"] == "internal"
    assert items[1]["author_member"] == str(cast.bob.pk)
    assert items[1]["author_name"] == "Bob Becker"
    assert items[1]["task"] == str(cast.task.pk)


def test_it_gets_one_message_only_under_its_own_task(cast: Cast, alice_api: Api) -> None:
    response = alice_api.get(f"/tasks/{cast.task.pk}/messages/{cast.reply.pk}")
    assert response.status_code == 200 and response.json()["text"] == cast.reply.text
    from delegate.tasks.services import create_task

    other = create_task(cast.alice, client=cast.acme, title="Other", channel="api")
    assert alice_api.get(f"/tasks/{other.pk}/messages/{cast.reply.pk}").status_code == 404


def test_it_posts_a_reply_with_sanitised_html(cast: Cast, bob_api: Api) -> None:
    response = bob_api.post(f"/tasks/{cast.task.pk}/messages", {
        "text": "Done, see below", "html": '<p onclick="x()">Done<script>alert(1)</script></p>',
    })  # fmt: skip
    assert response.status_code == 201, response.json()
    message = Message.objects.get(pk=response.json()["id"])
    assert message.direction == "outbound" and not message.is_internal
    assert message.channel == "api" and message.author_member == cast.bob
    assert "script" not in message.html and "onclick" not in message.html
    assert response.json()["html"] == message.html
    assert TaskEvent.objects.filter(task=cast.task, kind="message").count() == 2


def test_it_posts_an_internal_note(cast: Cast, bob_api: Api) -> None:
    response = bob_api.post(f"/tasks/{cast.task.pk}/messages", {"text": "hm", "is_internal": True})
    assert response.status_code == 201
    assert response.json()["direction"] == "internal" and response.json()["is_internal"]


def test_it_refuses_an_empty_message(cast: Cast, bob_api: Api) -> None:
    before = Message.objects.count()
    response = bob_api.post(f"/tasks/{cast.task.pk}/messages", {"text": "   "})
    assert response.status_code == 422
    assert "text" in response.json()["errors"]
    assert Message.objects.count() == before


def _note_url(cast: Cast, message: Message) -> str:
    return f"/tasks/{cast.task.pk}/messages/{message.pk}"


def test_it_lets_the_author_correct_an_internal_note(cast: Cast, bob_api: Api) -> None:
    response = bob_api.patch(_note_url(cast, cast.note), {"text": "Client prefers window seats."})
    assert response.status_code == 200, response.content
    assert response.json()["text"] == "Client prefers window seats."
    cast.note.refresh_from_db()
    assert cast.note.text == "Client prefers window seats."
    event = TaskEvent.objects.filter(task=cast.task).latest("id")
    assert event.kind == "updated"
    assert event.data["note_text"] == [
        "Client prefers aisle seats.",
        "Client prefers window seats.",
    ]


def test_it_keeps_what_was_said_to_or_by_the_client(cast: Cast, bob_api: Api) -> None:
    events = TaskEvent.objects.count()
    response = bob_api.patch(_note_url(cast, cast.reply), {"text": "I never said that"})
    assert response.status_code == 409
    cast.reply.refresh_from_db()
    assert cast.reply.text == "Which airport do you prefer?"
    assert TaskEvent.objects.count() == events


def test_it_refuses_someone_elses_note_and_outsiders(
    cast: Cast, alice_api: Api, mallory_api: Api
) -> None:
    assert alice_api.patch(_note_url(cast, cast.note), {"text": "x"}).status_code == 403
    assert mallory_api.patch(_note_url(cast, cast.note), {"text": "x"}).status_code == 404
    assert alice_api.patch(_note_url(cast, cast.note), {"text": ""}).status_code == 422
    cast.note.refresh_from_db()
    assert cast.note.text == "Client prefers aisle seats."
