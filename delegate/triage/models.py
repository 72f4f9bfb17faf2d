from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, Member
from delegate.core.models import UUIDModel
from delegate.tasks.models import Category, Task


class TriageResult(UUIDModel):
    """What triage guessed for a task, with a confidence per field. The guesses stay as
    they were; corrections are stored separately (``TriageCorrection``)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="triage")
    language = models.CharField(_("language"), max_length=8, blank=True)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True)
    category_slug = models.CharField(max_length=60, blank=True)
    category_ranked = models.JSONField(default=list, blank=True)
    skill_slugs = models.JSONField(default=list, blank=True)
    due_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    deadline_text = models.CharField(max_length=200, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Task.Priority.choices)
    entities = models.JSONField(default=list, blank=True)
    confidence = models.JSONField(default=dict, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    needs_check = models.BooleanField(_("needs a human check"), default=False)
    # Fields written to the task; the others a person had set already.
    applied = models.JSONField(default=list, blank=True)
    model_label = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    checked_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "needs_check"], name="triage_agency_check")]

    def __str__(self) -> str:
        return f"triage of {self.task_id}"


class TriageCorrection(models.Model):
    """An assistant's correction of one triage field, next to the original guess. The
    text is kept as it was, so retraining learns from what the classifier saw."""

    class Field(models.TextChoices):
        CATEGORY = "category", _("category")
        SKILLS = "skills", _("skills")
        DUE_AT = "due_at", _("deadline")
        PRIORITY = "priority", _("priority")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="triage_corrections")
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True)
    field = models.CharField(max_length=20, choices=Field.choices)
    guessed = models.JSONField(null=True, blank=True)
    corrected = models.JSONField(null=True, blank=True)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["agency", "field", "created_at"], name="triage_corr_agency_field")
        ]


class TriageModel(UUIDModel):
    """A category classifier trained for one agency. At most one is active; a new one
    becomes active only when it scored better than the active one on held-out
    corrections."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="triage_models")
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)
    examples = models.PositiveIntegerField(default=0)
    corrections = models.PositiveIntegerField(default=0)
    holdout = models.PositiveIntegerField(default=0)
    accuracy = models.FloatField(default=0.0)
    previous_accuracy = models.FloatField(default=0.0)
    classes = models.JSONField(default=list, blank=True)
    blob = models.BinaryField(editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency"], condition=Q(is_active=True), name="uniq_active_triage_model"
            )
        ]

    def __str__(self) -> str:
        return f"triage model {self.pk} ({self.accuracy:.0%})"
