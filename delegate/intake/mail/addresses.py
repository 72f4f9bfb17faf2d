"""Intake addresses. Every agency receives at ``<agency-slug>@<domain>`` for each domain
in ``INTAKE_EMAIL_DOMAINS``; plus-addressing narrows it down: ``<slug>+<client code>@…``
is a client's own address, ``<slug>+task-<task code>@…`` the reply address of a task
(what Delegate's mail to clients carries as Reply-To)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from delegate.agencies.models import Agency
from delegate.clients.models import Client
from delegate.tasks.models import Task

TASK_TAG = "task-"


@dataclass(frozen=True)
class Route:
    agency: Agency
    client: Client | None = None
    task_code: str = ""


def _parts(address: str) -> tuple[str, str] | None:
    """(agency slug, tag) of an intake address, or None for another domain."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if not local or domain.lower() not in settings.INTAKE_EMAIL_DOMAINS:
        return None
    base, _, tag = local.partition("+")
    return base.lower(), tag


def task_code_in(address: str) -> str:
    """The task code of a task reply address, '' for any other address (no queries:
    the worker asks this of every mail)."""
    parts = _parts(address)
    if parts is None or not parts[1].lower().startswith(TASK_TAG):
        return ""
    return parts[1][len(TASK_TAG) :].upper()


def route_for(address: str) -> Route | None:
    """Where mail to ``address`` goes, or None if no agency receives it here."""
    parts = _parts(address)
    if parts is None:
        return None
    slug, tag = parts
    agency = Agency.objects.filter(slug=slug).first()
    if agency is None:
        return None
    if tag.lower().startswith(TASK_TAG):
        return Route(agency, task_code=task_code_in(address))
    client = Client.objects.filter(agency=agency, code=tag.upper()).first() if tag else None
    return Route(agency, client=client)


def _domain() -> str:
    return settings.INTAKE_EMAIL_DOMAINS[0]


def agency_address(agency: Agency) -> str:
    return f"{agency.slug}@{_domain()}"


def client_address(client: Client) -> str:
    return f"{client.agency.slug}+{client.code.lower()}@{_domain()}"


def task_reply_address(task: Task) -> str:
    return f"{task.agency.slug}+{TASK_TAG}{task.code.lower()}@{_domain()}"
