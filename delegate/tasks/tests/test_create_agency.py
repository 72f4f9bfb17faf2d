from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from delegate.accounts.models import User
from delegate.agencies.models import Agency, Member
from delegate.tasks.models import Category


def test_it_opens_an_agency_with_owner_and_categories(db: None) -> None:
    out = StringIO()
    call_command("create_agency", "--name", "Büro Nord", "--owner-email", "Chefin@Nord.test",
                 "--password", "a long enough password", stdout=out)  # fmt: skip
    agency = Agency.objects.get(slug="buro-nord")
    owner = Member.objects.get(agency=agency)
    assert owner.role == "owner" and owner.user.email == "chefin@nord.test"
    assert owner.user.check_password("a long enough password")
    assert Category.objects.filter(agency=agency).count() == 13
    assert Category.objects.get(agency=agency, slug="travel").skills.exists()
    assert "Büro Nord" in out.getvalue()


def test_it_refuses_a_taken_slug_and_writes_nothing(db: None) -> None:
    call_command("create_agency", "--name", "Nord", "--owner-email", "a@nord.test",
                 "--password", "pw one two three", stdout=StringIO())  # fmt: skip
    with pytest.raises(CommandError):
        call_command("create_agency", "--name", "Nord", "--owner-email", "b@nord.test",
                     "--password", "pw one two three", stdout=StringIO())  # fmt: skip
    assert Agency.objects.count() == 1
    assert not User.objects.filter(email="b@nord.test").exists()


def test_it_needs_a_password_for_a_new_login(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("create_agency", "--name", "Süd", "--owner-email", "x@sued.test",
                     stdout=StringIO())  # fmt: skip
    assert not Agency.objects.exists()
