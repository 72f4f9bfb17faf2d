"""API keys: creation, revocation and the lookup behind bearer authentication.

A token reads ``dlg_<prefix>_<secret>``. The prefix finds the row; only the SHA-256 of
the whole token is stored, and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.agencies.models import Member
from delegate.api.models import ApiKey

TOKEN_PREFIX = "dlg"
# last_used_at is a hint for people, not an audit log: refresh it at most this often so
# that reads do not turn into writes on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(member: Member, *, name: str, scope: str) -> tuple[ApiKey, str]:
    """A new key of ``member``'s agency that acts as ``member`` (with their role and
    visibility). Returns the key and the token, which is not stored and cannot be shown
    again."""
    if not member.is_active:
        raise PermissionDenied("Inactive members cannot create API keys")
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name.")})
    if scope not in ApiKey.Scope.values:
        raise ValidationError({"scope": _("Unknown scope.")})
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        agency_id=member.agency_id,
        name=name,
        prefix=prefix,
        secret_hash=hash_token(token),
        scope=scope,
        created_by=member,
    )
    key.full_clean()
    key.save()
    return key, token


def revoke_api_key(member: Member, key: ApiKey) -> ApiKey:
    """Owners revoke any key of their agency; everyone else only their own."""
    if key.agency_id != member.agency_id:
        raise PermissionDenied("Key of another agency")
    if not member.is_owner and key.created_by_id != member.pk:
        raise PermissionDenied("Only owners revoke other people's keys")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def authenticate_token(token: str) -> ApiKey | None:
    """The usable key behind ``token``, or None: unknown, malformed, revoked, or acting
    for a member (or login) that is no longer active."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    try:
        key = ApiKey.objects.select_related("created_by__user").get(
            prefix=parts[1], revoked_at__isnull=True
        )
    except ApiKey.DoesNotExist:
        return None
    if not hmac.compare_digest(key.secret_hash, hash_token(token.strip())):
        return None
    member = key.created_by
    if not member.is_active or not member.user.is_active or member.agency_id != key.agency_id:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
