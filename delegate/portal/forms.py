"""Forms of the client portal. They parse input only; the services validate the rest
(file sizes, what a contact may do) and their errors are put back on these forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 20_000
MAX_FILES = 10

# A hint for the file picker: images, video and audio let phones offer the camera and
# the recorder next to the file browser; the rest are the documents clients usually send.
ACCEPT = ",".join(
    [
        "image/*",
        "video/*",
        "audio/*",
        "application/pdf",
        "text/plain",
        "text/csv",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".odt",
        ".ods",
        ".odp",
        ".rtf",
        ".eml",
        ".msg",
        ".zip",
        ".ics",
        ".vcf",
    ]
)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>``; cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        uploads = data if isinstance(data, list | tuple) else [data]
        clean_one = super().clean
        files = [upload for upload in (clean_one(u, initial) for u in uploads) if upload]
        if len(files) > MAX_FILES:
            raise ValidationError(
                _("Attach at most %(count)d files at once."), params={"count": MAX_FILES}
            )
        return files


def title_from_text(text: str) -> str:
    """The first non-empty line of ``text``, shortened to fit a task title."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            if len(line) > TITLE_MAX_LENGTH:
                return line[: TITLE_MAX_LENGTH - 1].rstrip() + "…"
            return line
    return ""


class NewTaskForm(forms.Form):
    text = forms.CharField(
        label=_("What can we do for you?"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "placeholder": _("Describe the task. The first line becomes its title."),
                "autocomplete": "off",
                "enterkeyhint": "enter",
            }
        ),
    )
    title = forms.CharField(
        label=_("Title (optional)"),
        help_text=_("Leave empty to use the first line of your text."),
        required=False,
        max_length=TITLE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    due_at = forms.DateTimeField(
        label=_("Due (optional)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    is_urgent = forms.BooleanField(label=_("Urgent"), required=False)
    attachments = MultipleFileField(
        label=_("Attachments"),
        help_text=_("Photos, documents, voice memos: up to 10 files."),
    )

    def clean_due_at(self) -> Any:
        due_at = self.cleaned_data.get("due_at")
        if due_at is not None and due_at < timezone.now():
            raise ValidationError(_("The due date lies in the past."))
        return due_at

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        title = (cleaned.get("title") or "").strip()
        text = cleaned.get("text") or ""
        if not title and not text and "text" not in self.errors:
            self.add_error("text", _("Tell us what you need: write a few words."))
        cleaned["title"] = title or title_from_text(text)
        return cleaned


class ReplyForm(forms.Form):
    # Emptiness (no text and no file) is the service's call: it raises a ValidationError
    # that the view puts back on this form.
    text = forms.CharField(
        label=_("Your message"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    attachments = MultipleFileField(label=_("Attachments"))


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names when the form
    has it (the service's ``description`` and ``files`` are the form's ``text`` and
    ``attachments``), otherwise as a form error."""
    aliases = {"description": "text", "files": "attachments"}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        target = aliases.get(field, field)
        form.add_error(target if target in form.fields else None, field_errors)
