"""The fixed cast every test uses.

Agency A ("Alpha Assist"): alice (owner), dora (dispatcher), bob (assistant, primary of
client Acme), eve (assistant of A who is *not* assigned to Acme), carol (contact at Acme
with a portal login). Agency B ("Bravo Backoffice"): mallory (owner), with her own client
Globex, contact gina and a task. Everyone's password is ``PASSWORD``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client as HttpClient
from django.utils import timezone

from delegate.accounts.models import User
from delegate.agencies import services as agency_services
from delegate.agencies.models import Agency, Member
from delegate.clients import services as client_services
from delegate.clients.models import Client, Contact
from delegate.tasks import services as task_services
from delegate.tasks.models import Attachment, Message, Task

PASSWORD = "correct horse battery staple"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def assert_fits_the_phone(page: Any) -> None:
    """Nothing on the page scrolls sideways on a phone-sized screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px screen"


def db_state(*models: type[Model]) -> dict[str, list[dict[str, Any]]]:
    """Every row of the given tables, to compare before and after a refused request
    (logging in for the request only touches ``last_login``)."""
    return {
        model.__name__: [
            {k: v for k, v in row.items() if k != "last_login"}
            for row in model._default_manager.order_by("pk").values()
        ]
        for model in models
    }


@dataclass
class Cast:
    agency_a: Agency
    agency_b: Agency
    alice: Member  # owner A
    dora: Member  # dispatcher A
    bob: Member  # assistant A, primary of acme
    eve: Member  # assistant A, not assigned to acme
    mallory: Member  # owner B
    acme: Client
    carol: Contact  # contact at acme, portal login
    globex: Client  # client of B
    gina: Contact  # contact at globex, portal login
    task: Task  # acme's task, assigned to bob
    note: Message  # internal note on task
    reply: Message  # outbound reply on task
    attachment: Attachment  # on the reply
    internal_attachment: Attachment  # on the internal note
    task_b: Task  # globex's task

    def login(self, who: Member | Contact | User) -> HttpClient:
        user = who if isinstance(who, User) else who.user
        assert user is not None
        client = HttpClient()
        client.force_login(user)
        return client

    def outsiders(self) -> dict[str, Member | Contact]:
        """Everyone who must not see acme's task: another agency's owner and contact,
        and the unassigned assistant of the same agency."""
        return {"mallory": self.mallory, "gina": self.gina, "eve": self.eve}


def _user(email: str, name: str, language: str = "de") -> User:
    return User.objects.create_user(email, PASSWORD, name=name, language=language)


def make_cast() -> Cast:
    alice_user = _user("alice@alpha.test", "Alice Adler")
    alice = agency_services.create_agency(
        alice_user, name="Alpha Assist", slug="alpha", legal_name="Alpha Assist GmbH"
    )
    agency_a = alice.agency
    dora = agency_services.add_member(
        alice, email="dora@alpha.test", name="Dora Dietz", role="dispatcher", password=PASSWORD
    )
    bob = agency_services.add_member(
        alice, email="bob@alpha.test", name="Bob Becker", role="assistant", password=PASSWORD
    )
    eve = agency_services.add_member(
        alice, email="eve@alpha.test", name="Eve Engel", role="assistant", password=PASSWORD
    )
    acme = client_services.create_client(alice, name="Acme GmbH", primary_assistant=bob)
    carol = client_services.create_contact(
        alice, acme, name="Carol Clausen", emails=["carol@acme.test"], phones=["0151 23456789"]
    )
    carol.user = _user("carol@acme.test", "Carol Clausen")
    carol.save()

    mallory_user = _user("mallory@bravo.test", "Mallory Meyer")
    mallory = agency_services.create_agency(mallory_user, name="Bravo Backoffice", slug="bravo")
    globex = client_services.create_client(mallory, name="Globex AG")
    gina = client_services.create_contact(
        mallory, globex, name="Gina Graf", emails=["gina@globex.test"]
    )
    gina.user = _user("gina@globex.test", "Gina Graf")
    gina.save()

    task = task_services.create_task(
        carol,
        client=acme,
        title="Book a flight to Hamburg",
        channel=Task.Channel.PORTAL,
        description="Next Tuesday morning, back Wednesday evening.",
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    task = task_services.assign_task(dora, task, assistant=bob)
    note = task_services.post_message(
        bob,
        task,
        text="Client prefers aisle seats.",
        is_internal=True,
        files=[SimpleUploadedFile("internal.txt", b"secret notes")],
    )
    reply = task_services.post_message(
        bob,
        task,
        text="Which airport do you prefer?",
        files=[SimpleUploadedFile("options.txt", b"HAM or LBC")],
    )
    task_b = task_services.create_task(
        gina, client=globex, title="Reconcile October invoices", channel=Task.Channel.PORTAL
    )
    return Cast(
        agency_a=agency_a,
        agency_b=mallory.agency,
        alice=alice,
        dora=dora,
        bob=bob,
        eve=eve,
        mallory=mallory,
        acme=acme,
        carol=carol,
        globex=globex,
        gina=gina,
        task=task,
        note=note,
        reply=reply,
        attachment=reply.attachments.get(),
        internal_attachment=note.attachments.get(),
        task_b=task_b,
    )
