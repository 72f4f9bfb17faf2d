"""Contacts of a client: their identities and their portal login."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from delegate import testing
from delegate.accounts.models import User
from delegate.agencies.models import Member
from delegate.clients import services
from delegate.clients.models import Client, ClientTeamMember, Contact, ContactIdentity
from delegate.testing import PASSWORD, Cast

STATE_MODELS = [Client, ClientTeamMember, Contact, ContactIdentity, Member, User]
NEW_PASSWORD = "plum tree harbour 42"


def db_state() -> dict[str, list[dict[str, Any]]]:
    return testing.db_state(*STATE_MODELS)


def contact_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Dieter Dorn",
        "role": "CFO",
        "language": "en",
        "is_active": "on",
        "emails": ["Dieter@Acme.test", ""],
        "phones": ["030 1234567", "+44 20 7946 0958"],
        "telegram_ids": ["@DieterD"],
    }
    data.update(overrides)
    return data


def identities(contact: Contact) -> set[tuple[str, str]]:
    return set(contact.identities.values_list("kind", "value"))


def id_urls(cast: Cast) -> list[tuple[str, str, dict[str, Any]]]:
    carol = cast.carol.pk
    return [
        ("get", reverse("clients:contact_create", args=[cast.acme.pk]), {}),
        ("post", reverse("clients:contact_create", args=[cast.acme.pk]), contact_data()),
        ("get", reverse("clients:contact_edit", args=[carol]), {}),
        ("post", reverse("clients:contact_edit", args=[carol]), contact_data()),
        (
            "post",
            reverse("clients:portal_grant", args=[carol]),
            {"email": "new@acme.test", "password": NEW_PASSWORD},
        ),
        ("post", reverse("clients:portal_revoke", args=[carol]), {}),
    ]


@pytest.fixture
def alice(cast: Cast) -> HttpClient:
    return cast.login(cast.alice)


def test_it_adds_a_contact_with_normalised_identities(cast: Cast) -> None:
    dora = cast.login(cast.dora)
    response = dora.post(reverse("clients:contact_create", args=[cast.acme.pk]), contact_data())
    contact = Contact.objects.get(name="Dieter Dorn")
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:contact_edit", args=[contact.pk])
    assert (contact.client, contact.agency_id, contact.role) == (cast.acme, cast.agency_a.pk, "CFO")
    assert identities(contact) == {
        ("email", "dieter@acme.test"),
        ("phone", "+49301234567"),
        ("phone", "+442079460958"),
        ("telegram", "dieterd"),
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phones", ["0151 2345"], b"not a valid phone number"),
        ("phones", ["call me"], b"not a phone number"),
        ("emails", ["not-an-email"], b"not a valid email address"),
        ("telegram_ids", ["bad id!"], b"Telegram id"),
        ("emails", ["CAROL@acme.test"], b"already belongs to another contact"),
        ("phones", ["+49 151 23456789"], b"already belongs to another contact"),
    ],
)
def test_it_refuses_bad_or_taken_identities_and_writes_nothing(
    cast: Cast, alice: HttpClient, field: str, value: list[str], message: bytes
) -> None:
    before = db_state()
    url = reverse("clients:contact_create", args=[cast.acme.pk])
    response = alice.post(url, contact_data(**{field: value}))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in response.content
    # The refused values are shown again for correction.
    assert value[0].encode() in response.content
    assert db_state() == before


def test_it_edits_a_contact_and_replaces_identities(cast: Cast, alice: HttpClient) -> None:
    url = reverse("clients:contact_edit", args=[cast.carol.pk])
    form = alice.get(url).context["form"]
    assert form.initial["emails"] == ["carol@acme.test"]
    assert form.initial["phones"] == ["+4915123456789"]
    data = contact_data(
        name="Carol C.",
        emails=["carol@acme.test", "c@acme.test"],
        phones=[],
        telegram_ids=[],
        is_active="",
    )
    response = alice.post(url, data)
    assert response.status_code == 302
    cast.carol.refresh_from_db()
    assert (cast.carol.name, cast.carol.is_active, cast.carol.language) == ("Carol C.", False, "en")
    assert identities(cast.carol) == {("email", "carol@acme.test"), ("email", "c@acme.test")}


def test_it_refuses_an_identity_of_another_contact_on_edit(cast: Cast, alice: HttpClient) -> None:
    other = services.create_contact(cast.alice, cast.acme, name="Otto", emails=["otto@acme.test"])
    before = db_state()
    url = reverse("clients:contact_edit", args=[other.pk])
    response = alice.post(url, contact_data(name="Otto Renamed", emails=["carol@acme.test"]))
    assert response.status_code == 400
    assert b"already belongs to another contact" in response.content
    # The page shows the stored name, the form keeps the typed one.
    assert response.context["contact"].name == "Otto"
    assert db_state() == before


def test_it_accepts_an_identity_used_in_another_agency(cast: Cast, alice: HttpClient) -> None:
    url = reverse("clients:contact_create", args=[cast.acme.pk])
    response = alice.post(url, contact_data(emails=["gina@globex.test"], phones=[]))
    assert response.status_code == 302
    assert ContactIdentity.objects.filter(value="gina@globex.test").count() == 2


def test_it_offers_another_identity_row_for_htmx(alice: HttpClient) -> None:
    response = alice.get(reverse("clients:identity_row"), {"field": "phones"})
    assert response.status_code == 200
    assert b'inputmode="tel"' in response.content and b'name="phones"' in response.content
    assert alice.get(reverse("clients:identity_row"), {"field": "password"}).status_code == 404


# --- portal login ------------------------------------------------------------------------------


def test_it_grants_and_revokes_a_portal_login(cast: Cast, alice: HttpClient) -> None:
    contact = services.create_contact(cast.alice, cast.acme, name="Dieter Dorn")
    grant = reverse("clients:portal_grant", args=[contact.pk])
    response = alice.post(grant, {"email": "Dieter@Acme.test", "password": NEW_PASSWORD})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.user is not None and contact.user.email == "dieter@acme.test"
    portal = HttpClient()
    assert portal.login(username="dieter@acme.test", password=NEW_PASSWORD)
    assert portal.get(reverse("home"))["Location"] == reverse("portal:home")

    response = alice.post(reverse("clients:portal_revoke", args=[contact.pk]))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.user is None
    assert not User.objects.filter(email="dieter@acme.test").exists()
    # The session of the removed login is over.
    assert portal.get(reverse("home"))["Location"] == reverse("accounts:login")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "alice@alpha.test", "password": NEW_PASSWORD}, "email"),
        ({"email": "fresh@acme.test", "password": "123"}, "password"),
        ({"email": "nonsense", "password": NEW_PASSWORD}, "email"),
    ],
)
def test_it_refuses_a_bad_portal_grant(
    cast: Cast, alice: HttpClient, data: dict[str, str], field: str
) -> None:
    contact = services.create_contact(cast.alice, cast.acme, name="Dieter Dorn")
    before = db_state()
    response = alice.post(reverse("clients:portal_grant", args=[contact.pk]), data)
    assert response.status_code == 400
    assert field in response.context["portal_form"].errors
    assert db_state() == before


def test_it_refuses_a_second_login_for_a_contact(cast: Cast, alice: HttpClient) -> None:
    before = db_state()
    data = {"email": "second@acme.test", "password": NEW_PASSWORD}
    response = alice.post(reverse("clients:portal_grant", args=[cast.carol.pk]), data)
    assert response.status_code == 400
    assert b"already has a portal login" in response.content
    assert db_state() == before
    assert cast.login(cast.carol).get(reverse("home"))["Location"] == reverse("portal:home")


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "eve", "carol"])
def test_it_refuses_contact_pages_to_others_than_managers(cast: Cast, who: str) -> None:
    http = cast.login(getattr(cast, who))
    before = db_state()
    for method, url, data in [*id_urls(cast), ("get", reverse("clients:identity_row"), {})]:
        response = getattr(http, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert db_state() == before
    assert HttpClient().login(username="carol@acme.test", password=PASSWORD)


def test_it_hides_another_agencys_contacts(cast: Cast) -> None:
    mallory = cast.login(cast.mallory)
    before = db_state()
    for method, url, data in id_urls(cast):
        response = getattr(mallory, method)(url, data)
        assert response.status_code == 404, (method, url)
    assert db_state() == before
