"""``{% triage_card task %}``: what triage guessed for a task, with one-click
corrections. The tasks app's page includes it without knowing triage's models."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from delegate.tasks.models import Category, Task
from delegate.triage.forms import CorrectionForm
from delegate.triage.models import TriageResult

register = template.Library()

# The reasons are stored in English (they are data); shown in the reader's language.
REASONS = {
    "no text": _("no text"),
    "text truncated": _("text truncated"),
    "low language confidence": _("low language confidence"),
    "low category confidence": _("low category confidence"),
    "low deadline confidence": _("low deadline confidence"),
    "low priority confidence": _("low priority confidence"),
    "date that does not exist": _("date that does not exist"),
    "category not in the agency's list": _("category not in the agency's list"),
}


@register.inclusion_tag("triage/card.html", takes_context=True)
def triage_card(context: dict[str, Any], task: Task) -> dict[str, Any]:
    request = context.get("request")
    member = getattr(request, "member", None)
    result = TriageResult.objects.filter(task=task).select_related("category").first()
    if member is None or result is None:
        return {"result": None}
    active = Category.objects.filter(agency_id=task.agency_id, is_active=True)
    categories = {c.slug: c for c in active}
    alternatives = [
        (categories[slug], round(float(p) * 100))
        for slug, p in result.category_ranked
        if slug in categories and categories[slug].pk != task.category_id
    ][:3]
    form = CorrectionForm(
        member,
        auto_id="triage_%s",
        initial={
            "category": task.category_id,
            "priority": task.priority,
            "due_at": task.due_at,
            "skills": [s.pk for s in task.required_skills.all()],
            "skills_shown": True,
        },
    )
    confidence = {name: round(float(v) * 100) for name, v in (result.confidence or {}).items()}
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "task": task,
        "result": result,
        "alternatives": alternatives,
        "priorities": Task.Priority.choices,
        "form": form,
        "confidence": confidence,
        "entities": result.entities[:20],
        "reasons": [REASONS.get(reason, reason) for reason in result.reasons],
    }
