"""The triage card's one action: correct or confirm what triage guessed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from delegate.access import access_task
from delegate.agencies.models import Member
from delegate.tasks.views import staff_view
from delegate.triage.forms import CorrectionForm
from delegate.triage.services import correct_triage


@staff_view()
def correct(request: HttpRequest, task_id: str) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    task = access_task(member, task_id, write=True)
    # Checked after the fetch, so an outsider gets the same 404 for any method.
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = CorrectionForm(member, request.POST)
    if not form.is_valid():
        messages.error(request, _("The correction was not saved: %(errors)s") % {
            "errors": " ".join(str(e) for errors in form.errors.values() for e in errors)
        })  # fmt: skip
        return redirect("tasks:detail", task_id=task.pk)
    try:
        corrections = correct_triage(member, task, **form.corrections())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("tasks:detail", task_id=task.pk)
    if corrections:
        messages.success(request, _("Correction saved; triage learns from it."))
    else:
        messages.success(request, _("Triage confirmed."))
    return redirect("tasks:detail", task_id=task.pk)
