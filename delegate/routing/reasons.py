"""Routing's reasons as sentences, in the reader's language.

``core`` records each reason as a code with parameters (stored on the task's event), so
the same decision reads in German for one dispatcher and in English for another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WHY = {
    "absent": lambda p: (
        _("%(name)s is away until %(until)s") % {**p, "until": _date(p.get("until"))}
    ),
    "missing_skill": lambda p: _("%(name)s lacks the skill %(skill)s") % p,
    "language": lambda p: _("%(name)s does not speak %(language)s") % p,
    "too_many_tasks": lambda p: _("%(name)s has %(open)s open tasks already") % p,
    "over_capacity": lambda p: (
        _("%(name)s is at capacity (%(open_hours)s of %(capacity_hours)s h)") % p
    ),
    "no_time": lambda p: (
        _("%(name)s cannot finish before the deadline (%(short)s short)")
        % {**p, "short": _duration(p.get("short_minutes", 0))}
    ),
    "not_available": lambda p: _("not an active assistant of the agency"),
}

ROLE = {
    "primary": lambda: _("Primary assistant"),
    "holder": lambda: _("Assignee"),
    "stand_in": lambda: _("Stand-in"),
    "backup": lambda: _("Backup assistant"),
}

CHOSEN = {
    "primary": lambda p: _("primary assistant %(name)s") % p,
    "stand_in": lambda p: _("stand-in %(name)s") % p,
    "backup": lambda p: _("backup %(name)s") % p,
    "team": lambda p: _("%(name)s from the client's team") % p,
    "agency": lambda p: _("%(name)s, best suited in the agency") % p,
    "late": lambda p: _("%(name)s comes closest to the deadline") % p,
}


def _date(value: Any) -> str:
    try:
        return str(formats.date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT"))
    except ValueError:
        return str(value)


def _duration(minutes: Any) -> str:
    minutes = int(minutes or 0)
    if minutes < 60:
        return ngettext("%(count)d min", "%(count)d min", minutes) % {"count": minutes}
    hours = round(minutes / 60, 1)
    return _("%(hours)s h") % {"hours": f"{hours:g}"}


def sentence(reason: dict[str, Any]) -> str:
    """One reason as a phrase."""
    code = str(reason.get("code", ""))
    params = {k: v for k, v in reason.items() if k != "code"}
    params.setdefault("name", "?")
    if code.endswith("_unfit"):
        role = code.removesuffix("_unfit")
        why = WHY.get(str(params.get("why")), lambda p: str(p.get("why")))(params)
        return f"{ROLE.get(role, lambda: role)()}: {why}"
    if code in CHOSEN:
        parts = [_("→ %(who)s") % {"who": CHOSEN[code](params)}]
        skills = params.get("skills") or {}
        if skills:
            listed = ", ".join(f"{slug} ({level}/5)" for slug, level in sorted(skills.items()))
            parts.append(_("has %(skills)s") % {"skills": listed})
        if params.get("has_deadline") and "free_minutes" in params:
            parts.append(
                _("%(free)s free before the deadline")
                % {"free": _duration(max(0, params["free_minutes"]))}
            )
        if "open" in params and "max_open" in params:
            parts.append(
                _("%(open)s of %(max_open)s open tasks, %(open_hours)s of %(capacity_hours)s h")
                % params
            )
        return "; ".join(parts)
    if code == "vip_rule":
        return _("VIP client: senior assistants only")
    if code == "category_rule":
        return _("category %(category)s goes to its team") % params
    if code == "nobody_in_time":
        return _("nobody can finish before the deadline")
    if code == "nobody":
        return _("nobody available has the skills and language needed")
    return code


def explain(routing: dict[str, Any]) -> str:
    """A stored decision (``services.decision_data``) as one line."""
    return "; ".join(sentence(r) for r in routing.get("reasons") or [] if isinstance(r, dict))


def describe_note(data: dict[str, Any]) -> str:
    """Routing's internal notes: a decision that found nobody, or an alert."""
    alert = data.get("routing_alert")
    text = ""
    if alert == "unassigned":
        text = _("Delegate alerted the dispatchers: due soon and nobody has the task.")
    elif alert == "not_started":
        text = _("Delegate alerted the dispatchers: due soon and not started.")
    elif alert == "absent_unmoved":
        text = _("The assignee is away and nobody can take over.")
    else:
        text = _("Delegate found nobody to assign.")
    if isinstance(data.get("routing"), dict):
        text += " " + explain(data["routing"])
    return text
