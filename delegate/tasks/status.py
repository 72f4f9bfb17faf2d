"""The task status machine: every allowed transition and who may make it, in one place.

Roles are relative to a task: ``owner`` and ``dispatcher`` (managers), ``assignee`` (the
assistant the task is assigned to), ``assistant`` (another assistant who can see the
task), ``client`` (a contact of the task's client) and ``system`` (background work).
"""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import PermissionDenied

from delegate.tasks.models import Task

Role = Literal["owner", "dispatcher", "assignee", "assistant", "client", "system"]

S = Task.Status
MANAGERS: frozenset[Role] = frozenset({"owner", "dispatcher"})
WORKERS: frozenset[Role] = MANAGERS | {"assignee"}

TRANSITIONS: dict[str, dict[str, frozenset[Role]]] = {
    S.NEW: {
        S.TRIAGED: MANAGERS | {"system"},
        S.ASSIGNED: MANAGERS | {"system"},
        S.CANCELLED: MANAGERS | {"client"},
    },
    S.TRIAGED: {
        S.ASSIGNED: MANAGERS | {"system"},
        S.CANCELLED: MANAGERS | {"client"},
    },
    S.ASSIGNED: {
        S.IN_PROGRESS: WORKERS,
        S.TRIAGED: MANAGERS | {"system"},  # unassigned again
        S.WAITING_ON_CLIENT: WORKERS,
        S.DONE: WORKERS,
        S.CANCELLED: MANAGERS | {"client"},
    },
    S.IN_PROGRESS: {
        S.WAITING_ON_CLIENT: WORKERS,
        S.DONE: WORKERS,
        S.TRIAGED: MANAGERS | {"system"},  # unassigned again
        S.CANCELLED: MANAGERS,
    },
    S.WAITING_ON_CLIENT: {
        S.IN_PROGRESS: WORKERS | {"client", "system"},
        S.TRIAGED: MANAGERS | {"client", "system"},  # reply on an unassigned task
        S.DONE: WORKERS,
        S.CANCELLED: MANAGERS | {"client"},
    },
    S.DONE: {
        S.IN_PROGRESS: WORKERS | {"client"},  # reopened
        S.TRIAGED: MANAGERS | {"client"},  # reopened, nobody assigned any more
    },
    S.CANCELLED: {
        S.TRIAGED: MANAGERS,  # restored
    },
}

# Assignment is its own action; these roles may hand a task to someone (or to nobody).
ASSIGNERS: frozenset[Role] = MANAGERS | {"assignee", "system"}


class TransitionError(ValueError):
    """The transition does not exist (a 400/422 for the caller)."""


class TransitionForbidden(PermissionDenied):
    """The transition exists but this role may not make it: a PermissionDenied, so every
    caller answers 403 without special handling."""


def allowed_targets(current: str, role: Role) -> list[str]:
    return [target for target, roles in TRANSITIONS.get(current, {}).items() if role in roles]


def check_transition(current: str, target: str, role: Role) -> None:
    if target not in S.values:
        raise TransitionError(f"unknown status {target!r}")
    roles = TRANSITIONS.get(current, {}).get(target)
    if roles is None:
        raise TransitionError(f"a task cannot go from {current} to {target}")
    if role not in roles:
        raise TransitionForbidden(f"a {role} may not move a task from {current} to {target}")
