"""Client management pages: list, create, detail, edit, addresses."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from delegate import testing
from delegate.accounts.models import User
from delegate.agencies.models import Member
from delegate.clients.models import Address, Client, ClientTeamMember, Contact, ContactIdentity
from delegate.testing import Cast

STATE_MODELS = [Client, ClientTeamMember, Address, Contact, ContactIdentity, Member, User]


def db_state() -> dict[str, list[dict[str, Any]]]:
    return testing.db_state(*STATE_MODELS)


def client_data(cast: Cast, **overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "organisation",
        "name": "Initech GmbH",
        "status": "active",
        "service_level": "priority",
        "language": "en",
        "time_zone": "Europe/Vienna",
        "vat_id": "de 136 695 976",
        "email": "billing@initech.test",
        "notes": "Prefers calls before noon.",
        "primary_assistant": str(cast.bob.pk),
        "backup_assistant": str(cast.eve.pk),
        "team": [str(cast.dora.pk)],
    }
    data.update(overrides)
    return data


ADDRESS = {
    "line1": "Hauptstraße 1",
    "line2": "",
    "postal_code": "10115",
    "city": "Berlin",
    "region": "",
    "country": "DE",
}


def id_urls(cast: Cast) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, data) for every id-bearing page of this file, aimed at agency A."""
    acme = cast.acme.pk
    return [
        ("get", reverse("clients:detail", args=[acme]), {}),
        ("get", reverse("clients:edit", args=[acme]), {}),
        ("post", reverse("clients:edit", args=[acme]), client_data(cast)),
        ("get", reverse("clients:address_edit", args=[acme, "billing"]), {}),
        ("post", reverse("clients:address_edit", args=[acme, "billing"]), ADDRESS),
    ]


@pytest.fixture
def alice(cast: Cast) -> HttpClient:
    return cast.login(cast.alice)


# --- list ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "dora"])
def test_it_lists_the_agencys_clients_to_managers(cast: Cast, who: str) -> None:
    response = cast.login(getattr(cast, who)).get(reverse("clients:list"))
    assert response.status_code == 200
    assert b"Acme GmbH" in response.content
    assert b"Globex" not in response.content


def test_it_searches_and_filters_clients(cast: Cast, alice: HttpClient) -> None:
    from delegate.clients import services

    services.create_client(cast.alice, name="Paused Partner", status="paused")
    url = reverse("clients:list")
    by_name = alice.get(url, {"q": "acme"})
    assert b"Acme GmbH" in by_name.content and b"Paused Partner" not in by_name.content
    # Search reaches contacts' identities too, without duplicating the client.
    by_identity = alice.get(url, {"q": "carol@acme"})
    assert by_identity.content.count(b"Acme GmbH") == 1
    by_status = alice.get(url, {"status": "paused"})
    assert b"Paused Partner" in by_status.content and b"Acme GmbH" not in by_status.content
    nothing = alice.get(url, {"q": "globex"})
    assert b"Globex" not in nothing.content


def test_it_answers_htmx_searches_with_the_results_only(alice: HttpClient) -> None:
    response = alice.get(reverse("clients:list"), {"q": "acme"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b'<div id="results">')
    assert b"<html" not in response.content


def test_it_counts_open_tasks_in_the_list(cast: Cast, alice: HttpClient) -> None:
    response = alice.get(reverse("clients:list"))
    page = response.context["page"]
    assert [(c.name, c.open_tasks) for c in page.object_list] == [("Acme GmbH", 1)]


# --- create and edit --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "dora"])
def test_it_creates_a_client(cast: Cast, who: str) -> None:
    response = cast.login(getattr(cast, who)).post(reverse("clients:create"), client_data(cast))
    client = Client.objects.get(name="Initech GmbH")
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client.pk])
    assert client.agency_id == cast.agency_a.pk
    assert client.vat_id == "DE136695976"
    assert client.time_zone == "Europe/Vienna"
    assert client.primary_assistant == cast.bob and client.backup_assistant == cast.eve
    assert list(client.team.all()) == [cast.dora]


def test_it_refuses_a_bad_vat_id_and_writes_nothing(cast: Cast, alice: HttpClient) -> None:
    before = db_state()
    response = alice.post(reverse("clients:create"), client_data(cast, vat_id="DE123456789"))
    assert response.status_code == 400
    assert "vat_id" in response.context["form"].errors
    assert b"not a valid EU VAT id" in response.content
    assert db_state() == before


def test_it_refuses_the_same_primary_and_backup(cast: Cast, alice: HttpClient) -> None:
    before = db_state()
    data = client_data(cast, backup_assistant=str(cast.bob.pk))
    response = alice.post(reverse("clients:edit", args=[cast.acme.pk]), data)
    assert response.status_code == 400
    assert "backup_assistant" in response.context["form"].errors
    assert db_state() == before


