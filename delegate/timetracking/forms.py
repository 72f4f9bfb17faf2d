from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from delegate.tasks.forms import DATETIME_LOCAL, add_service_errors

__all__ = ["EntryForm", "add_service_errors"]


class EntryForm(forms.Form):
    """A manual entry or an edit; the start is read in the viewer's time zone."""

    started_at = forms.DateTimeField(
        label=_("Started"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    is_billable = forms.BooleanField(label=_("Billable"), required=False, initial=True)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
