"""Forms of the staff pages. They only parse input: every choice queryset is limited to
what the acting member may see, and the services make the decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegate.access import clients_visible_to
from delegate.agencies.models import Member
from delegate.clients.models import Client, Contact
from delegate.tasks.models import Category, Task
from delegate.tasks.queries import DEFAULT_SORT, MAX_PAGE, QueueFilters

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; the service checks size and type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class DueField(forms.DateTimeField):
    """A ``datetime-local`` input, read in the active (viewer's) time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Due"))
        kwargs.setdefault("input_formats", [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"])
        super().__init__(**kwargs)


def _minute(value: dt.datetime | None) -> dt.datetime | None:
    # The input shows minutes; without this an untouched due date would count as changed.
    return value.replace(second=0, microsecond=0) if value else value


class ContactChoiceField(forms.ModelChoiceField[Contact]):
    show_client = True

    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.name} ({obj.client.name})" if self.show_client else obj.name


class MemberChoiceField(forms.ModelChoiceField[Member]):
    def label_from_instance(self, obj: Member) -> str:
        return f"{obj.name} ({obj.get_role_display()})"


def agency_members(member: Member) -> QuerySet[Member]:
    """Active members of the acting member's agency: who a task can be handed to."""
    return (
        Member.objects.filter(agency_id=member.agency_id, is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


def agency_categories(member: Member, *, keep: Any = None) -> QuerySet[Category]:
    """The agency's active categories, and the one with id ``keep`` (a task's current
    category stays valid after it was deactivated)."""
    return Category.objects.filter(agency_id=member.agency_id).filter(
        Q(is_active=True) | Q(pk=keep)
    )


# --- the queue ---------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("mine", _("Assigned to me")),
            ("all", _("All visible")),
            ("unassigned", _("Unassigned")),
        ],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("open", _("Open")), ("all", _("All")), *Task.Status.choices],
    )
    client = forms.ModelChoiceField(
        label=_("Client"),
        required=False,
        queryset=Client.objects.none(),
        empty_label=_("All clients"),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any priority")), *Task.Priority.choices],
    )
    due = forms.ChoiceField(
        label=_("Due"),
        required=False,
        choices=[
            ("", _("Any time")),
            ("overdue", _("Overdue")),
            ("soon", _("Within 48 hours")),
            ("none", _("No due date")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("due", _("Due date, earliest first")),
            ("-due", _("Due date, latest first")),
            ("priority", _("Priority, highest first")),
            ("-priority", _("Priority, lowest first")),
            ("created", _("Newest first")),
            ("-created", _("Oldest first")),
        ],
    )
    check = forms.ChoiceField(
        label=_("Triage"),
        required=False,
        choices=[("", _("Any")), ("needed", _("Needs a check"))],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client_field = self.fields["client"]
        assert isinstance(client_field, forms.ModelChoiceField)
        client_field.queryset = clients_visible_to(member).only("id", "name").order_by("name")

    def filters(self) -> QueueFilters:
        data = self.cleaned_data
        return QueueFilters(
            scope=data.get("scope") or "mine",
            status=data.get("status") or "open",
            client=data.get("client"),
            priority=data.get("priority"),
            due=data.get("due") or "",
            sort=data.get("sort") or DEFAULT_SORT,
            needs_check=data.get("check") == "needed",
        )


# --- the task page -----------------------------------------------------------------------


class MessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea)
    # Named like the service's argument; the form's own ``files`` dict is set per instance.
    files = MultipleFileField(label=_("Attachments"))  # type: ignore[assignment]


class StatusForm(forms.Form):
    to = forms.ChoiceField(choices=Task.Status.choices)
    note = forms.CharField(required=False, max_length=500)


class AssignForm(forms.Form):
    assignee = MemberChoiceField(
        label=_("Assignee"),
        queryset=Member.objects.none(),
        required=False,
        empty_label=_("Nobody (unassign)"),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Reason (optional)")}),
    )

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = agency_members(member)


class TaskEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    priority = forms.TypedChoiceField(
        label=_("Priority"), coerce=int, choices=Task.Priority.choices
    )
    due_at = DueField()
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )
    estimate_minutes = forms.IntegerField(
        label=_("Estimate (minutes)"), required=False, min_value=0, max_value=100_000
    )

    def __init__(self, member: Member, task: Task, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "title": task.title,
                "description": task.description,
                "priority": task.priority,
                "due_at": _minute(timezone.localtime(task.due_at) if task.due_at else None),
                "category": task.category_id,
                "estimate_minutes": task.estimate_minutes,
            },
        )
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = agency_categories(member, keep=task.category_id)

    def changes(self) -> dict[str, Any]:
        """Only what the person changed, so an untouched form records no event."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class NewTaskForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    requester = ContactChoiceField(
        label=_("Requester"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("Nobody in particular"),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        coerce=int,
        choices=Task.Priority.choices,
        initial=Task.Priority.NORMAL,
    )
    due_at = DueField()
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )
    # Named like the service's argument; the form's own ``files`` dict is set per instance.
    files = MultipleFileField(label=_("Attachments"))  # type: ignore[assignment]

    def __init__(
        self, member: Member, *args: Any, client: Client | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        visible = clients_visible_to(member)
        fields = self.fields
        assert isinstance(fields["client"], forms.ModelChoiceField)
        assert isinstance(fields["category"], forms.ModelChoiceField)
        fields["client"].queryset = visible.order_by("name")
        # With htmx, picking a client narrows the requester list to its contacts.
        fields["client"].widget.attrs.update(
            {
                "hx-get": reverse("tasks:new"),
                "hx-trigger": "change",
                "hx-target": "#requester-field",
                "hx-swap": "outerHTML",
            }
        )
        contacts = Contact.objects.filter(
            agency_id=member.agency_id, client__in=visible, is_active=True
        ).select_related("client")
        if client is not None:
            contacts = contacts.filter(client=client)
        requester = fields["requester"]
        assert isinstance(requester, ContactChoiceField)
        requester.queryset = contacts.order_by("client__name", "name")
        requester.show_client = client is None
        fields["category"].queryset = agency_categories(member)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        client, requester = data.get("client"), data.get("requester")
        if client is not None and requester is not None and requester.client_id != client.pk:
            self.add_error("requester", _("The requester must be a contact of the client."))
        return data


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names where the form
    has that field, else at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
