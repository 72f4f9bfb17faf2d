"""The correction form on the task page. It only parses: choices are limited to the
member's agency, and ``services.correct_triage`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Member, Skill
from delegate.tasks.forms import DueField
from delegate.tasks.models import Category, Task


class CorrectionForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, label=_("Category")
    )
    priority = forms.TypedChoiceField(
        choices=Task.Priority.choices, coerce=int, required=False, label=_("Priority")
    )
    due_at = DueField(label=_("Deadline"))
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.none(),
        required=False,
        label=_("Skills"),
        widget=forms.CheckboxSelectMultiple,
    )
    # Marks that the skills checkboxes were on the page (none ticked means "no skills").
    skills_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category_field: Any = self.fields["category"]
        category_field.queryset = Category.objects.filter(agency_id=member.agency_id)
        skills_field: Any = self.fields["skills"]
        skills_field.queryset = Skill.objects.filter(agency_id=member.agency_id)

    def corrections(self) -> dict[str, Any]:
        """The fields the request named, as keyword arguments for ``correct_triage``."""
        data, sent = self.cleaned_data, self.data
        changes: dict[str, Any] = {}
        if sent.get("category"):
            changes["category"] = data["category"]
        if sent.get("priority"):
            changes["priority"] = data["priority"]
        if "due_at" in sent:
            changes["due_at"] = data["due_at"]
        if data.get("skills_shown"):
            changes["required_skills"] = list(data["skills"])
        return changes


class CategoryForm(forms.Form):
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    name_de = forms.CharField(label=_("Name (German)"), max_length=100)
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.none(),
        required=False,
        label=_("Skills it needs"),
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(
        label=_("Active (triage may choose it)"), required=False, initial=True
    )

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        skills_field: Any = self.fields["skills"]
        skills_field.queryset = Skill.objects.filter(agency_id=member.agency_id)
