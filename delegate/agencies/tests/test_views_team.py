"""Team pages: members, roles, assistant profiles, skills, working hours, absences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from delegate import testing
from delegate.accounts.models import User
from delegate.agencies import services
from delegate.agencies.models import (
    Absence,
    AssistantProfile,
    AssistantSkill,
    Member,
    Skill,
    WorkingHours,
)
from delegate.testing import Cast

STATE_MODELS = [User, Member, AssistantProfile, AssistantSkill, Skill, WorkingHours, Absence]
NEW_PASSWORD = "plum tree harbour 42"


def db_state() -> dict[str, list[dict[str, Any]]]:
    return testing.db_state(*STATE_MODELS)


def today() -> dt.date:
    return timezone.localdate()


def absence_data(cast: Cast, **overrides: Any) -> dict[str, Any]:
    data = {
        "starts_on": today().isoformat(),
        "ends_on": (today() + dt.timedelta(days=6)).isoformat(),
        "reason": "Holiday",
        "stand_in": str(cast.eve.pk),
    }
    data.update(overrides)
    return data


PROFILE = {
    "level": "senior",
    "time_zone": "Europe/Lisbon",
    "holiday_region": "de-by",
    "languages": ["de", "en", "it"],
    "capacity_hours_per_week": "32.5",
    "max_open_tasks": "18",
}

HOURS = {
    "weekday": ["0", "0", "4", "2"],
    "starts_at": ["09:00", "13:00", "08:30", ""],
    "ends_at": ["12:00", "17:00", "12:30", ""],
}


@pytest.fixture
def bob_absence(cast: Cast) -> Absence:
    return services.add_absence(
        cast.bob,
        cast.bob,
        starts_on=today(),
        ends_on=today() + dt.timedelta(days=2),
        stand_in=cast.eve,
    )


def id_urls(cast: Cast, absence: Absence) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, data) of every id-bearing team page, aimed at agency A."""
    bob = cast.bob.pk
    return [
        ("get", reverse("agencies:member", args=[bob]), {}),
        ("post", reverse("agencies:member_update", args=[bob]), {"role": "dispatcher"}),
        ("post", reverse("agencies:profile_update", args=[bob]), PROFILE),
        ("post", reverse("agencies:skills_update", args=[bob]), {"new_skill": "Travel"}),
        ("post", reverse("agencies:hours_update", args=[bob]), HOURS),
        ("post", reverse("agencies:absence_add", args=[bob]), absence_data(cast)),
        ("post", reverse("agencies:absence_delete", args=[absence.pk]), {}),
    ]


# --- the team list -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "dora"])
def test_it_lists_the_team_with_load_facts(cast: Cast, bob_absence: Absence, who: str) -> None:
    travel = services.get_or_create_skill(cast.alice, "Travel booking")
    services.set_skills(cast.alice, cast.bob, levels={travel: 4})
    services.set_working_hours(
        cast.alice,
        cast.bob,
        blocks=[
            (0, dt.time(9), dt.time(12)),
            (0, dt.time(13), dt.time(17)),
            (1, dt.time(9), dt.time(17)),
        ],
    )
    response = cast.login(getattr(cast, who)).get(reverse("agencies:team"))
    assert response.status_code == 200
    rows = {row["member"].pk: row for row in response.context["rows"]}
    assert set(rows) == {cast.alice.pk, cast.dora.pk, cast.bob.pk, cast.eve.pk}
    bob = rows[cast.bob.pk]
    assert bob["hours"]["hours"] == Decimal("15.0") and len(bob["hours"]["days"]) == 2
    assert bob["absence"] == bob_absence and rows[cast.eve.pk]["absence"] is None
    content = response.content.decode()
    assert "Travel booking 4" in content
    assert "stand-in: Eve Engel" in content
    assert "Mallory" not in content


# --- adding members ----------------------------------------------------------------------------