def test_it_offers_only_active_members_of_the_agency(cast: Cast, alice: HttpClient) -> None:
    cast.eve.is_active = False
    cast.eve.save()
    form = alice.get(reverse("clients:create")).context["form"]
    choices = set(form.fields["primary_assistant"].queryset)
    assert choices == {cast.alice, cast.dora, cast.bob}
    before = db_state()
    for outsider in (cast.mallory, cast.eve):
        data = client_data(cast, primary_assistant=str(outsider.pk), backup_assistant="")
        response = alice.post(reverse("clients:create"), data)
        assert response.status_code == 400
        assert "primary_assistant" in response.context["form"].errors
    assert db_state() == before


def test_it_shows_the_client_detail(cast: Cast, alice: HttpClient) -> None:
    from delegate.clients.addresses import save_address

    save_address(cast.alice, cast.acme, kind="office", **ADDRESS)
    response = alice.get(reverse("clients:detail", args=[cast.acme.pk]))
    assert response.status_code == 200
    assert response.context["open_tasks"] == 1
    content = response.content.decode()
    for expected in (
        "Acme GmbH",
        "Carol Clausen",
        "carol@acme.test",
        "+4915123456789",
        "Bob Becker",
        "Hauptstraße 1",
        "carol@acme.test",
    ):
        assert expected in content


def test_it_edits_a_client(cast: Cast) -> None:
    dora = cast.login(cast.dora)
    url = reverse("clients:edit", args=[cast.acme.pk])
    form = dora.get(url).context["form"]
    assert form.initial["name"] == "Acme GmbH"
    assert form.initial["primary_assistant"] == cast.bob
    data = client_data(
        cast,
        name="Acme SE",
        team=[str(cast.eve.pk), str(cast.dora.pk)],
        primary_assistant=str(cast.eve.pk),
        backup_assistant="",
        vat_id="",
    )
    response = dora.post(url, data)
    assert response.status_code == 302
    cast.acme.refresh_from_db()
    assert cast.acme.name == "Acme SE"
    assert cast.acme.primary_assistant == cast.eve
    assert cast.acme.backup_assistant is None
    assert cast.acme.vat_id == ""
    assert set(cast.acme.team.all()) == {cast.eve, cast.dora}


# --- addresses --------------------------------------------------------------------------------


def test_it_creates_then_updates_an_address_per_kind(cast: Cast, alice: HttpClient) -> None:
    url = reverse("clients:address_edit", args=[cast.acme.pk, "billing"])
    assert alice.post(url, ADDRESS).status_code == 302
    assert alice.post(url, {**ADDRESS, "city": "Hamburg", "country": "AT"}).status_code == 302
    address = Address.objects.get(client=cast.acme)
    assert (address.kind, address.city, address.country) == ("billing", "Hamburg", "AT")
    assert address.agency_id == cast.agency_a.pk
    postal = reverse("clients:address_edit", args=[cast.acme.pk, "postal"])
    assert alice.post(postal, ADDRESS).status_code == 302
    assert Address.objects.filter(client=cast.acme).count() == 2


def test_it_refuses_an_incomplete_address(cast: Cast, alice: HttpClient) -> None:
    before = db_state()
    url = reverse("clients:address_edit", args=[cast.acme.pk, "billing"])
    response = alice.post(url, {**ADDRESS, "city": "", "country": "XX"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"city", "country"}
    assert db_state() == before


def test_it_knows_only_three_kinds_of_address(cast: Cast, alice: HttpClient) -> None:
    before = db_state()
    url = reverse("clients:address_edit", args=[cast.acme.pk, "holiday"])
    assert alice.get(url).status_code == 404
    assert alice.post(url, ADDRESS).status_code == 404
    assert db_state() == before


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "eve", "gina"])
def test_it_refuses_management_pages_to_others_than_managers(cast: Cast, who: str) -> None:
    http = cast.login(getattr(cast, who))
    before = db_state()
    urls = [
        ("get", reverse("clients:list"), {}),
        ("get", reverse("clients:create"), {}),
        ("post", reverse("clients:create"), client_data(cast)),
        *id_urls(cast),
    ]
    for method, url, data in urls:
        response = getattr(http, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert db_state() == before


def test_it_hides_another_agencys_clients(cast: Cast) -> None:
    mallory = cast.login(cast.mallory)
    before = db_state()
    for method, url, data in id_urls(cast):
        response = getattr(mallory, method)(url, data)
        assert response.status_code == 404, (method, url)
    assert db_state() == before


def test_it_sends_anonymous_visitors_to_the_login(cast: Cast) -> None:
    response = HttpClient().get(reverse("clients:detail", args=[cast.acme.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
