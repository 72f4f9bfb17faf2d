from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from delegate.access import clients_visible_to
from delegate.agencies.models import Member
from delegate.clients.models import Client
from delegate.intake.models import InboundMessage


class InboundFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("All")), *InboundMessage.State.choices],
        required=False,
    )


class ReleaseForm(forms.Form):
    """Assign a quarantined message to a client; with a name, the sender also becomes a
    new contact of that client."""

    client: forms.ModelChoiceField[Client] = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none()
    )
    contact_name = forms.CharField(
        label=_("New contact's name"),
        required=False,
        max_length=200,
        help_text=_("Empty: the name the sender gave."),
    )
    add_contact = forms.BooleanField(label=_("Add the sender as a contact"), required=False)

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients_visible_to(member).order_by("name")  # type: ignore[attr-defined]