def test_it_adds_an_assistant_with_a_login(cast: Cast) -> None:
    dora = cast.login(cast.dora)
    data = {
        "email": "Fritz@alpha.test",
        "name": "Fritz Fuchs",
        "role": "assistant",
        "password": NEW_PASSWORD,
    }
    response = dora.post(reverse("agencies:member_add"), data)
    new = Member.objects.get(user__email="fritz@alpha.test")
    assert response.status_code == 302
    assert response["Location"] == reverse("agencies:member", args=[new.pk])
    assert (new.agency_id, new.role, new.name) == (cast.agency_a.pk, "assistant", "Fritz Fuchs")
    assert AssistantProfile.objects.filter(member=new).exists()
    assert HttpClient().login(username="fritz@alpha.test", password=NEW_PASSWORD)


def test_it_lets_owners_add_owners(cast: Cast) -> None:
    data = {"email": "olga@alpha.test", "name": "Olga", "role": "owner", "password": NEW_PASSWORD}
    assert cast.login(cast.alice).post(reverse("agencies:member_add"), data).status_code == 302
    assert Member.objects.get(user__email="olga@alpha.test").role == "owner"


def test_it_refuses_owners_added_by_a_dispatcher(cast: Cast) -> None:
    dora = cast.login(cast.dora)
    offered = dora.get(reverse("agencies:member_add")).context["form"]["role"]
    assert "owner" not in [value for value, _label in offered.field.widget.choices]
    before = db_state()
    data = {"email": "olga@alpha.test", "name": "Olga", "role": "owner", "password": NEW_PASSWORD}
    assert dora.post(reverse("agencies:member_add"), data).status_code == 403
    assert db_state() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "bob@alpha.test", "name": "Bob", "role": "assistant"}, "email"),
        (
            {"email": "x@alpha.test", "name": "X", "role": "assistant", "password": "1234"},
            "password",
        ),
        ({"email": "x@alpha.test", "name": "X", "role": "janitor"}, "role"),
    ],
)
def test_it_refuses_a_bad_new_member(cast: Cast, data: dict[str, str], field: str) -> None:
    data = {"password": NEW_PASSWORD, **data}
    before = db_state()
    response = cast.login(cast.alice).post(reverse("agencies:member_add"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert db_state() == before


# --- role and access --------------------------------------------------------------------------


def test_it_changes_role_and_active_flag(cast: Cast) -> None:
    url = reverse("agencies:member_update", args=[cast.bob.pk])
    assert cast.login(cast.dora).post(url, {"role": "dispatcher"}).status_code == 302
    cast.bob.refresh_from_db()
    assert (cast.bob.role, cast.bob.is_active) == ("dispatcher", False)


def test_it_keeps_the_last_owner(cast: Cast) -> None:
    before = db_state()
    url = reverse("agencies:member_update", args=[cast.alice.pk])
    response = cast.login(cast.alice).post(url, {"role": "dispatcher", "is_active": "on"})
    assert response.status_code == 400
    assert b"at least one owner" in response.content
    assert db_state() == before


def test_it_lets_an_owner_step_down_when_another_owner_exists(cast: Cast) -> None:
    services.update_member(cast.alice, cast.dora, role="owner")
    url = reverse("agencies:member_update", args=[cast.alice.pk])
    response = cast.login(cast.alice).post(url, {"role": "dispatcher", "is_active": "on"})
    assert response.status_code == 302
    cast.alice.refresh_from_db()
    assert cast.alice.role == "dispatcher"


@pytest.mark.parametrize(
    ("target", "data"),
    [("alice", {"role": "owner"}), ("bob", {"role": "owner", "is_active": "on"})],
)
def test_it_refuses_owner_changes_by_a_dispatcher(
    cast: Cast, target: str, data: dict[str, str]
) -> None:
    before = db_state()
    url = reverse("agencies:member_update", args=[getattr(cast, target).pk])
    assert cast.login(cast.dora).post(url, data).status_code == 403
    assert db_state() == before


# --- the assistant profile ----------------------------------------------------------------------


def test_it_shows_the_member_page(cast: Cast) -> None:
    response = cast.login(cast.dora).get(reverse("agencies:member", args=[cast.bob.pk]))
    assert response.status_code == 200
    assert response.context["member_form"].initial == {"role": "assistant", "is_active": True}
    assert response.context["profile_form"].initial["capacity_hours_per_week"] == Decimal("40")


def test_it_saves_the_profile(cast: Cast) -> None:
    url = reverse("agencies:profile_update", args=[cast.bob.pk])
    assert cast.login(cast.alice).post(url, PROFILE).status_code == 302
    profile = AssistantProfile.objects.get(member=cast.bob)
    assert profile.level == "senior" and profile.time_zone == "Europe/Lisbon"
    assert profile.holiday_region == "DE-BY"
    assert profile.languages == ["de", "en", "it"]
    assert profile.capacity_hours_per_week == Decimal("32.5")
    assert profile.max_open_tasks == 18


def test_it_creates_a_profile_for_a_member_without_one(cast: Cast) -> None:
    assert not AssistantProfile.objects.filter(member=cast.dora).exists()
    url = reverse("agencies:profile_update", args=[cast.dora.pk])
    assert cast.login(cast.alice).post(url, PROFILE).status_code == 302
    assert AssistantProfile.objects.get(member=cast.dora).agency_id == cast.agency_a.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity_hours_per_week", "200"),
        ("time_zone", "Mars/Olympus"),
        ("holiday_region", "Bavaria!"),
        ("max_open_tasks", "-1"),
        ("languages", ["xx"]),
    ],
)
def test_it_refuses_a_bad_profile(cast: Cast, field: str, value: Any) -> None:
    before = db_state()
    url = reverse("agencies:profile_update", args=[cast.bob.pk])
    response = cast.login(cast.alice).post(url, {**PROFILE, field: value})
    assert response.status_code == 400
    assert field in response.context["profile_form"].errors
    assert db_state() == before


