"""Forms of the client management pages. They parse and check input; the services
(``clients.services``, ``clients.addresses``, ``clients.portal_access``) decide and write."""

from __future__ import annotations

from typing import Any

from babel import Locale
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from delegate.agencies.forms import MemberChoiceField, active_members, time_zone_choices
from delegate.agencies.models import LANGUAGE_CHOICES, Member
from delegate.clients.models import Client
from delegate.clients.services import normalize_vat_id

# Service error keys → contact form fields.
IDENTITY_ERROR_FIELDS = {"email": "emails", "phone": "phones", "telegram": "telegram_ids"}
# Contact form list fields → the input mode of each entry (type=text everywhere, so the
# stylesheet applies; inputmode still brings up the right phone keyboard).
IDENTITY_INPUT_TYPES = {"emails": "email", "phones": "tel", "telegram_ids": "text"}


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 countries, named in the viewer's language."""
    try:
        locale = Locale.parse((get_language() or "en").replace("-", "_"))
    except (ValueError, LookupError):
        locale = Locale.parse("en")
    names = {code: name for code, name in locale.territories.items() if len(code) == 2}
    names = {code: name for code, name in names.items() if code.isalpha()}
    return sorted(names.items(), key=lambda item: item[1])


class ClientFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False, widget=forms.TextInput(attrs={"type": "search"})
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *Client.Status.choices], required=False
    )


class MemberMultipleChoiceField(forms.ModelMultipleChoiceField[Member]):
    def label_from_instance(self, obj: Member) -> str:
        return obj.name


class ClientForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Client.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), choices=Client.Status.choices, initial=Client.Status.ACTIVE
    )
    service_level = forms.ChoiceField(label=_("Service level"), choices=Client.ServiceLevel.choices)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=time_zone_choices, initial="Europe/Berlin"
    )
    work_days = forms.CharField(
        label=_("Working days"),
        max_length=7,
        required=False,
        help_text=_("Digits, 0 = Monday … 6 = Sunday (01234 is Monday to Friday); empty: "
                    "the agency's"),
    )  # fmt: skip
    work_starts_at = forms.TimeField(label=_("Working hours from"), required=False)
    work_ends_at = forms.TimeField(label=_("Working hours until"), required=False)
    vat_id = forms.CharField(
        label=_("VAT id"),
        max_length=30,
        required=False,
        help_text=_("EU VAT id with country prefix, e.g. DE123456788"),
    )
    email = forms.EmailField(label=_("Billing email"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea)
    primary_assistant = MemberChoiceField(
        label=_("Primary assistant"), queryset=Member.objects.none(), required=False
    )
    backup_assistant = MemberChoiceField(
        label=_("Backup assistant"), queryset=Member.objects.none(), required=False
    )
    team = MemberMultipleChoiceField(
        label=_("Team"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = active_members(member)
        for name in ("primary_assistant", "backup_assistant", "team"):
            self.fields[name].queryset = members  # type: ignore[attr-defined]

    def clean_vat_id(self) -> str:
        try:
            return normalize_vat_id(self.cleaned_data.get("vat_id") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["vat_id"]) from None


class AddressForm(forms.Form):
    line1 = forms.CharField(label=_("Street and number"), max_length=200)
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    region = forms.CharField(label=_("State/region"), max_length=100, required=False)
    country = forms.ChoiceField(label=_("Country"), choices=country_choices, initial="DE")


class ListWidget(forms.Widget):
    """Several text inputs under one name; the template renders them."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        return list(getlist(name)) if getlist else list(data.get(name) or [])


class ListField(forms.Field):
    """A list of short strings, blanks dropped. The service normalises and validates."""

    widget = ListWidget

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(v).strip() for v in value if str(v).strip()]

    def validate(self, value: Any) -> None:
        if any(len(v) > 254 for v in value):
            raise ValidationError(_("An entry is too long."))


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.CharField(label=_("Role"), max_length=100, required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("As the client")), *LANGUAGE_CHOICES],
        required=False,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    emails = ListField(label=_("Email addresses"), required=False)
    phones = ListField(
        label=_("Phone numbers"),
        required=False,
        help_text=_("Stored in international format (+49…)."),
    )
    telegram_ids = ListField(
        label=_("Telegram ids"), required=False, help_text=_("A numeric id or a username.")
    )

    def __init__(self, *args: Any, with_active: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_active:
            del self.fields["is_active"]

    def plain_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in IDENTITY_INPUT_TYPES]

    def identity_fields(self) -> list[tuple[forms.BoundField, list[str], str]]:
        """(field, values to show, input type): each list with one spare blank input."""
        result = []
        for name, input_type in IDENTITY_INPUT_TYPES.items():
            bound = self[name]
            values = bound.value() or []
            if isinstance(values, str):
                values = [values]
            result.append((bound, [*values, ""], input_type))
        return result


class PortalAccessForm(forms.Form):
    email = forms.EmailField(label=_("Login email"))
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Hand this password to the contact over a safe channel."),
    )
