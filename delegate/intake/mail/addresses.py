"""Intake addresses. Every agency receives at ``<agency-slug>@<domain>`` for each domain
in ``INTAKE_EMAIL_DOMAINS``; an agency with its own intake domain (``Agency.intake_domain``,
its MX pointing here) also receives at ``tasks@<its domain>`` (any name in
``INTAKE_MAILBOX_NAMES``). Plus-addressing narrows it down: ``…+<client code>@…`` is a
client's own address, ``…+task-<task code>@…`` the reply address of a task (what
Delegate's mail to clients carries as Reply-To)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from delegate.agencies.models import Agency, normalise_domain
from delegate.clients.models import Client
from delegate.tasks.models import Task

TASK_TAG = "task-"


@dataclass(frozen=True)
class Route:
    agency: Agency
    client: Client | None = None
    task_code: str = ""


@dataclass(frozen=True)
class _Parts:
    base: str  # the local part before "+", lower-case
    tag: str  # after "+", as written
    domain: str  # lower-case
    shared: bool  # one of INTAKE_EMAIL_DOMAINS (base is the agency slug)


def _parts(address: str) -> _Parts | None:
    """The pieces of an address that may be an intake address (no queries), or None."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    domain = normalise_domain(domain)
    if not local or not domain:
        return None
    base, _, tag = local.partition("+")
    base = base.lower()
    shared = domain in settings.INTAKE_EMAIL_DOMAINS
    if not shared and base not in settings.INTAKE_MAILBOX_NAMES:
        return None
    return _Parts(base, tag, domain, shared)


def _task_code(parts: _Parts | None) -> str:
    if parts is None or not parts.tag.lower().startswith(TASK_TAG):
        return ""
    return parts.tag[len(TASK_TAG) :].upper()


def task_code_in(address: str) -> str:
    """The task code of a task reply address, '' for any other address (no queries:
    the worker asks this of every mail)."""
    return _task_code(_parts(address))


def route_for(address: str) -> Route | None:
    """Where mail to ``address`` goes, or None if no agency receives it here."""
    parts = _parts(address)
    if parts is None:
        return None
    if parts.shared:
        agency = Agency.objects.filter(slug=parts.base).first()
    else:
        agency = Agency.objects.filter(intake_domain=parts.domain).first()
    if agency is None:
        return None
    tag = parts.tag
    if task_code := _task_code(parts):
        return Route(agency, task_code=task_code)
    client = Client.objects.filter(agency=agency, code=tag.upper()).first() if tag else None
    return Route(agency, client=client)


def _address(agency: Agency, tag: str = "") -> str:
    plus = f"+{tag}" if tag else ""
    if agency.intake_domain:
        return f"{settings.INTAKE_MAILBOX_NAMES[0]}{plus}@{agency.intake_domain}"
    return f"{agency.slug}{plus}@{settings.INTAKE_EMAIL_DOMAINS[0]}"


def agency_address(agency: Agency) -> str:
    return _address(agency)


def client_address(client: Client) -> str:
    return _address(client.agency, client.code.lower())


def task_reply_address(task: Task) -> str:
    return _address(task.agency, f"{TASK_TAG}{task.code.lower()}")
