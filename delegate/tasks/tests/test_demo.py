from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from delegate.agencies.models import Absence, Agency, Member
from delegate.clients.models import Client, Contact
from delegate.tasks.models import Message, Task


def test_it_creates_a_believable_demo_agency_once(db: None) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    agency = Agency.objects.get(slug="demo")
    assert Member.objects.filter(agency=agency, role="assistant").count() == 5
    assert Client.objects.filter(agency=agency).count() == 12
    assert Contact.objects.filter(agency=agency, identities__kind="email").distinct().count() >= 12
    statuses = dict(
        Task.objects.filter(agency=agency).values_list("status").annotate(n=Count("id"))
    )
    assert sum(statuses.values()) == 200
    assert set(statuses) == set(Task.Status.values)
    # Conversations: every task that was worked on has messages, some internal notes.
    worked = Task.objects.filter(agency=agency, status__in=["in_progress", "done"])
    assert not worked.filter(messages__isnull=True).exists()
    assert Message.objects.filter(agency=agency, is_internal=True).exists()
    today = timezone.localdate()
    absence = Absence.objects.get(agency=agency)
    assert absence.starts_on <= today <= absence.ends_on
    assert absence.stand_in is not None
    time_zones = set(
        Member.objects.filter(agency=agency, role="assistant").values_list(
            "profile__time_zone", flat=True
        )
    )
    assert len(time_zones) >= 4
    # History is spread over the past weeks; nobody gets mail about it.
    week_ago = timezone.now() - dt.timedelta(days=7)
    assert Task.objects.filter(agency=agency, created_at__lt=week_ago).exists()
    assert DBTaskResult.objects.count() == 0
    assert "owner@demo.delegate.test" in out.getvalue()

    call_command("seed_demo", stdout=StringIO())
    assert Agency.objects.filter(slug="demo").count() == 1
    assert Task.objects.filter(agency=agency).count() == 200
