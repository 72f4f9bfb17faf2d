"""Writes on client addresses: at most one address per kind (billing, postal, office)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from delegate.agencies.models import Member
from delegate.clients.models import Address, Client
from delegate.core.validation import reject_unknown_fields

ADDRESS_FIELDS = ("line1", "line2", "postal_code", "city", "region", "country")


def save_address(member: Member, client: Client, *, kind: str, **fields: Any) -> Address:
    """Create or replace the client's address of ``kind``. Only managers of the client's
    agency may do this; ``fields`` are the Address fields in ADDRESS_FIELDS (country as an
    ISO 3166 alpha-2 code, stored upper-case). Raises ValidationError on bad input and
    writes nothing then."""
    member.require_manager()
    member.require_same_agency(client)
    if kind not in Address.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of address.")})
    reject_unknown_fields(fields, ADDRESS_FIELDS)
    cleaned = {name: (value or "").strip() for name, value in fields.items()}
    if "country" in cleaned:
        cleaned["country"] = cleaned["country"].upper()
        if len(cleaned["country"]) != 2 or not cleaned["country"].isalpha():
            raise ValidationError({"country": _("Use a two-letter country code such as DE.")})
    with transaction.atomic():
        address = Address.objects.select_for_update().filter(
            client=client, kind=kind
        ).first() or Address(agency_id=client.agency_id, client=client, kind=kind)
        for name, value in cleaned.items():
            setattr(address, name, value)
        address.full_clean(exclude=["client"])
        address.save()
    return address
