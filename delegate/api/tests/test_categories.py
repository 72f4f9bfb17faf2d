"""/categories: the category list triage chooses from, edited through the API."""

from __future__ import annotations

import pytest

from delegate.agencies.models import Skill
from delegate.api.tests.conftest import Api
from delegate.tasks.categories import ensure_default_categories
from delegate.tasks.models import Category
from delegate.testing import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def categories(cast: Cast) -> dict[str, Category]:
    ensure_default_categories(cast.agency_b)  # another agency's list must not show
    return {c.slug: c for c in ensure_default_categories(cast.agency_a)}


def _state(category: Category) -> tuple[object, ...]:
    category.refresh_from_db()
    skills = sorted(s.slug for s in category.skills.all())
    return (category.name_en, category.name_de, category.is_active, skills)


def test_it_lists_the_agency_categories_with_their_skills(
    categories: dict[str, Category], bob_api: Api
) -> None:
    body = bob_api.get("/categories", {"limit": 200}).json()
    assert body["count"] == 13
    assert {c["slug"] for c in body["items"]} == set(categories)
    travel = next(c for c in body["items"] if c["slug"] == "travel")
    assert travel["name_de"] == "Reisen" and travel["is_active"] is True
    assert [s["slug"] for s in travel["skills"]] == ["travel"]


def test_a_manager_adds_a_category_with_skills(cast: Cast, alice_api: Api) -> None:
    skill = Skill.objects.create(agency=cast.agency_a, slug="events", name="Events")
    response = alice_api.post(
        "/categories",
        {"name_en": "Events", "name_de": "Veranstaltungen", "skill_ids": [str(skill.pk)]},
        key="cat-1",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "events" and [s["id"] for s in body["skills"]] == [str(skill.pk)]
    assert Category.objects.get(pk=body["id"]).agency == cast.agency_a
    again = alice_api.post("/categories", {"name_en": "Events", "name_de": "X"})
    assert again.status_code == 422 and "name_en" in again.json()["errors"]


def test_a_manager_edits_and_deactivates_a_category(
    cast: Cast, categories: dict[str, Category], alice_api: Api
) -> None:
    travel = categories["travel"]
    skill = Skill.objects.create(agency=cast.agency_a, slug="visa", name="Visa")
    response = alice_api.patch(
        f"/categories/{travel.pk}", {"name_de": "Reise & Visa", "skill_ids": [str(skill.pk)]}
    )
    assert response.status_code == 200, response.json()
    assert _state(travel) == ("Travel", "Reise & Visa", True, ["visa"])
    assert alice_api.patch(f"/categories/{travel.pk}", {"is_active": False}).status_code == 200
    assert _state(travel) == ("Travel", "Reise & Visa", False, ["visa"])
    inactive = alice_api.get("/categories", {"is_active": False}).json()["items"]
    assert [c["slug"] for c in inactive] == ["travel"]
    assert alice_api.patch(f"/categories/{travel.pk}", {"is_active": True}).status_code == 200
    assert _state(travel)[2] is True


def test_an_assistant_or_a_read_only_key_changes_nothing(
    categories: dict[str, Category], bob_api: Api, alice_ro: Api
) -> None:
    travel = categories["travel"]
    before = (_state(travel), Category.objects.count())
    assert bob_api.patch(f"/categories/{travel.pk}", {"is_active": False}).status_code == 403
    assert bob_api.post("/categories", {"name_en": "A", "name_de": "A"}).status_code == 403
    assert alice_ro.patch(f"/categories/{travel.pk}", {"name_en": "X"}).status_code == 403
    assert bob_api.get(f"/categories/{travel.pk}").status_code == 200
    assert (_state(travel), Category.objects.count()) == before


def test_another_agency_sees_and_changes_nothing(
    cast: Cast, categories: dict[str, Category], alice_api: Api, mallory_api: Api
) -> None:
    travel = categories["travel"]
    before = _state(travel)
    assert mallory_api.get(f"/categories/{travel.pk}").status_code == 404
    assert mallory_api.patch(f"/categories/{travel.pk}", {"is_active": False}).status_code == 404
    assert all(c["id"] != str(travel.pk) for c in mallory_api.get("/categories").json()["items"])
    # Nor can a manager attach another agency's skill.
    foreign = Skill.objects.create(agency=cast.agency_b, slug="spy", name="Spy")
    sneaky = alice_api.patch(f"/categories/{travel.pk}", {"skill_ids": [str(foreign.pk)]})
    assert sneaky.status_code == 404
    created = alice_api.post(
        "/categories", {"name_en": "Spy", "name_de": "Spion", "skill_ids": [str(foreign.pk)]}
    )
    assert created.status_code == 404
    assert _state(travel) == before and not Category.objects.filter(slug="spy").exists()