# --- skills -----------------------------------------------------------------------------------


def test_it_sets_skill_levels_and_creates_new_skills(cast: Cast) -> None:
    writing = services.get_or_create_skill(cast.alice, "Writing")
    finance = services.get_or_create_skill(cast.alice, "Finance")
    services.set_skills(cast.alice, cast.bob, levels={finance: 2})
    url = reverse("agencies:skills_update", args=[cast.bob.pk])
    data = {
        f"skill_{writing.pk}": "5",
        f"skill_{finance.pk}": "",
        "new_skill": "Travel booking",
        "new_skill_level": "4",
    }
    assert cast.login(cast.dora).post(url, data).status_code == 302
    held = AssistantSkill.objects.filter(profile__member=cast.bob)
    assert {(h.skill.name, h.level) for h in held} == {("Writing", 5), ("Travel booking", 4)}
    assert Skill.objects.get(slug="travel-booking").agency_id == cast.agency_a.pk


def test_it_refuses_a_skill_level_outside_1_to_5(cast: Cast) -> None:
    writing = services.get_or_create_skill(cast.alice, "Writing")
    before = db_state()
    url = reverse("agencies:skills_update", args=[cast.bob.pk])
    data = {f"skill_{writing.pk}": "7", "new_skill": "Travel", "new_skill_level": "3"}
    response = cast.login(cast.alice).post(url, data)
    assert response.status_code == 400
    assert f"skill_{writing.pk}" in response.context["skills_form"].errors
    assert db_state() == before


def test_it_does_not_offer_another_agencys_skills(cast: Cast) -> None:
    foreign = services.get_or_create_skill(cast.mallory, "Bravo secret")
    response = cast.login(cast.alice).get(reverse("agencies:member", args=[cast.bob.pk]))
    assert f"skill_{foreign.pk}" not in response.context["skills_form"].fields
    before = db_state()
    url = reverse("agencies:skills_update", args=[cast.bob.pk])
    assert cast.login(cast.alice).post(url, {f"skill_{foreign.pk}": "5"}).status_code == 302
    assert not AssistantSkill.objects.filter(skill=foreign).exists()
    assert db_state()["Skill"] == before["Skill"]


