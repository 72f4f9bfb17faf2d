"""Portal logins for client contacts.

A portal login is a User linked to exactly one contact through ``Contact.user``. It is
always a fresh User: linking an existing login (perhaps an agency member's, or another
client's contact) would hand that person this client's tasks.
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from delegate.accounts.models import User
from delegate.agencies.models import Member
from delegate.clients.models import Contact


def grant_portal_access(member: Member, contact: Contact, *, email: str, password: str) -> User:
    """Create a login with ``email`` and the initial ``password`` for a contact who has
    none. Raises ValidationError when the contact already has a login, the email is
    malformed or already used by any login, or the password is too weak."""
    member.require_manager()
    member.require_same_agency(contact)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("This is not a valid email address.")}) from None
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if locked.user_id is not None:
            raise ValidationError(_("This contact already has a portal login."))
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError({"email": _("This email address already has a login.")})
        user = User(email=email, name=locked.name, language=locked.effective_language)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
        user.full_clean()
        user.save()
        locked.user = user
        locked.save(update_fields=["user"])
    contact.user = user
    return user


def revoke_portal_access(member: Member, contact: Contact) -> None:
    """Unlink the contact's login and delete it unless it is also an agency member's
    login (then it only loses the portal). Deleting the User ends its sessions too.
    Revoking a contact without a login does nothing."""
    member.require_manager()
    member.require_same_agency(contact)
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        user = locked.user
        if user is None:
            return
        locked.user = None
        locked.save(update_fields=["user"])
        if not user.memberships.exists():
            user.delete()
    contact.user = None
