from __future__ import annotations

import pytest

from delegate.api.tests.conftest import Api
from delegate.clients.models import Client, Contact, ContactIdentity
from delegate.testing import Cast

pytestmark = pytest.mark.django_db


def test_it_lists_clients_filtered_by_status(cast: Cast, alice_api: Api) -> None:
    from delegate.clients.services import create_client

    paused = create_client(cast.alice, name="Zeta", status="paused")
    body = alice_api.get("/clients").json()
    assert [c["name"] for c in body["items"]] == ["Acme GmbH", "Zeta"]
    assert body["items"][0]["primary_assistant"] == str(cast.bob.pk)
    paused_only = alice_api.get("/clients", {"status": "paused"}).json()
    assert [c["id"] for c in paused_only["items"]] == [str(paused.pk)]
    assert alice_api.get("/clients", {"ordering": "-name"}).json()["items"][0]["name"] == "Zeta"
    assert alice_api.get("/clients", {"status": "gone"}).status_code == 422


def test_an_assistant_sees_only_their_clients(cast: Cast, bob_api: Api, eve_api: Api) -> None:
    assert [c["id"] for c in bob_api.get("/clients").json()["items"]] == [str(cast.acme.pk)]
    assert eve_api.get("/clients").json()["items"] == []
    assert eve_api.get(f"/clients/{cast.acme.pk}").status_code == 404


def test_it_creates_a_client(cast: Cast, alice_api: Api) -> None:
    response = alice_api.post("/clients", {
        "name": "Initech", "vat_id": "DE 136 695 976", "primary_assistant": str(cast.eve.pk),
        "backup_assistant": str(cast.bob.pk), "team": [str(cast.dora.pk)],
    })  # fmt: skip
    assert response.status_code == 201, response.json()
    client = Client.objects.get(pk=response.json()["id"])
    assert client.agency == cast.agency_a and client.vat_id == "DE136695976"
    assert client.primary_assistant == cast.eve
    assert response.json()["team"] == [str(cast.dora.pk)]


def test_it_refuses_an_invalid_client(cast: Cast, alice_api: Api) -> None:
    before = Client.objects.count()
    response = alice_api.post("/clients", {"name": "Initech", "vat_id": "DE123"})
    assert response.status_code == 422 and "vat_id" in response.json()["errors"]
    foreign = alice_api.post("/clients", {"name": "X", "primary_assistant": str(cast.mallory.pk)})
    assert foreign.status_code == 404
    assert Client.objects.count() == before


def test_an_assistant_may_not_create_or_change_clients(cast: Cast, bob_api: Api) -> None:
    before = Client.objects.count()
    assert bob_api.post("/clients", {"name": "Mine"}).status_code == 403
    assert bob_api.patch(f"/clients/{cast.acme.pk}", {"name": "Mine"}).status_code == 403
    assert bob_api.post(f"/clients/{cast.acme.pk}/contacts", {"name": "x"}).status_code == 403
    assert bob_api.patch(f"/contacts/{cast.carol.pk}", {"name": "x"}).status_code == 403
    assert Client.objects.count() == before
    cast.acme.refresh_from_db()
    cast.carol.refresh_from_db()
    assert (cast.acme.name, cast.carol.name) == ("Acme GmbH", "Carol Clausen")


def test_it_updates_a_client(cast: Cast, alice_api: Api) -> None:
    response = alice_api.patch(f"/clients/{cast.acme.pk}", {"status": "paused", "notes": "x"})
    assert response.status_code == 200
    cast.acme.refresh_from_db()
    assert (cast.acme.status, cast.acme.notes, cast.acme.name) == ("paused", "x", "Acme GmbH")
    assert cast.acme.primary_assistant == cast.bob  # not sent, kept


def test_it_lists_gets_creates_and_updates_contacts(cast: Cast, alice_api: Api) -> None:
    listed = alice_api.get(f"/clients/{cast.acme.pk}/contacts").json()
    assert [c["id"] for c in listed["items"]] == [str(cast.carol.pk)]
    carol = alice_api.get(f"/contacts/{cast.carol.pk}").json()
    assert carol["emails"] == ["carol@acme.test"] and carol["phones"] == ["+4915123456789"]
    assert carol["has_portal_login"] is True and carol["client"] == str(cast.acme.pk)

    created = alice_api.post(f"/clients/{cast.acme.pk}/contacts", {
        "name": "Dan", "emails": ["DAN@acme.test"], "phones": ["030 1234567"],
    })  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["emails"] == ["dan@acme.test"]
    assert created.json()["phones"] == ["+49301234567"]

    updated = alice_api.patch(f"/contacts/{created.json()['id']}", {"role": "CFO", "emails": []})
    assert updated.status_code == 200
    assert updated.json()["role"] == "CFO" and updated.json()["emails"] == []
    assert updated.json()["phones"] == ["+49301234567"]


def test_it_refuses_an_identity_of_another_contact(cast: Cast, alice_api: Api) -> None:
    before = (Contact.objects.count(), ContactIdentity.objects.count())
    response = alice_api.post(f"/clients/{cast.acme.pk}/contacts", {
        "name": "Copycat", "emails": ["carol@acme.test"],
    })  # fmt: skip
    assert response.status_code == 422
    assert (Contact.objects.count(), ContactIdentity.objects.count()) == before
