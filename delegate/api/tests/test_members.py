from __future__ import annotations

import pytest

from delegate.agencies.models import Member
from delegate.api.tests.conftest import Api
from delegate.testing import Cast

pytestmark = pytest.mark.django_db


def test_it_lists_the_team(cast: Cast, bob_api: Api) -> None:
    body = bob_api.get("/members").json()
    assert [m["name"] for m in body["items"]] == [
        "Alice Adler",
        "Bob Becker",
        "Dora Dietz",
        "Eve Engel",
    ]
    assert body["items"][1] | {"joined_at": None} == {
        "id": str(cast.bob.pk), "name": "Bob Becker", "email": "bob@alpha.test",
        "role": "assistant", "is_active": True, "joined_at": None,
    }  # fmt: skip
    assistants = bob_api.get("/members", {"role": "assistant", "ordering": "-name"}).json()
    assert [m["name"] for m in assistants["items"]] == ["Eve Engel", "Bob Becker"]


def test_it_adds_a_member(cast: Cast, alice_api: Api) -> None:
    response = alice_api.post("/members", {"email": "Finn@Alpha.test", "name": "Finn",
                                           "role": "assistant"})  # fmt: skip
    assert response.status_code == 201, response.json()
    member = Member.objects.get(pk=response.json()["id"])
    assert member.agency == cast.agency_a and member.user.email == "finn@alpha.test"
    assert not member.user.has_usable_password()


def test_it_refuses_bad_members(cast: Cast, alice_api: Api, bob_api: Api) -> None:
    before = Member.objects.count()
    assert alice_api.post("/members", {"email": "nope", "name": "x", "role": "assistant"}
                          ).status_code == 422  # fmt: skip
    again = alice_api.post("/members", {"email": "bob@alpha.test", "name": "x",
                                        "role": "assistant"})  # fmt: skip
    assert again.status_code == 422 and "email" in again.json()["errors"]
    assert bob_api.post("/members", {"email": "z@alpha.test", "name": "z", "role": "assistant"}
                        ).status_code == 403  # fmt: skip
    assert Member.objects.count() == before


def test_it_updates_a_member(cast: Cast, alice_api: Api, bob_api: Api) -> None:
    response = alice_api.patch(f"/members/{cast.eve.pk}", {"role": "dispatcher"})
    assert response.status_code == 200 and response.json()["role"] == "dispatcher"
    assert bob_api.patch(f"/members/{cast.eve.pk}", {"is_active": False}).status_code == 403
    cast.eve.refresh_from_db()
    assert cast.eve.is_active and cast.eve.role == "dispatcher"
    last_owner = alice_api.patch(f"/members/{cast.alice.pk}", {"role": "assistant"})
    assert last_owner.status_code == 422
    cast.alice.refresh_from_db()
    assert cast.alice.role == "owner"
