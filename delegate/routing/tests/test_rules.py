"""Agency rules (category → team, VIP → senior) through the database and the rules page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delegate.agencies import services as agency_services
from delegate.clients import services as client_services
from delegate.routing import services
from delegate.routing.models import CategoryRoute
from delegate.routing.tests.conftest import NOW, Team, triaged_task
from delegate.tasks.models import Category, Task
from delegate.testing import db_state

RULES = reverse("routing:rules")


@pytest.fixture
def finance(team: Team) -> Category:
    return Category.objects.create(
        agency=team.cast.agency_a, slug="finance", name_en="Finance", name_de="Finanzen"
    )


def _without_primary_and_backup(team: Team) -> None:
    client_services.update_client(
        team.cast.alice, team.cast.acme, primary_assistant=None, backup_assistant=None
    )


def test_a_category_goes_to_its_team(team: Team, finance: Category) -> None:
    _without_primary_and_backup(team)
    services.set_category_team(team.cast.dora, finance, members=[team.mia])
    task = triaged_task(team, category=finance)
    decision = services.route_task(None, task, now=NOW)
    assert decision is not None and decision.step == "agency"
    assert "category_rule" in [r.code for r in decision.reasons]
    task.refresh_from_db()
    assert task.assignee == team.mia


def test_vip_clients_go_to_senior_assistants(team: Team) -> None:
    _without_primary_and_backup(team)
    client_services.update_client(team.cast.alice, team.cast.acme, service_level="vip")
    agency_services.update_profile(team.cast.alice, team.cast.eve, level="senior")
    task = triaged_task(team)
    services.route_task(None, task, now=NOW)
    task.refresh_from_db()
    assert task.assignee == team.cast.eve


def test_a_dispatcher_sets_a_category_team_on_the_rules_page(team: Team, finance: Category) -> None:
    http = team.cast.login(team.cast.dora)
    page = http.get(RULES)
    assert page.status_code == 200
    assert "Finance" in page.content.decode()
    response = http.post(
        RULES, {"category": str(finance.pk), "members": [str(team.mia.pk), str(team.cast.eve.pk)]}
    )
    assert response.status_code == 302
    assert set(CategoryRoute.objects.values_list("member_id", flat=True)) == {
        team.mia.pk,
        team.cast.eve.pk,
    }
    http.post(RULES, {"category": str(finance.pk), "members": [str(team.mia.pk)]})
    assert list(CategoryRoute.objects.values_list("member_id", flat=True)) == [team.mia.pk]


def test_outsiders_get_404_and_assistants_403_on_rules(team: Team, finance: Category) -> None:
    cast = team.cast
    before = db_state(CategoryRoute, Task)
    # Mallory's own agency has no such category or member.
    response = cast.login(cast.mallory).post(
        RULES, {"category": str(finance.pk), "members": [str(team.mia.pk)]}
    )
    assert response.status_code == 404
    # Dora names a member of another agency.
    response = cast.login(cast.dora).post(
        RULES, {"category": str(finance.pk), "members": [str(team.zed.pk)]}
    )
    assert response.status_code == 404
    assert cast.login(cast.bob).post(RULES, {"category": str(finance.pk)}).status_code == 403
    assert cast.login(cast.bob).get(RULES).status_code == 403
    assert cast.login(cast.carol).get(RULES).status_code == 403
    assert db_state(CategoryRoute, Task) == before
