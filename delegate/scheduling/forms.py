from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import known_zones
from delegate.scheduling.models import Calendar, EventType


def valid_zone(value: str | None, default: str) -> str:
    """The visitor's time zone if it is a real one, else ``default``."""
    if value and value in known_zones():
        return value
    return default


class VisitorForm(forms.Form):
    start = forms.DateTimeField(widget=forms.HiddenInput)
    tz = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your email"))
    phone = forms.CharField(
        label=_("Your mobile number (optional)"),
        max_length=32,
        required=False,
        help_text=_("For a reminder by SMS before the appointment."),
    )

    def __init__(
        self,
        *args: Any,
        questions: list[str] = (),  # type: ignore[assignment]
        ask_phone: bool = False,
        phone_region: str = "DE",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.phone_region = phone_region
        if not ask_phone:
            del self.fields["phone"]
        self.questions = list(questions)
        for index, question in enumerate(self.questions):
            self.fields[f"q{index}"] = forms.CharField(
                label=question,
                max_length=2000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def clean_start(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["start"]
        if value.tzinfo is None:
            raise forms.ValidationError(_("Please choose a time again."))
        return value

    def clean_phone(self) -> str:
        from delegate.clients.services import normalize_phone

        value: str = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            return normalize_phone(value, region=self.phone_region)
        except ValidationError:
            raise forms.ValidationError(
                _("Please enter a mobile number, e.g. +49 151 23456789.")
            ) from None

    def answers(self) -> dict[str, str]:
        return {q: self.cleaned_data.get(f"q{i}", "") for i, q in enumerate(self.questions)}


class CalendarForm(forms.ModelForm):
    password = forms.CharField(
        label=_("password"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )

    class Meta:
        model = Calendar
        fields = [
            "name",
            "time_zone",
            "source",
            "source_url",
            "username",
            "password",
            "refresh_minutes",
        ]
        widgets = {"password": forms.PasswordInput(render_value=False)}


class EventForm(forms.Form):
    summary = forms.CharField(label=_("Title"), max_length=500)
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    is_all_day = forms.BooleanField(label=_("All day"), required=False)
    rrule = forms.CharField(
        label=_("Repeats (RRULE)"),
        required=False,
        max_length=500,
        help_text=_("e.g. FREQ=WEEKLY;BYDAY=MO"),
    )
    location = forms.CharField(label=_("Location"), required=False, max_length=500)
    is_busy = forms.BooleanField(label=_("Busy"), required=False, initial=True)


class OccurrenceForm(forms.Form):
    summary = forms.CharField(label=_("Title"), max_length=500)
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class EventTypeForm(forms.ModelForm):
    hours = forms.CharField(
        label=_("Working hours"),
        initial="Mo-Fr 09:00-17:00",
        help_text=_("One line per block, e.g. “Mo-Fr 09:00-12:00” and “Mo-Th 13:00-17:00”."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    question_lines = forms.CharField(
        label=_("Questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One question per line."),
    )

    class Meta:
        model = EventType
        fields = [
            "name",
            "description",
            "location",
            "duration_minutes",
            "step_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "min_notice_minutes",
            "horizon_days",
            "daily_limit",
            "reminder_minutes",
            "time_zone",
            "holiday_region",
            "target_calendar",
            "busy_calendars",
        ]
        widgets = {"busy_calendars": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, calendars: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if calendars is not None:
            self.fields["target_calendar"].queryset = calendars  # type: ignore[attr-defined]
            self.fields["busy_calendars"].queryset = calendars  # type: ignore[attr-defined]

    def clean_hours(self) -> dict[str, list[list[str]]]:
        try:
            return parse_hours_text(self.cleaned_data["hours"])
        except ValueError as exc:
            raise forms.ValidationError(_("Write hours like “Mo-Fr 09:00-17:00”.")) from exc

    def clean_question_lines(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data["question_lines"].splitlines()
            if line.strip()
        ]


DAYS = {
    "mo": 0,
    "tu": 1,
    "we": 2,
    "th": 3,
    "fr": 4,
    "sa": 5,
    "su": 6,
    "di": 1,
    "mi": 2,
    "do": 3,
    "so": 6,
}


def parse_hours_text(text: str) -> dict[str, list[list[str]]]:
    """ "Mo-Fr 09:00-17:00" lines (English or German day names) to the JSON we store."""
    hours: dict[str, list[list[str]]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        days_part, times_part = line.strip().split()
        first, _sep, last = days_part.lower().partition("-")
        d0, d1 = DAYS[first[:2]], DAYS[(last or first)[:2]]
        opens, closes = times_part.split("-")
        t0, t1 = dt.time.fromisoformat(opens), dt.time.fromisoformat(closes)
        if t1 <= t0:
            raise ValueError("closes before it opens")
        for day in range(d0, d1 + 1):
            hours.setdefault(str(day), []).append([t0.strftime("%H:%M"), t1.strftime("%H:%M")])
    if not hours:
        raise ValueError("no hours")
    return hours


def hours_text(hours: dict[str, list[list[str]]]) -> str:
    names = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    return "\n".join(
        f"{names[int(d)]} {o}-{c}" for d, blocks in sorted(hours.items()) for o, c in blocks
    )
