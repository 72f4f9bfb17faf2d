"""Writes on clients and their contacts.

Input is validated here (VAT ids with python-stdnum, phone numbers to E.164 with
phonenumbers, emails lower-cased) so every entry point gets the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from delegate.agencies.models import Member
from delegate.clients.models import Client, ClientTeamMember, Contact, ContactIdentity
from delegate.core.validation import reject_unknown_fields

CLIENT_FIELDS = (
    "kind",
    "name",
    "status",
    "service_level",
    "language",
    "time_zone",
    "work_days",
    "work_starts_at",
    "work_ends_at",
    "vat_id",
    "email",
    "notes",
    "primary_assistant",
    "backup_assistant",
)


def normalize_vat_id(value: str) -> str:
    """A valid EU VAT id in compact form, or '' for none. Raises ValidationError."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return str(eu_vat.validate(value))
    except StdnumError:
        raise ValidationError({"vat_id": _("This is not a valid EU VAT id.")}) from None


def normalize_phone(value: str, *, region: str = "DE") -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValidationError({"phone": _("This is not a phone number.")}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError({"phone": _("This is not a valid phone number.")})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: str, *, region: str = "DE") -> str:
    value = (value or "").strip()
    if kind == ContactIdentity.Kind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({"email": _("This is not a valid email address.")}) from None
        return value.lower()
    if kind in (ContactIdentity.Kind.PHONE, ContactIdentity.Kind.WHATSAPP):
        return normalize_phone(value, region=region)
    if kind == ContactIdentity.Kind.TELEGRAM:
        if not value.lstrip("@").replace("_", "").isalnum():
            raise ValidationError({"telegram": _("A Telegram id is a number or a username.")})
        return value.lstrip("@").lower()
    raise ValidationError({"kind": _("Unknown kind of address.")})


def _check_assistants(member: Member, fields: dict[str, Any]) -> None:
    for name in ("primary_assistant", "backup_assistant"):
        assistant = fields.get(name)
        if assistant is not None and (
            assistant.agency_id != member.agency_id or not assistant.is_active
        ):
            raise ValidationError({name: _("Not an active member of this agency.")})
    primary, backup = fields.get("primary_assistant"), fields.get("backup_assistant")
    if primary is not None and backup is not None and primary.pk == backup.pk:
        raise ValidationError({"backup_assistant": _("The backup must differ from the primary.")})


def create_client(member: Member, **fields: Any) -> Client:
    member.require_manager()
    reject_unknown_fields(fields, [*CLIENT_FIELDS, "team"])
    team = fields.pop("team", None)
    fields["vat_id"] = normalize_vat_id(fields.get("vat_id", ""))
    _check_assistants(member, fields)
    client = Client(agency_id=member.agency_id, **fields)
    client.full_clean(exclude=["code", "team"])
    with transaction.atomic():
        client.save()
        if team is not None:
            set_team(member, client, members=team)
    return client


def update_client(member: Member, client: Client, **fields: Any) -> Client:
    member.require_manager()
    member.require_same_agency(client)
    reject_unknown_fields(fields, [*CLIENT_FIELDS, "team"])
    team = fields.pop("team", None)
    if "vat_id" in fields:
        fields["vat_id"] = normalize_vat_id(fields["vat_id"])
    merged = {
        "primary_assistant": client.primary_assistant,
        "backup_assistant": client.backup_assistant,
        **fields,
    }
    _check_assistants(member, merged)
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["code", "team"])
        locked.save()
        if team is not None:
            set_team(member, locked, members=team)
    return locked


def set_team(member: Member, client: Client, *, members: Iterable[Member]) -> None:
    member.require_manager()
    members = list(members)
    if any(m.agency_id != client.agency_id for m in members):
        raise ValidationError({"team": _("Not a member of this agency.")})
    with transaction.atomic():
        ClientTeamMember.objects.filter(client=client).exclude(member__in=members).delete()
        existing = set(
            ClientTeamMember.objects.filter(client=client).values_list("member_id", flat=True)
        )
        ClientTeamMember.objects.bulk_create(
            ClientTeamMember(agency_id=client.agency_id, client=client, member=m)
            for m in members
            if m.pk not in existing
        )


