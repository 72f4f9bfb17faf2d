from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from delegate.api.models import ApiKey
from delegate.api.services import create_api_key, hash_token, revoke_api_key
from delegate.api.tests.conftest import Api, api_for
from delegate.tasks.models import Task
from delegate.testing import Cast

pytestmark = pytest.mark.django_db


def test_it_stores_only_a_hash_of_the_token(cast: Cast) -> None:
    key, token = create_api_key(cast.alice, name="zapier", scope="read_write")
    assert token.startswith(f"dlg_{key.prefix}_")
    row = ApiKey.objects.get(pk=key.pk)
    assert row.secret_hash == hash_token(token)
    assert token not in {row.secret_hash, row.prefix, row.name}
    assert row.created_by == cast.alice and row.agency == cast.agency_a


def test_it_refuses_a_key_without_name_or_with_unknown_scope(cast: Cast) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        create_api_key(cast.alice, name="  ", scope="read_write")
    with pytest.raises(ValidationError):
        create_api_key(cast.alice, name="x", scope="admin")
    assert not ApiKey.objects.exists()


def test_it_answers_401_without_a_valid_token(cast: Cast) -> None:
    api = api_for(cast.alice)
    good = api.token
    assert good is not None
    for header in (
        None,
        "Bearer",
        "Bearer nonsense",
        f"Basic {good}",
        f"Bearer {good}x",
        f"Bearer {good[:-1]}",
        "Bearer dlg_000000000000_secret",
    ):
        headers = {"Authorization": header} if header else {}
        response = api.http.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 401, header
        assert response.json() == {"detail": "Missing, invalid or revoked API key."}
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert api.get("/tasks").status_code == 200


def test_it_refuses_a_revoked_key_and_one_whose_member_left(cast: Cast) -> None:
    key, token = create_api_key(cast.bob, name="bob", scope="read_write")
    api = Api(token=token, http=api_for(None).http)
    assert api.get("/tasks").status_code == 200
    cast.bob.is_active = False
    cast.bob.save()
    assert api.get("/tasks").status_code == 401
    cast.bob.is_active = True
    cast.bob.save()
    assert api.get("/tasks").status_code == 200
    revoke_api_key(cast.alice, key)
    assert api.get("/tasks").status_code == 401


def test_it_lets_only_owners_revoke_other_peoples_keys(cast: Cast) -> None:
    from django.core.exceptions import PermissionDenied

    key, _token = create_api_key(cast.bob, name="bob", scope="read_only")
    with pytest.raises(PermissionDenied):
        revoke_api_key(cast.dora, key)
    with pytest.raises(PermissionDenied):
        revoke_api_key(cast.mallory, key)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_it_records_when_a_key_was_last_used(cast: Cast, alice_api: Api) -> None:
    key = ApiKey.objects.get(created_by=cast.alice)
    assert key.last_used_at is None
    before = timezone.now()
    alice_api.get("/tasks")
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at >= before


WRITES = [
    ("post", "/tasks", {"client": "{acme}", "title": "x"}),
    ("patch", "/tasks/{task}", {"title": "changed"}),
    ("post", "/tasks/{task}/messages", {"text": "hello"}),
    ("post", "/clients", {"name": "New client"}),
    ("patch", "/clients/{acme}", {"name": "changed"}),
    ("post", "/clients/{acme}/contacts", {"name": "New contact"}),
    ("patch", "/contacts/{carol}", {"name": "changed"}),
    ("post", "/members", {"email": "new@alpha.test", "name": "New", "role": "assistant"}),
    ("patch", "/members/{bob}", {"role": "dispatcher"}),
]


def _fill(value: object, cast: Cast) -> object:
    ids = {"acme": cast.acme.pk, "task": cast.task.pk, "carol": cast.carol.pk, "bob": cast.bob.pk}
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, cast) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_it_refuses_writes_with_a_read_only_key(
    cast: Cast, alice_ro: Api, method: str, path: str, body: dict[str, str]
) -> None:
    counts = _counts()
    task = Task.objects.values().get(pk=cast.task.pk)
    response = getattr(alice_ro, method)(
        _fill(path, cast), _fill(body, cast), **({"key": "ro-1"} if method == "post" else {})
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "This API key is read-only"}
    assert _counts() == counts
    assert Task.objects.values().get(pk=cast.task.pk) == task


def _counts() -> dict[str, int]:
    from delegate.agencies.models import Member
    from delegate.api.models import IdempotencyKey
    from delegate.clients.models import Client, Contact
    from delegate.tasks.models import Message, TaskEvent

    return {
        model.__name__: model.objects.count()
        for model in (Task, Message, TaskEvent, Client, Contact, Member, IdempotencyKey)
    }


def test_it_reads_with_a_read_only_key(cast: Cast, alice_ro: Api) -> None:
    assert alice_ro.get(f"/tasks/{cast.task.pk}").status_code == 200


def test_the_command_creates_a_key_and_prints_the_token_once(cast: Cast) -> None:
    out = io.StringIO()
    call_command(
        "create_api_key", "--agency", "alpha", "--member", "BOB@alpha.test", "--name", "cli",
        "--scope", "read_write", "--quiet", stdout=out,
    )  # fmt: skip
    token = out.getvalue().strip()
    key = ApiKey.objects.get(name="cli")
    assert key.created_by == cast.bob and key.scope == "read_write"
    assert key.secret_hash == hash_token(token)
    api = Api(token=token, http=api_for(None).http)
    assert api.get("/tasks").status_code == 200


def test_the_command_refuses_a_member_of_another_agency(cast: Cast) -> None:
    with pytest.raises(CommandError):
        call_command(
            "create_api_key", "--agency", "alpha", "--member", "mallory@bravo.test",
            "--name", "x", stdout=io.StringIO(),
        )  # fmt: skip
    assert not ApiKey.objects.exists()