# --- working hours ----------------------------------------------------------------------------


def test_it_sets_weekly_working_hours(cast: Cast) -> None:
    url = reverse("agencies:hours_update", args=[cast.bob.pk])
    assert cast.login(cast.alice).post(url, HOURS).status_code == 302
    blocks = WorkingHours.objects.filter(profile__member=cast.bob)
    assert [(b.weekday, b.starts_at, b.ends_at) for b in blocks] == [
        (0, dt.time(9), dt.time(12)),
        (0, dt.time(13), dt.time(17)),
        (4, dt.time(8, 30), dt.time(12, 30)),
    ]
    page = cast.login(cast.alice).get(reverse("agencies:member", args=[cast.bob.pk]))
    rows = page.context["hours_form"].rows()
    assert [(r.weekday, r.starts_at) for r in rows[:3]] == [
        ("0", "09:00"),
        ("0", "13:00"),
        ("4", "08:30"),
    ]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (
            {"weekday": ["0", "0"], "starts_at": ["09:00", "11:00"], "ends_at": ["12:00", "14:00"]},
            b"overlap",
        ),
        ({"weekday": ["1"], "starts_at": ["17:00"], "ends_at": ["09:00"]}, b"end after it starts"),
        (
            {"weekday": ["1"], "starts_at": ["09:00"], "ends_at": [""]},
            b"weekday, a start and an end",
        ),
        (
            {"weekday": ["9"], "starts_at": ["09:00"], "ends_at": ["10:00"]},
            b"weekday, a start and an end",
        ),
    ],
)
def test_it_refuses_bad_working_hours(cast: Cast, hours: dict[str, Any], message: bytes) -> None:
    services.set_working_hours(cast.alice, cast.bob, blocks=[(2, dt.time(8), dt.time(16))])
    before = db_state()
    url = reverse("agencies:hours_update", args=[cast.bob.pk])
    response = cast.login(cast.alice).post(url, hours)
    assert response.status_code == 400
    assert message in response.content
    assert db_state() == before


def test_it_offers_another_hours_row_for_htmx(cast: Cast) -> None:
    response = cast.login(cast.dora).get(reverse("agencies:hours_row"))
    assert response.status_code == 200
    assert response.content.count(b'name="starts_at"') == 1
    assert b"<html" not in response.content


# --- absences (managers) ------------------------------------------------------------------------


def test_it_records_an_absence_with_a_stand_in(cast: Cast) -> None:
    url = reverse("agencies:absence_add", args=[cast.bob.pk])
    response = cast.login(cast.dora).post(url, absence_data(cast))
    assert response.status_code == 302
    absence = Absence.objects.get(member=cast.bob)
    assert (absence.stand_in, absence.reason, absence.agency_id) == (
        cast.eve,
        "Holiday",
        cast.agency_a.pk,
    )


def test_it_answers_htmx_with_the_absences_section(cast: Cast) -> None:
    url = reverse("agencies:absence_add", args=[cast.bob.pk])
    dora = cast.login(cast.dora)
    response = dora.post(url, absence_data(cast), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b'<section class="card stack" id="absences"')
    assert b"Holiday" in response.content
    bad = dora.post(url, absence_data(cast, ends_on="2000-01-01"), HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and b'id="absences"' in bad.content
    assert Absence.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"stand_in": "BOB"}, "stand_in"),
        ({"stand_in": "MALLORY"}, "stand_in"),
        ({"ends_on": "2000-01-01"}, "ends_on"),
        ({"starts_on": ""}, "starts_on"),
    ],
)
def test_it_refuses_a_bad_absence(cast: Cast, overrides: dict[str, str], field: str) -> None:
    people = {"BOB": str(cast.bob.pk), "MALLORY": str(cast.mallory.pk)}
    overrides = {k: people.get(v, v) for k, v in overrides.items()}
    before = db_state()
    url = reverse("agencies:absence_add", args=[cast.bob.pk])
    response = cast.login(cast.alice).post(url, absence_data(cast, **overrides))
    assert response.status_code == 400
    assert field in response.context["absence_form"].errors
    assert db_state() == before


