from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from delegate import access
from delegate.clients import services as client_services
from delegate.tasks import services as task_services
from delegate.tasks.models import Task
from delegate.testing import Cast


def test_it_shows_managers_the_whole_agency(cast: Cast) -> None:
    for manager in (cast.alice, cast.dora):
        assert access.access_task(manager, cast.task.pk) == cast.task
        assert access.access_client(manager, cast.acme.pk, write=True) == cast.acme
        assert set(access.tasks_visible_to(manager)) == {cast.task}


@pytest.mark.parametrize("task_attr", ["task_b"])
def test_it_hides_other_agencies_objects(cast: Cast, task_attr: str) -> None:
    foreign = getattr(cast, task_attr)
    for member in (cast.alice, cast.dora, cast.bob, cast.eve):
        with pytest.raises(Http404):
            access.access_task(member, foreign.pk)
        with pytest.raises(Http404):
            access.access_client(member, cast.globex.pk)
        with pytest.raises(Http404):
            access.access_contact(member, cast.gina.pk)
        with pytest.raises(Http404):
            access.access_member(member, cast.mallory.pk)
    with pytest.raises(Http404):
        access.access_task(cast.mallory, cast.task.pk)
    with pytest.raises(Http404):
        access.access_attachment(cast.mallory, cast.attachment.pk)
    with pytest.raises(Http404):
        access.access_message(cast.mallory, cast.reply.pk)


def test_it_limits_assistants_to_their_clients(cast: Cast) -> None:
    assert access.access_task(cast.bob, cast.task.pk) == cast.task
    assert access.access_client(cast.bob, cast.acme.pk) == cast.acme
    with pytest.raises(Http404):
        access.access_task(cast.eve, cast.task.pk)
    with pytest.raises(Http404):
        access.access_client(cast.eve, cast.acme.pk)
    with pytest.raises(Http404):
        access.access_contact(cast.eve, cast.carol.pk)
    with pytest.raises(Http404):
        access.access_attachment(cast.eve, cast.attachment.pk)
    assert list(access.tasks_visible_to(cast.eve)) == []


@pytest.mark.parametrize("route", ["backup", "team", "assignee"])
def test_it_lets_backup_team_and_assignee_see_the_client_work(cast: Cast, route: str) -> None:
    if route == "backup":
        client_services.update_client(cast.alice, cast.acme, backup_assistant=cast.eve)
    elif route == "team":
        client_services.set_team(cast.alice, cast.acme, members=[cast.eve])
    else:
        task_services.assign_task(cast.alice, cast.task, assistant=cast.eve)
    assert access.access_task(cast.eve, cast.task.pk).pk == cast.task.pk
    if route != "assignee":
        assert access.access_client(cast.eve, cast.acme.pk) == cast.acme


def test_it_refuses_writes_without_the_role(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        access.access_client(cast.bob, cast.acme.pk, write=True)
    with pytest.raises(PermissionDenied):
        access.access_contact(cast.bob, cast.carol.pk, write=True)
    with pytest.raises(PermissionDenied):
        access.access_member(cast.bob, cast.eve.pk, write=True)
    assert access.access_member(cast.bob, cast.eve.pk) == cast.eve


def test_it_keeps_internal_notes_from_contacts(cast: Cast) -> None:
    assert access.access_portal_task(cast.carol, cast.task.pk) == cast.task
    visible = list(access.messages_visible_to(cast.carol, cast.task))
    assert cast.reply in visible
    assert cast.note not in visible
    assert cast.note in access.messages_visible_to(cast.bob, cast.task)
    with pytest.raises(Http404):
        access.access_message(cast.carol, cast.note.pk)
    with pytest.raises(Http404):
        access.access_attachment(cast.carol, cast.internal_attachment.pk)
    assert access.access_attachment(cast.carol, cast.attachment.pk) == cast.attachment
    with pytest.raises(Http404):
        access.access_portal_task(cast.gina, cast.task.pk)
    with pytest.raises(Http404):
        access.access_portal_task(cast.carol, cast.task_b.pk)


@pytest.mark.parametrize(
    "bad_id", ["1", "not-a-uuid", "", None, 42, "5f0c1d8e-9a4b-4c1e-8f7a-2b3c4d5e6f70"]
)
def test_it_answers_404_for_malformed_or_unknown_ids(cast: Cast, bad_id: object) -> None:
    with pytest.raises(Http404):
        access.access_task(cast.alice, bad_id)
    with pytest.raises(Http404):
        access.access_portal_task(cast.carol, bad_id)


def test_it_uses_opaque_ids(cast: Cast) -> None:
    assert isinstance(cast.task.pk, uuid.UUID)
    assert Task._meta.pk is not None and Task._meta.pk.get_internal_type() == "UUIDField"
