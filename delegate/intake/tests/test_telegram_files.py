"""Telegram photos, documents and voice notes: fetched through ``getFile`` and the file
download of a local server with the Bot API's shapes, stored as the task's attachments;
a failed download leaves the message failed and retryable, never a task without its file."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from delegate.clients.models import Contact, ContactIdentity
from delegate.intake import services
from delegate.intake.models import InboundMessage
from delegate.intake.tests import providers
from delegate.intake.tests.providers import FakeProvider
from delegate.intake.tests.test_telegram import CHAT, _post, _update
from delegate.tasks.models import Attachment, Task
from delegate.testing import Cast


@pytest.fixture
def carol_chat(cast: Cast) -> Cast:
    ContactIdentity.objects.create(
        agency=cast.agency_a, contact=cast.carol, kind="telegram", value=str(CHAT)
    )
    return cast


def _with(update_id: int, caption: str = "", **fields: Any) -> dict[str, Any]:
    update = _update(update_id, "")
    message = update["message"]
    del message["text"]
    if caption:
        message["caption"] = caption
    message.update(fields)
    return update


def _process(update_id: int) -> InboundMessage:
    inbound = InboundMessage.objects.get(channel="telegram", dedupe_key=str(update_id))
    services.process_inbound(inbound.pk)
    inbound.refresh_from_db()
    return inbound


def _files(task: Task | None) -> dict[str, bytes]:
    assert task is not None
    result = {}
    for attachment in Attachment.objects.filter(task=task):
        with attachment.file.open("rb") as stored:
            result[attachment.filename] = stored.read()
    return result


def _downloads(fake: FakeProvider) -> list[str]:
    return [r.path for r in fake.requests if r.path.startswith("/file/")]


def test_a_photo_with_a_caption_becomes_a_task_with_the_largest_size(
    carol_chat: Cast, telegram: FakeProvider
) -> None:
    sizes = [("small", 90, 60), ("medium", 320, 240), ("large", 1280, 960)]
    for file_id, width, _height in sizes:
        telegram.files[file_id] = f"photos/{file_id}.jpg"
        telegram.media[f"photos/{file_id}.jpg"] = f"JPEG {width}".encode()
    photo = [
        {"file_id": i, "file_unique_id": f"u{i}", "width": w, "height": h, "file_size": 7}
        for i, w, h in reversed(sizes)  # the order is Telegram's business, not ours
    ]
    update = _with(11, caption="Bitte diese Rechnung bezahlen", photo=photo)
    assert _post(update) == 200
    assert _post(update) == 200  # delivered again: stored once
    assert InboundMessage.objects.filter(channel="telegram").count() == 1

    inbound = _process(11)
    assert (inbound.state, inbound.error) == ("attached", "")
    task = inbound.task
    assert task is not None and task.requester == carol_chat.carol
    assert task.title == "Bitte diese Rechnung bezahlen"
    assert _files(task) == {"photo-11.jpg": b"JPEG 1280"}
    assert _downloads(telegram) == [f"/file/bot{providers.TELEGRAM_TOKEN}/photos/large.jpg"]


def test_a_document_and_a_voice_note_keep_their_names_and_bytes(
    carol_chat: Cast, telegram: FakeProvider
) -> None:
    telegram.files |= {"doc1": "documents/file_7.pdf", "voice1": "voice/file_8.oga"}
    telegram.media |= {"documents/file_7.pdf": b"%PDF-1.7 Vertrag", "voice/file_8.oga": b"OggS"}
    document = {"file_id": "doc1", "file_unique_id": "ud", "file_name": "Vertrag 2027.pdf"}
    _post(_with(21, document=document | {"mime_type": "application/pdf", "file_size": 16}))
    task = _process(21).task
    assert _files(task) == {"Vertrag 2027.pdf": b"%PDF-1.7 Vertrag"}

    # A voice note in the same chat: a new request (the task is not waiting on Carol).
    _post(_with(22, voice={"file_id": "voice1", "file_unique_id": "uv", "duration": 3}))
    inbound = _process(22)
    assert inbound.state == "attached"
    assert _files(inbound.task) == {"voice-22.oga": b"OggS"}


def test_a_failed_download_leaves_the_message_failed_then_a_retry_attaches_it(
    carol_chat: Cast, telegram: FakeProvider
) -> None:
    telegram.files["doc9"] = "documents/file_9.pdf"  # known to getFile, download 404
    document = {"file_id": "doc9", "file_unique_id": "u9", "file_name": "Scan.pdf"}
    _post(_with(31, caption="Scan anbei", document=document))
    inbound = _process(31)
    assert inbound.state == InboundMessage.State.FAILED
    assert "HTTP 404" in inbound.error
    assert providers.TELEGRAM_TOKEN not in inbound.error  # the token never reaches the UI
    assert not Task.objects.filter(channel="telegram").exists()

    telegram.media["documents/file_9.pdf"] = b"%PDF scan"
    services.retry_inbound(None, inbound)
    inbound = _process(31)
    assert inbound.state == "attached"
    assert _files(inbound.task) == {"Scan.pdf": b"%PDF scan"}
    assert Task.objects.filter(channel="telegram").count() == 1


def test_files_over_the_limit_are_not_fetched_and_the_task_says_so(
    carol_chat: Cast, telegram: FakeProvider, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    telegram.files |= {"big": "documents/big.zip", "liar": "documents/liar.bin"}
    telegram.media |= {"documents/big.zip": b"x" * 2000, "documents/liar.bin": b"y" * 5000}
    # Announced too big: not even asked for.
    big = {"file_id": "big", "file_unique_id": "ub", "file_name": "big.zip", "file_size": 2000}
    _post(_with(41, caption="Archiv", document=big))
    inbound = _process(41)
    assert inbound.state == "attached"
    assert _files(inbound.task) == {}
    assert inbound.task is not None
    assert "big.zip was not fetched: files may be at most" in inbound.task.description
    assert not [r for r in telegram.requests if b'"big"' in r.body]

    # Sizes not announced, neither in the message nor by getFile: the read is bounded.
    telegram.unsized.add("liar")
    liar = {"file_id": "liar", "file_unique_id": "ul", "file_name": "liar.bin"}
    _post(_with(42, caption="Noch eins", document=liar))
    inbound = _process(42)
    assert (inbound.state, _files(inbound.task)) == ("attached", {})
    assert inbound.task is not None and "liar.bin was not fetched" in inbound.task.description
    assert _downloads(telegram) == [f"/file/bot{providers.TELEGRAM_TOKEN}/documents/liar.bin"]


def test_a_photo_picks_the_largest_size_within_the_limit(
    carol_chat: Cast, telegram: FakeProvider, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    telegram.files |= {"s": "photos/s.jpg", "l": "photos/l.jpg"}
    telegram.media |= {"photos/s.jpg": b"small", "photos/l.jpg": b"L" * 3000}
    photo = [
        {"file_id": "s", "file_unique_id": "us", "width": 90, "height": 90, "file_size": 5},
        {"file_id": "l", "file_unique_id": "ul", "width": 900, "height": 900, "file_size": 3000},
    ]
    _post(_with(51, photo=photo))
    inbound = _process(51)
    assert _files(inbound.task) == {"photo-51.jpg": b"small"}


def test_the_photos_of_an_album_make_one_task(carol_chat: Cast, telegram: FakeProvider) -> None:
    for n in (1, 2, 3):
        telegram.files[f"p{n}"] = f"photos/p{n}.jpg"
        telegram.media[f"photos/p{n}.jpg"] = b"JPEG %d" % n
    for n in (1, 2, 3):  # one update per photo; only the first carries the caption
        size = {"file_id": f"p{n}", "file_unique_id": f"u{n}", "width": 9, "height": 9}
        caption = "Belege März" if n == 1 else ""
        _post(_with(60 + n, caption=caption, photo=[size], media_group_id="13579"))
        assert _process(60 + n).state == "attached"
    task = Task.objects.get(channel="telegram")
    assert task.title == "Belege März"
    assert _files(task) == {f"photo-{60 + n}.jpg": b"JPEG %d" % n for n in (1, 2, 3)}
    # Another album is another request.
    telegram.files["q"], telegram.media["photos/q.jpg"] = "photos/q.jpg", b"JPEG q"
    size = {"file_id": "q", "file_unique_id": "uq", "width": 9, "height": 9}
    _post(_with(70, caption="Neues", photo=[size], media_group_id="24680"))
    _process(70)
    assert Task.objects.filter(channel="telegram").count() == 2


def test_an_album_arriving_in_one_batch_makes_one_task(
    carol_chat: Cast, telegram: FakeProvider
) -> None:
    """The photos of an album arrive within milliseconds, so one worker batch usually
    holds them all: each must find the task the one before it made."""
    from delegate.intake.services import process_pending

    for n in (1, 2, 3):
        telegram.files[f"b{n}"] = f"photos/b{n}.jpg"
        telegram.media[f"photos/b{n}.jpg"] = b"JPEG %d" % n
        size = {"file_id": f"b{n}", "file_unique_id": f"v{n}", "width": 9, "height": 9}
        caption = "Quittungen April" if n == 1 else ""
        _post(_with(90 + n, caption=caption, photo=[size], media_group_id="97531"))
    assert process_pending() == 3
    task = Task.objects.get(channel="telegram")
    assert task.title == "Quittungen April"  # the first photo's caption, by arrival
    assert _files(task) == {f"photo-{90 + n}.jpg": b"JPEG %d" % n for n in (1, 2, 3)}


def test_an_answer_to_our_message_continues_its_task(
    carol_chat: Cast, telegram: FakeProvider
) -> None:
    _post(_update(80, "Bitte Tisch reservieren"))
    _post(_update(81, "Und Blumen bestellen"))
    first, second = _process(80).task, _process(81).task
    assert first is not None and second is not None and first != second
    ours = {"message_id": 5, "date": 1767225600, "chat": {"id": CHAT, "type": "private"},
            "from": {"id": 1, "is_bot": True, "first_name": "Delegate"},
            "text": f"Für wie viele Personen?\n[{first.code}]"}  # fmt: skip
    update = _update(82, "Vier")
    update["message"]["reply_to_message"] = ours
    _post(update)
    inbound = _process(82)
    assert (inbound.task, inbound.is_new_task) == (first, False)


def test_a_dispatcher_releasing_a_chat_message_while_telegram_is_down_gets_told(
    cast: Cast, telegram: FakeProvider
) -> None:
    telegram.files["doc"], telegram.media["documents/d.pdf"] = "documents/d.pdf", b"%PDF"
    document = {"file_id": "doc", "file_unique_id": "ud", "file_name": "Angebot.pdf"}
    _post(_with(90, caption="Angebot anbei", document=document))  # a chat nobody linked
    inbound = _process(90)
    assert inbound.state == InboundMessage.State.QUARANTINED

    del telegram.media["documents/d.pdf"]  # the file is fetched again on release: 404
    url = reverse("intake:release", args=[inbound.pk])
    data = {"client": cast.acme.pk, "add_contact": "on", "contact_name": "Neu"}
    http = cast.login(cast.dora)
    response = http.post(url, data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 503
    assert "konnte nicht abgerufen werden" in response.content.decode()
    inbound.refresh_from_db()
    assert inbound.state == InboundMessage.State.QUARANTINED
    assert not Contact.objects.filter(name="Neu").exists()

    telegram.media["documents/d.pdf"] = b"%PDF"
    assert http.post(url, data).status_code == 302
    inbound.refresh_from_db()
    assert inbound.state == InboundMessage.State.ATTACHED
    assert _files(inbound.task) == {"Angebot.pdf": b"%PDF"}
