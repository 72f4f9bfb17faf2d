from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from delegate.agencies.models import Skill
from delegate.tasks.models import Category, Task
from delegate.testing import Cast, db_state

LIST = reverse("triage:categories")


def edit_url(category: Category) -> str:
    return reverse("triage:category_edit", args=[category.pk])


def delete_url(category: Category) -> str:
    return reverse("triage:category_delete", args=[category.pk])


def _state() -> dict[str, list[dict[str, Any]]]:
    return db_state(Category, Category.skills.through, Task)


def test_a_manager_adds_a_category_with_its_skills(triage_cast: Cast) -> None:
    cast = triage_cast
    travel = Skill.objects.get(agency=cast.agency_a, slug="travel")
    response = cast.login(cast.alice).post(
        LIST, {"name_en": "Event planning", "name_de": "Eventplanung", "skills": [travel.pk]}
    )
    assert response.status_code == 302
    category = Category.objects.get(agency=cast.agency_a, slug="event-planning")
    assert category.name_de == "Eventplanung"
    assert list(category.skills.all()) == [travel]
    page = cast.login(cast.alice).get(LIST).content.decode()
    assert "Event planning" in page and "Calendar &amp; appointments" in page


def test_a_duplicate_name_is_refused_without_changes(triage_cast: Cast) -> None:
    before = _state()
    response = triage_cast.login(triage_cast.dora).post(
        LIST, {"name_en": "Travel", "name_de": "Reisen 2"}
    )
    assert response.status_code == 400
    assert "exists already" in response.content.decode()
    assert _state() == before


def test_a_manager_renames_and_removes_a_category(triage_cast: Cast) -> None:
    cast = triage_cast
    category = Category.objects.get(agency=cast.agency_a, slug="research")
    task = cast.task
    Task.objects.filter(pk=task.pk).update(category=category)
    http = cast.login(cast.dora)
    assert http.get(edit_url(category)).status_code == 200
    response = http.post(edit_url(category), {"name_en": "Research & analysis",
                                                "name_de": "Recherche & Analyse"})  # fmt: skip
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.slug, category.name_en) == ("research", "Research & analysis")
    assert list(category.skills.all()) == []
    assert http.get(delete_url(category)).status_code == 405
    # in use by a task: kept for it, deactivated
    assert http.post(delete_url(category)).status_code == 302
    category.refresh_from_db()
    assert not category.is_active
    assert Task.objects.get(pk=task.pk).category == category
    # an unused one goes
    unused = Category.objects.get(agency=cast.agency_a, slug="errands")
    response = http.post(delete_url(unused), follow=True)
    assert not Category.objects.filter(pk=unused.pk).exists()
    assert (
        "Category removed" in response.content.decode() or "entfernt" in response.content.decode()
    )


def test_a_category_with_a_contract_price_or_routing_rule_is_kept(triage_cast: Cast) -> None:
    """Removing a category used to delete every contract's price for it (past contract
    versions included) and its routing rules with it."""
    from delegate.billing.models import TaskPrice
    from delegate.billing.tests.helpers import contract
    from delegate.routing.models import CategoryRoute

    cast = triage_cast
    priced = Category.objects.get(agency=cast.agency_a, slug="bookkeeping")
    routed = Category.objects.get(agency=cast.agency_a, slug="social-media")
    terms = contract(cast)
    TaskPrice.objects.create(agency=cast.agency_a, contract=terms, category=priced, price=50)
    CategoryRoute.objects.create(agency=cast.agency_a, category=routed, member=cast.bob)
    http = cast.login(cast.alice)
    for category in (priced, routed):
        assert http.post(delete_url(category)).status_code == 302
        category.refresh_from_db()
        assert not category.is_active
    assert TaskPrice.objects.filter(category=priced).count() == 1
    assert CategoryRoute.objects.filter(category=routed).count() == 1


def test_another_agencys_manager_gets_404_and_changes_nothing(triage_cast: Cast) -> None:
    category = Category.objects.get(agency=triage_cast.agency_a, slug="research")
    http = triage_cast.login(triage_cast.mallory)
    before = _state()
    assert http.get(edit_url(category)).status_code == 404
    assert http.post(edit_url(category), {"name_en": "x", "name_de": "x"}).status_code == 404
    assert http.post(delete_url(category)).status_code == 404
    assert _state() == before
    # Her own list shows only her agency's categories.
    assert Category.objects.filter(agency=triage_cast.agency_b).count() == 13


@pytest.mark.parametrize("who", ["bob", "eve", "carol", "gina"])
def test_assistants_and_contacts_get_403_and_change_nothing(triage_cast: Cast, who: str) -> None:
    category = Category.objects.get(agency=triage_cast.agency_a, slug="research")
    http = triage_cast.login(getattr(triage_cast, who))
    before = _state()
    assert http.get(LIST).status_code == 403
    assert http.post(LIST, {"name_en": "x", "name_de": "x"}).status_code == 403
    assert http.post(edit_url(category), {"name_en": "x", "name_de": "x"}).status_code == 403
    assert http.post(delete_url(category)).status_code == 403
    assert _state() == before