def test_it_refuses_an_inactive_stand_in(cast: Cast) -> None:
    services.update_member(cast.alice, cast.eve, is_active=False)
    before = db_state()
    url = reverse("agencies:absence_add", args=[cast.bob.pk])
    response = cast.login(cast.alice).post(url, absence_data(cast))
    assert response.status_code == 400
    assert db_state() == before


def test_it_deletes_an_absence(cast: Cast, bob_absence: Absence) -> None:
    url = reverse("agencies:absence_delete", args=[bob_absence.pk])
    response = cast.login(cast.dora).post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("agencies:member", args=[cast.bob.pk])
    assert not Absence.objects.exists()


# --- my absences (everyone) ---------------------------------------------------------------------


def test_it_lets_an_assistant_keep_their_own_absences(cast: Cast) -> None:
    bob = cast.login(cast.bob)
    page = bob.get(reverse("agencies:my_absences"))
    assert page.status_code == 200
    assert cast.bob not in page.context["absence_form"].fields["stand_in"].queryset
    response = bob.post(reverse("agencies:my_absences"), absence_data(cast))
    assert response.status_code == 302
    absence = Absence.objects.get()
    assert (absence.member, absence.stand_in) == (cast.bob, cast.eve)
    response = bob.post(reverse("agencies:my_absence_delete", args=[absence.pk]))
    assert response.status_code == 302
    assert not Absence.objects.exists()


def test_it_refuses_a_bad_own_absence(cast: Cast) -> None:
    before = db_state()
    data = absence_data(cast, stand_in=str(cast.bob.pk))
    response = cast.login(cast.bob).post(reverse("agencies:my_absences"), data)
    assert response.status_code == 400
    assert "stand_in" in response.context["absence_form"].errors
    assert db_state() == before


def test_it_hides_other_peoples_absences_from_my_absences(cast: Cast) -> None:
    eves = services.add_absence(cast.eve, cast.eve, starts_on=today(), ends_on=today())
    before = db_state()
    url = reverse("agencies:my_absence_delete", args=[eves.pk])
    assert cast.login(cast.bob).post(url).status_code == 404
    assert cast.login(cast.mallory).post(url).status_code == 404
    assert db_state() == before


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "eve", "carol"])
def test_it_refuses_team_management_to_others_than_managers(
    cast: Cast, bob_absence: Absence, who: str
) -> None:
    http = cast.login(getattr(cast, who))
    before = db_state()
    data = {"email": "x@alpha.test", "name": "X", "role": "assistant", "password": NEW_PASSWORD}
    urls = [
        ("get", reverse("agencies:team"), {}),
        ("get", reverse("agencies:member_add"), {}),
        ("post", reverse("agencies:member_add"), data),
        ("get", reverse("agencies:hours_row"), {}),
        *id_urls(cast, bob_absence),
    ]
    for method, url, payload in urls:
        response = getattr(http, method)(url, payload)
        assert response.status_code == 403, (method, url)
    assert db_state() == before


def test_it_refuses_my_absences_to_contacts(cast: Cast) -> None:
    carol = cast.login(cast.carol)
    assert carol.get(reverse("agencies:my_absences")).status_code == 403
    assert carol.post(reverse("agencies:my_absences"), absence_data(cast)).status_code == 403
    assert not Absence.objects.exists()


def test_it_hides_another_agencys_members_and_absences(cast: Cast, bob_absence: Absence) -> None:
    mallory = cast.login(cast.mallory)
    before = db_state()
    for method, url, data in id_urls(cast, bob_absence):
        response = getattr(mallory, method)(url, data)
        assert response.status_code == 404, (method, url)
    assert db_state() == before
