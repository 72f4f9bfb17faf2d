"""Triage pages: correcting or confirming what triage guessed (on the task page), and
the agency's category list that triage chooses from (owners and dispatchers)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from delegate.access import access_category, access_task
from delegate.agencies.forms import apply_service_errors
from delegate.agencies.models import Member
from delegate.core.http import member_required
from delegate.tasks.categories import delete_category, save_category
from delegate.tasks.models import Category
from delegate.tasks.views import staff_view
from delegate.triage.forms import CategoryForm, CorrectionForm
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


# --- the agency's category list ------------------------------------------------------------


@member_required(manager=True)
def categories(request: HttpRequest) -> HttpResponse:
    """The category list (what triage chooses from) and a form to add one."""
    member: Member = request.member  # type: ignore[attr-defined]
    form = CategoryForm(member, request.POST or None, auto_id="category_%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                save_category(member, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Category added."))
                return redirect("triage:categories")
        status = 400
    listed = Category.objects.filter(agency_id=member.agency_id).prefetch_related("skills")
    context = {"categories": listed, "form": form}
    return render(request, "triage/categories.html", context, status=status)


@member_required(manager=True)
def category_edit(request: HttpRequest, category_id: str) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    category = access_category(member, category_id)
    initial = {"name_en": category.name_en, "name_de": category.name_de,
               "skills": list(category.skills.all()), "is_active": category.is_active}  # fmt: skip
    form = CategoryForm(member, request.POST or None, initial=initial, auto_id="category_%s")
    if request.method == "POST":
        if form.is_valid():
            try:
                save_category(member, category, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Category saved."))
                return redirect("triage:categories")
        return render(request, "triage/category_edit.html",
                      {"category": category, "form": form}, status=400)  # fmt: skip
    return render(request, "triage/category_edit.html", {"category": category, "form": form})


@member_required(manager=True)
def category_delete(request: HttpRequest, category_id: str) -> HttpResponse:
    member: Member = request.member  # type: ignore[attr-defined]
    category = access_category(member, category_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if delete_category(member, category):
        messages.success(request, _("Category removed."))
    else:
        messages.success(
            request,
            _(
                "The category is in use (tasks, routing rules or contract prices) and was "
                "deactivated instead: triage no longer chooses it."
            ),
        )
    return redirect("triage:categories")