def create_contact(
    member: Member,
    client: Client,
    *,
    name: str,
    role: str = "",
    language: str = "",
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    telegram_ids: Iterable[str] = (),
) -> Contact:
    member.require_manager()
    member.require_same_agency(client)
    contact = Contact(
        agency_id=client.agency_id, client=client, name=name.strip(), role=role, language=language
    )
    contact.full_clean(exclude=["user"])
    with transaction.atomic():
        contact.save()
        set_identities(member, contact, emails=emails, phones=phones, telegram_ids=telegram_ids)
    return contact


def update_contact(member: Member, contact: Contact, **fields: Any) -> Contact:
    """Change a contact. Identity lists given (``emails``, ``phones``, ``telegram_ids``,
    ``whatsapp``) replace that kind; kinds not given stay as they are."""
    member.require_manager()
    member.require_same_agency(contact)
    identities = {k: fields.pop(k) for k in IDENTITY_ARGS if k in fields}
    reject_unknown_fields(fields, ["name", "role", "language", "is_active"])
    with transaction.atomic():
        for name, value in fields.items():
            setattr(contact, name, value)
        contact.full_clean(exclude=["user"])
        contact.save()
        if identities:
            set_identities(member, contact, **identities)
    return contact


IDENTITY_ARGS = {
    "emails": ContactIdentity.Kind.EMAIL,
    "phones": ContactIdentity.Kind.PHONE,
    "telegram_ids": ContactIdentity.Kind.TELEGRAM,
    "whatsapp": ContactIdentity.Kind.WHATSAPP,
}


def set_identities(
    member: Member,
    contact: Contact,
    *,
    emails: Iterable[str] | None = None,
    phones: Iterable[str] | None = None,
    telegram_ids: Iterable[str] | None = None,
    whatsapp: Iterable[str] | None = None,
) -> None:
    """Replace the contact's identities of each kind given (``None`` leaves a kind as it
    is). An identity already used by another contact of the agency is refused: inbound
    messages must resolve to exactly one sender."""
    region = _region_of(contact)
    wanted: list[tuple[str, str]] = []
    sources: list[tuple[str, Iterable[str]]] = [
        (kind, values)
        for kind, values in (
            (ContactIdentity.Kind.EMAIL, emails),
            (ContactIdentity.Kind.PHONE, phones),
            (ContactIdentity.Kind.TELEGRAM, telegram_ids),
            (ContactIdentity.Kind.WHATSAPP, whatsapp),
        )
        if values is not None
    ]
    for kind, values in sources:
        for raw in values:
            if raw and raw.strip():
                value = normalize_identity(kind, raw, region=region)
                if (kind, value) not in wanted:
                    wanted.append((kind, value))
    taken = ContactIdentity.objects.filter(agency_id=contact.agency_id).exclude(contact=contact)
    for kind, value in wanted:
        if taken.filter(kind=kind, value=value).exists():
            raise ValidationError(
                {kind: _("%(value)s already belongs to another contact.") % {"value": value}}
            )
    try:
        with transaction.atomic():
            ContactIdentity.objects.filter(
                contact=contact, kind__in=[kind for kind, _values in sources]
            ).delete()
            seen_kinds: set[str] = set()
            for kind, value in wanted:
                ContactIdentity.objects.create(
                    agency_id=contact.agency_id,
                    contact=contact,
                    kind=kind,
                    value=value,
                    is_primary=kind not in seen_kinds,
                )
                seen_kinds.add(kind)
    except IntegrityError:
        raise ValidationError(_("An address already belongs to another contact.")) from None


def _region_of(contact: Contact) -> str:
    address = contact.client.addresses.order_by("kind").first()
    return address.country if address else "DE"
