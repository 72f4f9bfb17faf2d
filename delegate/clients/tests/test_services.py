"""Client services: normalisation, identities, team, addresses, portal logins."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from delegate.accounts.models import User
from delegate.clients import services
from delegate.clients.addresses import save_address
from delegate.clients.models import Address, Client, ClientTeamMember, Contact, ContactIdentity
from delegate.clients.portal_access import grant_portal_access, revoke_portal_access
from delegate.testing import Cast

ADDRESS = {"line1": "Ring 1", "postal_code": "1010", "city": "Wien", "country": "at"}
NEW_PASSWORD = "plum tree harbour 42"

# --- normalisation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("DE 811.907.980", "DE811907980"),
        ("ATU13585627", "ATU13585627"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_it_normalises_valid_vat_ids(raw: str, expected: str) -> None:
    assert services.normalize_vat_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["DE136695977", "DE123456789", "DE12345678", "XX123456789", "136695976", "DEABCDEFGHI"],
)
def test_it_refuses_invalid_vat_ids(raw: str) -> None:
    # DE136695977 and DE123456789 have the right shape but a wrong check digit.
    with pytest.raises(ValidationError) as caught:
        services.normalize_vat_id(raw)
    assert "vat_id" in caught.value.message_dict


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0151 23456789", "DE", "+4915123456789"),
        ("+49 (30) 123 4567", "DE", "+49301234567"),
        ("0049 30 1234567", "DE", "+49301234567"),
        ("+44 20 7946 0958", "DE", "+442079460958"),
        ("0664 1234567", "AT", "+436641234567"),
    ],
)
def test_it_normalises_phone_numbers_to_e164(raw: str, region: str, expected: str) -> None:
    assert services.normalize_phone(raw, region=region) == expected


@pytest.mark.parametrize("raw", ["0151 2345", "hello", "", "+49 0"])
def test_it_refuses_invalid_phone_numbers(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.normalize_phone(raw)
    assert "phone" in caught.value.message_dict


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "  Carol.Clausen@ACME.test ", "carol.clausen@acme.test"),
        ("telegram", "@Carol_C", "carol_c"),
        ("telegram", "123456789", "123456789"),
        ("whatsapp", "0151 23456789", "+4915123456789"),
    ],
)
def test_it_normalises_identities(kind: str, raw: str, expected: str) -> None:
    assert services.normalize_identity(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("email", "carol@"),
        ("email", "two words@acme.test"),
        ("telegram", "carol c"),
        ("telegram", "c!"),
        ("fax", "123"),
    ],
)
def test_it_refuses_invalid_identities(kind: str, raw: str) -> None:
    with pytest.raises(ValidationError):
        services.normalize_identity(kind, raw)


# --- clients and their team ---------------------------------------------------------------


def test_it_creates_a_client_with_a_team(cast: Cast) -> None:
    client = services.create_client(
        cast.dora,
        name="Initech",
        vat_id="de136695976",
        backup_assistant=cast.eve,
        team=[cast.bob, cast.eve],
    )
    assert client.agency_id == cast.agency_a.pk
    assert client.vat_id == "DE136695976"
    assert set(client.team.all()) == {cast.bob, cast.eve}
    assert {t.agency_id for t in ClientTeamMember.objects.filter(client=client)} == {
        cast.agency_a.pk
    }


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"vat_id": "DE136695977"}, "vat_id"),
        ({"primary_assistant": "MALLORY"}, "primary_assistant"),
        ({"primary_assistant": "BOB", "backup_assistant": "BOB"}, "backup_assistant"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": ""}, "name"),
        ({"team": "MALLORY"}, "team"),
    ],
)
def test_it_refuses_a_bad_client(cast: Cast, fields: dict[str, str], key: str) -> None:
    people = {"MALLORY": cast.mallory, "BOB": cast.bob}
    values: dict[str, object] = {k: people.get(v, v) for k, v in fields.items()}
    if key == "team":
        values["team"] = [cast.mallory]
    before = (Client.objects.count(), ClientTeamMember.objects.count())
    with pytest.raises(ValidationError) as caught:
        services.create_client(cast.alice, **{"name": "Initech", **values})
    assert key in caught.value.message_dict
    assert (Client.objects.count(), ClientTeamMember.objects.count()) == before


def test_it_refuses_an_inactive_assistant(cast: Cast) -> None:
    cast.eve.is_active = False
    cast.eve.save()
    with pytest.raises(ValidationError):
        services.update_client(cast.alice, cast.acme, backup_assistant=cast.eve)
    cast.acme.refresh_from_db()
    assert cast.acme.backup_assistant is None


def test_it_lets_only_managers_of_the_agency_change_clients(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.create_client(cast.bob, name="Sneaky")
    with pytest.raises(PermissionDenied):
        services.update_client(cast.bob, cast.acme, name="Sneaky")
    with pytest.raises(PermissionDenied):
        services.update_client(cast.mallory, cast.acme, name="Sneaky")
    with pytest.raises(PermissionDenied):
        services.set_team(cast.bob, cast.acme, members=[cast.bob])
    cast.acme.refresh_from_db()
    assert cast.acme.name == "Acme GmbH"
    assert not Client.objects.filter(name="Sneaky").exists()


def test_it_replaces_the_team(cast: Cast) -> None:
    services.set_team(cast.alice, cast.acme, members=[cast.bob, cast.eve])
    services.set_team(cast.alice, cast.acme, members=[cast.eve, cast.dora])
    assert set(cast.acme.team.all()) == {cast.eve, cast.dora}
    services.set_team(cast.alice, cast.acme, members=[])
    assert not cast.acme.team.exists()


def test_it_keeps_the_team_when_an_update_leaves_it_out(cast: Cast) -> None:
    services.set_team(cast.alice, cast.acme, members=[cast.eve])
    services.update_client(cast.alice, cast.acme, name="Acme SE")
    assert list(cast.acme.team.all()) == [cast.eve]


# --- contacts and identities --------------------------------------------------------------


def test_it_stores_identities_normalised_and_once(cast: Cast) -> None:
    contact = services.create_contact(
        cast.alice,
        cast.acme,
        name="Dieter",
        emails=["D@acme.test", "d@ACME.test", " "],
        phones=["030 1234567", "+49301234567"],
        telegram_ids=["@Dieter"],
    )
    rows = ContactIdentity.objects.filter(contact=contact)
    assert sorted((r.kind, r.value, r.is_primary) for r in rows) == [
        ("email", "d@acme.test", True),
        ("phone", "+49301234567", True),
        ("telegram", "dieter", True),
    ]
    assert {r.agency_id for r in rows} == {cast.agency_a.pk}


def test_it_marks_the_first_identity_of_each_kind_primary(cast: Cast) -> None:
    services.set_identities(cast.alice, cast.carol, emails=["a@acme.test", "b@acme.test"])
    primary = ContactIdentity.objects.filter(contact=cast.carol, is_primary=True, kind="email")
    assert list(primary.values_list("value", flat=True)) == ["a@acme.test"]


def test_it_uses_the_clients_country_for_national_numbers(cast: Cast) -> None:
    save_address(cast.alice, cast.acme, kind="billing", **ADDRESS)
    services.set_identities(cast.alice, cast.carol, phones=["0664 1234567"])
    assert cast.carol.identities.get(kind="phone").value == "+436641234567"


def test_it_refuses_an_identity_of_another_contact_in_the_agency(cast: Cast) -> None:
    before = (Contact.objects.count(), ContactIdentity.objects.count())
    with pytest.raises(ValidationError) as caught:
        services.create_contact(cast.alice, cast.acme, name="Copycat", emails=["CAROL@acme.test"])
    assert "email" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.create_contact(cast.alice, cast.acme, name="Copycat", phones=["+4915123456789"])
    assert (Contact.objects.count(), ContactIdentity.objects.count()) == before


def test_it_allows_the_same_identity_in_another_agency(cast: Cast) -> None:
    twin = services.create_contact(
        cast.mallory,
        cast.globex,
        name="Carol at Globex",
        emails=["carol@acme.test"],
        phones=["0151 23456789"],
    )
    assert ContactIdentity.objects.filter(value="carol@acme.test").count() == 2
    assert {i.agency_id for i in twin.identities.all()} == {cast.agency_b.pk}


def test_it_lets_a_contact_keep_their_own_identities(cast: Cast) -> None:
    services.set_identities(
        cast.alice, cast.carol, emails=["carol@acme.test"], phones=["+4915123456789"]
    )
    assert cast.carol.identities.count() == 2


def test_it_updates_a_contact_and_keeps_identity_kinds_not_given(cast: Cast) -> None:
    services.update_contact(
        cast.alice, cast.carol, name="Carol C.", is_active=False, telegram_ids=["@carol"]
    )
    cast.carol.refresh_from_db()
    assert (cast.carol.name, cast.carol.is_active) == ("Carol C.", False)
    assert set(cast.carol.identities.values_list("kind", "value")) == {
        ("email", "carol@acme.test"),
        ("phone", "+4915123456789"),
        ("telegram", "carol"),
    }


def test_it_refuses_contact_changes_by_non_managers_and_outsiders(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.create_contact(cast.bob, cast.acme, name="X")
    with pytest.raises(PermissionDenied):
        services.create_contact(cast.mallory, cast.acme, name="X")
    with pytest.raises(PermissionDenied):
        services.update_contact(cast.mallory, cast.carol, name="X")
    with pytest.raises(ValidationError):
        services.update_contact(cast.alice, cast.carol, user=None)
    cast.carol.refresh_from_db()
    assert cast.carol.name == "Carol Clausen" and cast.carol.user is not None
    assert not Contact.objects.filter(name="X").exists()


# --- addresses -------------------------------------------------------------------------------


def test_it_saves_one_address_per_kind(cast: Cast) -> None:
    billing = save_address(cast.alice, cast.acme, kind="billing", **ADDRESS)
    assert (billing.country, billing.agency_id) == ("AT", cast.agency_a.pk)
    again = save_address(cast.dora, cast.acme, kind="billing", **{**ADDRESS, "city": "Graz"})
    assert again.pk == billing.pk and again.city == "Graz"
    save_address(cast.alice, cast.acme, kind="office", **ADDRESS)
    assert Address.objects.filter(client=cast.acme).count() == 2


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("holiday", ADDRESS),
        ("billing", {**ADDRESS, "country": "AUT"}),
        ("billing", {**ADDRESS, "city": ""}),
        ("billing", {**ADDRESS, "colour": "blue"}),
    ],
)
def test_it_refuses_a_bad_address(cast: Cast, kind: str, fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        save_address(cast.alice, cast.acme, kind=kind, **fields)
    assert not Address.objects.exists()


def test_it_refuses_address_changes_by_non_managers_and_outsiders(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        save_address(cast.bob, cast.acme, kind="billing", **ADDRESS)
    with pytest.raises(PermissionDenied):
        save_address(cast.mallory, cast.acme, kind="billing", **ADDRESS)
    assert not Address.objects.exists()


# --- portal logins -------------------------------------------------------------------------


def test_it_grants_a_fresh_login(cast: Cast) -> None:
    contact = services.create_contact(cast.alice, cast.acme, name="Dieter", language="en")
    user = grant_portal_access(cast.dora, contact, email=" Dieter@Acme.test", password=NEW_PASSWORD)
    contact.refresh_from_db()
    assert contact.user == user
    assert (user.email, user.name, user.language) == ("dieter@acme.test", "Dieter", "en")
    assert user.check_password(NEW_PASSWORD)
    assert not user.memberships.exists()


def test_it_never_links_an_existing_login(cast: Cast) -> None:
    contact = services.create_contact(cast.alice, cast.acme, name="Dieter")
    for email in ("bob@alpha.test", "MALLORY@bravo.test", "gina@globex.test"):
        with pytest.raises(ValidationError) as caught:
            grant_portal_access(cast.alice, contact, email=email, password=NEW_PASSWORD)
        assert "email" in caught.value.message_dict
    contact.refresh_from_db()
    assert contact.user is None


def test_it_refuses_portal_changes_by_non_managers_and_outsiders(cast: Cast) -> None:
    contact = services.create_contact(cast.alice, cast.acme, name="Dieter")
    users = User.objects.count()
    with pytest.raises(PermissionDenied):
        grant_portal_access(cast.bob, contact, email="d@acme.test", password=NEW_PASSWORD)
    with pytest.raises(PermissionDenied):
        grant_portal_access(cast.mallory, contact, email="d@acme.test", password=NEW_PASSWORD)
    with pytest.raises(PermissionDenied):
        revoke_portal_access(cast.bob, cast.carol)
    with pytest.raises(PermissionDenied):
        revoke_portal_access(cast.mallory, cast.carol)
    assert User.objects.count() == users
    cast.carol.refresh_from_db()
    assert cast.carol.user is not None


def test_it_revokes_by_deleting_a_portal_only_login(cast: Cast) -> None:
    user_id = cast.carol.user_id
    assert user_id is not None
    revoke_portal_access(cast.alice, cast.carol)
    cast.carol.refresh_from_db()
    assert cast.carol.user is None
    assert not User.objects.filter(pk=user_id).exists()
    revoke_portal_access(cast.alice, cast.carol)  # nothing left to revoke: no error


def test_it_keeps_a_login_that_is_also_a_membership(cast: Cast) -> None:
    # A person who is both a member (of agency B) and, by an older link, Acme's contact.
    contact = services.create_contact(cast.alice, cast.acme, name="Mallory at Acme")
    contact.user = cast.mallory.user
    contact.save()
    revoke_portal_access(cast.alice, contact)
    contact.refresh_from_db()
    assert contact.user is None
    assert User.objects.filter(pk=cast.mallory.user_id, is_active=True).exists()


def test_it_keeps_identity_kinds_that_an_update_does_not_name(cast: Cast) -> None:
    from delegate.clients.services import set_identities, update_contact

    set_identities(cast.alice, cast.carol, whatsapp=["0151 99988877"])
    update_contact(cast.alice, cast.carol, emails=["carol.new@acme.test"])
    kinds = dict(cast.carol.identities.values_list("kind", "value"))
    assert kinds["email"] == "carol.new@acme.test"
    assert kinds["whatsapp"] == "+4915199988877"
    assert kinds["phone"] == "+4915123456789"
