"""Agency services: members and roles, profiles, skills, working hours, absences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

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
from delegate.testing import PASSWORD, Cast

T = dt.time
MONDAY = dt.date(2026, 3, 2)


def hours_of(member: Member) -> list[tuple[int, dt.time, dt.time]]:
    rows = WorkingHours.objects.filter(profile__member=member)
    return [(h.weekday, h.starts_at, h.ends_at) for h in rows]


# --- members and roles ----------------------------------------------------------------------


def test_it_creates_an_agency_with_its_owner(db: None) -> None:
    user = User.objects.create_user("olga@omega.test", PASSWORD)
    owner = services.create_agency(user, name="Omega Office")
    assert owner.role == "owner" and owner.agency.slug == "omega-office"


def test_it_adds_members_with_a_login_and_a_profile_for_assistants(cast: Cast) -> None:
    fritz = services.add_member(
        cast.dora, email=" Fritz@Alpha.test", name="Fritz", role="assistant", password=PASSWORD
    )
    assert fritz.user.email == "fritz@alpha.test" and fritz.user.check_password(PASSWORD)
    assert AssistantProfile.objects.get(member=fritz).agency_id == cast.agency_a.pk
    disp = services.add_member(cast.alice, email="d2@alpha.test", name="D2", role="dispatcher")
    assert not AssistantProfile.objects.filter(member=disp).exists()


def test_it_reuses_the_login_of_a_person_from_another_agency(cast: Cast) -> None:
    users = User.objects.count()
    helper = services.add_member(
        cast.alice, email="mallory@bravo.test", name="ignored", role="assistant", password="ignored"
    )
    assert helper.user == cast.mallory.user and User.objects.count() == users
    assert helper.user.check_password(PASSWORD)


def test_it_refuses_a_second_membership_and_unknown_roles(cast: Cast) -> None:
    members = Member.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.add_member(cast.alice, email="bob@alpha.test", name="Bob", role="assistant")
    assert "email" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.add_member(cast.alice, email="x@alpha.test", name="X", role="janitor")
    assert Member.objects.count() == members
    assert not User.objects.filter(email="x@alpha.test").exists()


def test_it_lets_only_owners_add_owners(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.add_member(cast.dora, email="o@alpha.test", name="O", role="owner")
    with pytest.raises(PermissionDenied):
        services.add_member(cast.bob, email="o@alpha.test", name="O", role="assistant")
    assert not User.objects.filter(email="o@alpha.test").exists()
    owner = services.add_member(cast.alice, email="o@alpha.test", name="O", role="owner")
    assert owner.role == "owner"


def test_it_keeps_at_least_one_owner(cast: Cast) -> None:
    with pytest.raises(ValidationError) as caught:
        services.update_member(cast.alice, cast.alice, role="dispatcher")
    assert "role" in caught.value.message_dict
    cast.alice.refresh_from_db()
    assert cast.alice.role == "owner"
    services.update_member(cast.alice, cast.dora, role="owner")
    services.update_member(cast.alice, cast.alice, role="dispatcher")
    cast.alice.refresh_from_db()
    assert cast.alice.role == "dispatcher"


def test_it_lets_only_owners_change_owners(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.update_member(cast.dora, cast.alice, is_active=False, role="owner")
    with pytest.raises(PermissionDenied):
        services.update_member(cast.dora, cast.bob, role="owner")
    with pytest.raises(PermissionDenied):
        services.update_member(cast.bob, cast.eve, is_active=False)
    with pytest.raises(PermissionDenied):
        services.update_member(cast.mallory, cast.bob, is_active=False)
    roles = dict(Member.objects.values_list("user__email", "role"))
    assert roles["alice@alpha.test"] == "owner" and roles["bob@alpha.test"] == "assistant"
    assert Member.objects.filter(is_active=False).count() == 0


# --- profile and skills ---------------------------------------------------------------------


def test_it_updates_the_profile(cast: Cast) -> None:
    profile = services.update_profile(
        cast.alice,
        cast.bob,
        capacity_hours_per_week=30.5,
        languages=["de", "fr"],
        time_zone="Europe/Paris",
    )
    profile.refresh_from_db()
    assert profile.capacity_hours_per_week == Decimal("30.5")
    assert (profile.languages, profile.time_zone) == (["de", "fr"], "Europe/Paris")


@pytest.mark.parametrize(
    "fields",
    [
        {"capacity_hours_per_week": 169},
        {"time_zone": "Mars/Olympus"},
        {"level": "guru"},
        {"role": "owner"},
    ],
)
def test_it_refuses_a_bad_profile(cast: Cast, fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        services.update_profile(cast.alice, cast.bob, **fields)
    profile = AssistantProfile.objects.get(member=cast.bob)
    assert (profile.capacity_hours_per_week, profile.time_zone, profile.level) == (
        Decimal("40"),
        "Europe/Berlin",
        "regular",
    )


def test_it_creates_skills_once_per_agency(cast: Cast) -> None:
    a = services.get_or_create_skill(cast.alice, "Travel booking")
    again = services.get_or_create_skill(cast.dora, "  travel   BOOKING ")
    b = services.get_or_create_skill(cast.mallory, "Travel booking")
    assert a == again and a != b
    assert (a.slug, a.name) == ("travel-booking", "Travel booking")
    with pytest.raises(ValidationError):
        services.get_or_create_skill(cast.alice, " !! ")
    with pytest.raises(PermissionDenied):
        services.get_or_create_skill(cast.bob, "Sneaky")
    assert Skill.objects.count() == 2


def test_it_replaces_skill_levels(cast: Cast) -> None:
    travel = services.get_or_create_skill(cast.alice, "Travel")
    finance = services.get_or_create_skill(cast.alice, "Finance")
    services.set_skills(cast.alice, cast.bob, levels={travel: 2, finance: 5})
    services.set_skills(cast.alice, cast.bob, levels={travel: 4})
    held = AssistantSkill.objects.filter(profile__member=cast.bob)
    assert [(h.skill, h.level) for h in held] == [(travel, 4)]


def test_it_refuses_bad_skill_levels_and_foreign_skills(cast: Cast) -> None:
    travel = services.get_or_create_skill(cast.alice, "Travel")
    services.set_skills(cast.alice, cast.bob, levels={travel: 3})
    foreign = services.get_or_create_skill(cast.mallory, "Bravo")
    for levels in ({travel: 0}, {travel: 6}):
        with pytest.raises(ValidationError):
            services.set_skills(cast.alice, cast.bob, levels=levels)
    with pytest.raises(PermissionDenied):
        services.set_skills(cast.alice, cast.bob, levels={foreign: 3})
    with pytest.raises(PermissionDenied):
        services.set_skills(cast.bob, cast.bob, levels={travel: 5})
    held = AssistantSkill.objects.filter(profile__member=cast.bob)
    assert [(h.skill, h.level) for h in held] == [(travel, 3)]


# --- working hours ---------------------------------------------------------------------------


def test_it_replaces_working_hours_with_several_blocks_a_day(cast: Cast) -> None:
    services.set_working_hours(cast.alice, cast.bob, blocks=[(4, T(9), T(12))])
    blocks = [(0, T(13), T(17)), (0, T(9), T(12)), (6, T(10), T(11))]
    services.set_working_hours(cast.alice, cast.bob, blocks=blocks)
    assert hours_of(cast.bob) == [(0, T(9), T(12)), (0, T(13), T(17)), (6, T(10), T(11))]


def test_it_accepts_blocks_that_touch(cast: Cast) -> None:
    services.set_working_hours(cast.alice, cast.bob, blocks=[(2, T(9), T(12)), (2, T(12), T(14))])
    assert len(hours_of(cast.bob)) == 2


@pytest.mark.parametrize(
    "blocks",
    [
        [(0, T(9), T(12)), (0, T(11, 59), T(14))],
        [(3, T(8), T(18)), (3, T(10), T(11))],
        [(1, T(9), T(9))],
        [(1, T(17), T(9))],
        [(7, T(9), T(10))],
        [(-1, T(9), T(10))],
    ],
)
def test_it_refuses_overlapping_or_malformed_hours(
    cast: Cast, blocks: list[tuple[int, dt.time, dt.time]]
) -> None:
    services.set_working_hours(cast.alice, cast.bob, blocks=[(4, T(9), T(12))])
    with pytest.raises(ValidationError):
        services.set_working_hours(cast.alice, cast.bob, blocks=blocks)
    assert hours_of(cast.bob) == [(4, T(9), T(12))]


def test_it_allows_the_same_times_on_different_days(cast: Cast) -> None:
    services.set_working_hours(cast.alice, cast.bob, blocks=[(d, T(9), T(17)) for d in range(5)])
    assert len(hours_of(cast.bob)) == 5


def test_it_lets_only_managers_set_hours(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.set_working_hours(cast.bob, cast.bob, blocks=[(0, T(9), T(10))])
    with pytest.raises(PermissionDenied):
        services.set_working_hours(cast.mallory, cast.bob, blocks=[(0, T(9), T(10))])
    assert hours_of(cast.bob) == []


# --- absences ----------------------------------------------------------------------------------


def test_it_records_absences_and_finds_who_is_away(cast: Cast) -> None:
    absence = services.add_absence(
        cast.dora,
        cast.bob,
        starts_on=MONDAY,
        ends_on=MONDAY + dt.timedelta(days=4),
        stand_in=cast.eve,
    )
    assert services.absent_today(cast.bob, MONDAY + dt.timedelta(days=4)) == absence
    assert services.absent_today(cast.bob, MONDAY + dt.timedelta(days=5)) is None
    assert services.absent_today(cast.eve, MONDAY) is None


def test_it_lets_assistants_record_only_their_own_absence(cast: Cast) -> None:
    own = services.add_absence(cast.bob, cast.bob, starts_on=MONDAY, ends_on=MONDAY)
    with pytest.raises(PermissionDenied):
        services.add_absence(cast.bob, cast.eve, starts_on=MONDAY, ends_on=MONDAY)
    with pytest.raises(PermissionDenied):
        services.add_absence(cast.mallory, cast.bob, starts_on=MONDAY, ends_on=MONDAY)
    assert list(Absence.objects.all()) == [own]


@pytest.mark.parametrize("case", ["self", "inactive", "reversed", "foreign"])
def test_it_refuses_a_bad_absence(cast: Cast, case: str) -> None:
    cast.dora.is_active = False
    cast.dora.save()
    stand_in = {"self": cast.bob, "inactive": cast.dora, "foreign": cast.mallory}.get(case)
    ends_on = MONDAY - dt.timedelta(days=1) if case == "reversed" else MONDAY
    error = PermissionDenied if case == "foreign" else ValidationError
    with pytest.raises(error):
        services.add_absence(
            cast.alice, cast.bob, starts_on=MONDAY, ends_on=ends_on, stand_in=stand_in
        )
    assert not Absence.objects.exists()


def test_it_deletes_absences_of_oneself_or_as_a_manager(cast: Cast) -> None:
    bobs = services.add_absence(cast.bob, cast.bob, starts_on=MONDAY, ends_on=MONDAY)
    eves = services.add_absence(cast.eve, cast.eve, starts_on=MONDAY, ends_on=MONDAY)
    with pytest.raises(PermissionDenied):
        services.delete_absence(cast.bob, eves)
    with pytest.raises(PermissionDenied):
        services.delete_absence(cast.mallory, eves)
    services.delete_absence(cast.bob, bobs)
    services.delete_absence(cast.dora, eves)
    assert not Absence.objects.exists()


def test_it_keeps_an_active_owner(cast: Cast) -> None:
    from django.core.exceptions import ValidationError

    from delegate.agencies.services import update_member

    with pytest.raises(ValidationError):
        update_member(cast.alice, cast.alice, is_active=False)
    cast.alice.refresh_from_db()
    assert cast.alice.is_active


def test_it_creates_new_skills_with_the_levels_or_not_at_all(cast: Cast) -> None:
    services.set_skills(cast.alice, cast.bob, levels={}, new_skills={"Travel booking": 4})
    skill = Skill.objects.get(agency=cast.agency_a, slug="travel-booking")
    assert AssistantSkill.objects.get(profile__member=cast.bob).skill == skill
    with pytest.raises(ValidationError):
        services.set_skills(cast.alice, cast.bob, levels={skill: 9}, new_skills={"Payroll": 2})
    assert not Skill.objects.filter(agency=cast.agency_a, slug="payroll").exists()
    assert AssistantSkill.objects.get(profile__member=cast.bob).level == 4
