"""Forms of the team pages. They parse and check input; the services decide and write."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, AssistantProfile, Member, Skill, known_zones

# Languages an assistant may work in; the profile stores their codes.
WORK_LANGUAGES = [
    ("de", _("German")),
    ("en", _("English")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("it", _("Italian")),
    ("nl", _("Dutch")),
    ("pl", _("Polish")),
    ("pt", _("Portuguese")),
    ("tr", _("Turkish")),
]

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]

SKILL_LEVELS = [("", _("none")), *((str(n), str(n)) for n in range(1, 6))]


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(known_zones())]


def apply_service_errors(
    form: forms.BaseForm, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form: errors keyed by a field the form has
    (after ``field_map``, service key → form field) go there, the rest above the form."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        name: str | None = field_map.get(key, key)
        if name not in form.fields:
            name = None
        for error in errors:
            form.add_error(name, error)


def active_members(member: Member) -> QuerySet[Member]:
    """Choices for assistant and stand-in dropdowns: active members of the acting
    member's agency."""
    return (
        Member.objects.filter(agency_id=member.agency_id, is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


class MemberChoiceField(forms.ModelChoiceField[Member]):
    def label_from_instance(self, obj: Member) -> str:
        return obj.name


class AgencyForm(forms.ModelForm[Agency]):
    """The agency settings page; ``update_agency`` writes what it cleaned."""

    work_days_set = forms.MultipleChoiceField(
        label=_("Working days"),
        choices=[(str(n), name) for n, name in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = Agency
        fields = [name for name in Agency.SETTINGS_FIELDS if name != "work_days"]
        widgets = {
            "work_starts_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "work_ends_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["name", "time_zone", "default_language", "work_days_set"])
        if not self.is_bound:
            self.initial["work_days_set"] = list(self.instance.work_days)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        days = cleaned.get("work_days_set")
        if days:
            self.instance.work_days = cleaned["work_days"] = "".join(sorted(days))
        return cleaned

    def changes(self) -> dict[str, Any]:
        """The cleaned values, as ``update_agency`` takes them."""
        return {
            name: self.cleaned_data[name]
            for name in Agency.SETTINGS_FIELDS
            if name in self.cleaned_data
        }


class AddMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=Member.Role.choices)
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Only used when this person has no login yet."),
    )

    def __init__(self, *args: Any, offer_owner: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not offer_owner:
            # Only owners add owners. The choice stays valid so that the service, which
            # decides, refuses it with a 403 rather than the form with a 400.
            self.fields["role"].widget.choices = [
                (value, label) for value, label in Member.Role.choices if value != Member.Role.OWNER
            ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            try:
                validate_password(password)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class MemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Member.Role.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class ProfileForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=AssistantProfile.Level.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    holiday_region = forms.CharField(
        label=_("Holiday region"),
        max_length=10,
        required=False,
        help_text=_("Country, optionally with state, e.g. DE-BY"),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=WORK_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    capacity_hours_per_week = forms.DecimalField(
        label=_("Capacity (hours per week)"),
        min_value=Decimal("0"),
        max_value=Decimal("168"),
        max_digits=5,
        decimal_places=2,
    )
    max_open_tasks = forms.IntegerField(label=_("Maximum open tasks"), min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keep codes stored earlier that the fixed list lacks, so saving never drops them.
        known = {code for code, _name in WORK_LANGUAGES}
        extra = [c for c in self.initial.get("languages") or [] if c not in known]
        self.fields["languages"].choices = [*WORK_LANGUAGES, *((c, c) for c in extra)]  # type: ignore[attr-defined]

    def clean_holiday_region(self) -> str:
        value = (self.cleaned_data.get("holiday_region") or "").strip().upper()
        if value and not re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", value):
            raise ValidationError(_("Use a country code, optionally with a state: DE or DE-BY."))
        return value


class SkillsForm(forms.Form):
    """One level select per skill of the agency, plus a row to add a new skill."""

    new_skill = forms.CharField(label=_("New skill"), max_length=100, required=False)
    new_skill_level = forms.TypedChoiceField(
        label=_("Level of the new skill"),
        choices=SKILL_LEVELS[1:],
        coerce=int,
        initial="3",
        required=False,
    )

    def __init__(self, *args: Any, skills: list[Skill], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skills = skills
        for skill in skills:
            self.fields[f"skill_{skill.pk}"] = forms.TypedChoiceField(
                label=skill.name,
                choices=SKILL_LEVELS,
                coerce=int,
                empty_value=None,
                required=False,
            )

    def skill_fields(self) -> list[forms.BoundField]:
        return [self[f"skill_{skill.pk}"] for skill in self.skills]

    def new_skill_fields(self) -> list[forms.BoundField]:
        return [self["new_skill"], self["new_skill_level"]]

    def levels(self) -> dict[Skill, int]:
        """Chosen levels of existing skills (valid form only)."""
        chosen = {s: self.cleaned_data.get(f"skill_{s.pk}") for s in self.skills}
        return {s: level for s, level in chosen.items() if level is not None}


@dataclass
class HoursRow:
    weekday: str = ""
    starts_at: str = ""
    ends_at: str = ""


@dataclass
class HoursForm:
    """Weekly working hours as rows of (weekday, from, until); the POST carries one list
    per column. Rows without times are ignored, so the page can always offer spare rows.
    """

    data: QueryDict | None = None
    initial: list[tuple[int, dt.time, dt.time]] = field(default_factory=list)
    spare_rows: int = 2
    errors: list[str] = field(default_factory=list)
    blocks: list[tuple[int, dt.time, dt.time]] = field(default_factory=list)

    def rows(self) -> list[HoursRow]:
        if self.data is not None:
            rows = [
                HoursRow(*values)
                for values in zip(
                    self.data.getlist("weekday"),
                    self.data.getlist("starts_at"),
                    self.data.getlist("ends_at"),
                    strict=False,
                )
            ]
        else:
            rows = [
                HoursRow(str(d), s.strftime("%H:%M"), e.strftime("%H:%M"))
                for d, s, e in self.initial
            ]
        return rows + [HoursRow() for _ in range(self.spare_rows)]

    def is_valid(self) -> bool:
        assert self.data is not None
        self.errors, self.blocks = [], []
        time_field = forms.TimeField()
        for row in self.rows():
            if not (row.starts_at or row.ends_at):
                continue
            try:
                weekday = int(row.weekday)
                if not 0 <= weekday <= 6:
                    raise ValueError
                start = time_field.clean(row.starts_at)
                end = time_field.clean(row.ends_at)
            except (ValueError, ValidationError):
                self.errors.append(str(_("Each block needs a weekday, a start and an end time.")))
                return False
            self.blocks.append((weekday, start, end))
        return True

    def add_error(self, exc: ValidationError) -> None:
        self.errors.extend(exc.messages)

    def weekdays(self) -> list[tuple[int, Any]]:
        return WEEKDAYS


class AbsenceForm(forms.Form):
    starts_on = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=_("Until (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    stand_in = MemberChoiceField(
        label=_("Stand-in"), queryset=Member.objects.none(), required=False
    )

    def __init__(self, *args: Any, member: Member, target: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The absent member cannot stand in for themselves.
        self.fields["stand_in"].queryset = active_members(member).exclude(pk=target.pk)  # type: ignore[attr-defined]
