"""STARTTLS and AUTH for the intake SMTP server, from settings.

Without configuration the server speaks plain SMTP, as a mail exchanger receiving from
the internet usually does first. With a certificate and key it offers STARTTLS (and
may insist on it). With ``INTAKE_SMTP_AUTH_USERS`` it takes mail only from clients that
logged in — for a relay or mail service forwarding to us — and offers AUTH PLAIN and
LOGIN only on an encrypted connection, so passwords never cross the wire in clear.
The TLS context is built once, when the server starts; a new certificate takes a
restart.
"""

from __future__ import annotations

import hmac
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.conf import settings

from delegate.env import ConfigError

# AUTH commands per connection (a client like smtplib tries PLAIN, then LOGIN): a
# password guesser must reconnect every few tries.
AUTH_ATTEMPTS = 5


def tls_context() -> ssl.SSLContext | None:
    """The server's TLS context, or None when no certificate is configured."""
    cert, key = settings.INTAKE_SMTP_TLS_CERT, settings.INTAKE_SMTP_TLS_KEY
    if not cert and not key:
        return None
    if not (cert and key):
        raise ConfigError("INTAKE_SMTP_TLS_CERT and INTAKE_SMTP_TLS_KEY go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"cannot load the intake SMTP certificate: {error}") from None
    return context


def auth_users() -> dict[bytes, bytes]:
    users = {}
    for entry in settings.INTAKE_SMTP_AUTH_USERS:
        user, _, password = entry.partition(":")
        if not (user.strip() and password):
            raise ConfigError("INTAKE_SMTP_AUTH_USERS entries are user:password")
        users[user.strip().encode()] = password.encode()
    return users


class Authenticator:
    """Checks AUTH PLAIN/LOGIN credentials against the configured users, in constant
    time for every user, so the answer's timing tells nothing about the names."""

    def __init__(self, users: dict[bytes, bytes]) -> None:
        self.users = users

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if mechanism not in ("PLAIN", "LOGIN") or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        matched = False
        for user, password in self.users.items():
            same_user = hmac.compare_digest(user, data.login)
            same_password = hmac.compare_digest(password, data.password)
            matched |= same_user and same_password
        return AuthResult(success=matched, handled=False)


def server_options() -> dict[str, Any]:
    """Keyword arguments for aiosmtpd's ``SMTP``: TLS and AUTH as configured. Raises
    ``ConfigError`` for a configuration that cannot work."""
    context = tls_context()
    users = auth_users()
    if users and context is None:
        raise ConfigError(
            "INTAKE_SMTP_AUTH_USERS needs INTAKE_SMTP_TLS_CERT and INTAKE_SMTP_TLS_KEY: "
            "passwords are only taken over an encrypted connection"
        )
    return {
        "tls_context": context,
        "require_starttls": bool(context) and settings.INTAKE_SMTP_REQUIRE_TLS,
        "auth_required": bool(users),
        "auth_require_tls": True,
        "authenticator": Authenticator(users) if users else None,
        # Mechanisms other than PLAIN and LOGIN would need a stored password hash.
        "auth_exclude_mechanism": [] if users else ["PLAIN", "LOGIN"],
        # Only AUTH is limited ("*" is aiosmtpd's default for every other command).
        "command_call_limit": {"AUTH": AUTH_ATTEMPTS, "*": 2**31} if users else None,
    }
