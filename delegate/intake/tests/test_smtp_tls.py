"""STARTTLS and AUTH on the intake SMTP server, over a real socket with smtplib and a
self-signed certificate made for the test; and Delegate's outbound mail through an
SMTP server that wants STARTTLS (or TLS from the start) and a login."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.mail import EmailMessage

from delegate.env import ConfigError
from delegate.intake.mail.smtp_security import server_options
from delegate.intake.models import InboundMessage
from delegate.intake.tests.conftest import serve_smtp
from delegate.intake.tests.mails import mail
from delegate.testing import make_cast

pytestmark = pytest.mark.django_db(transaction=True)

RELAY = ("relay", "s3cret:with colon")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate for localhost and 127.0.0.1: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def _client_context(cert_file: str) -> ssl.SSLContext:
    """A client that verifies the server against our certificate, hostname included."""
    return ssl.create_default_context(cafile=cert_file)


@pytest.fixture
def tls(settings: Any, certificate: tuple[str, str]) -> tuple[str, str]:
    settings.INTAKE_SMTP_TLS_CERT, settings.INTAKE_SMTP_TLS_KEY = certificate
    return certificate


@pytest.fixture
def relay_server(settings: Any, tls: tuple[str, str]) -> Iterator[tuple[str, int]]:
    settings.INTAKE_SMTP_AUTH_USERS = [f"{RELAY[0]}:{RELAY[1]}"]
    with serve_smtp() as address:
        yield address


def test_without_configuration_it_speaks_plain_smtp_as_before() -> None:
    make_cast()
    with serve_smtp() as address, smtplib.SMTP(*address, timeout=10) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("starttls") and not smtp.has_extn("auth")
        assert smtp.sendmail("carol@acme.test", ["alpha@localhost"], mail()) == {}
    assert InboundMessage.objects.count() == 1


def test_with_a_certificate_starttls_is_offered_and_optional(tls: tuple[str, str]) -> None:
    make_cast()
    with serve_smtp() as address:
        with smtplib.SMTP(*address, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            smtp.sendmail("carol@acme.test", ["alpha@localhost"], mail(subject="ohne TLS"))
        with smtplib.SMTP(*address, timeout=10) as smtp:
            assert smtp.starttls(context=_client_context(tls[0]))[0] == 220
            smtp.ehlo()
            assert isinstance(smtp.sock, ssl.SSLSocket)
            assert smtp.sock.version() in ("TLSv1.2", "TLSv1.3")
            assert not smtp.has_extn("auth")  # no users configured: nothing to log in to
            smtp.sendmail("carol@acme.test", ["alpha@localhost"], mail(subject="mit TLS"))
    assert sorted(m.subject for m in _processed()) == ["mit TLS", "ohne TLS"]


def test_it_can_insist_on_starttls(settings: Any, tls: tuple[str, str]) -> None:
    make_cast()
    settings.INTAKE_SMTP_REQUIRE_TLS = True
    with serve_smtp() as address:
        with smtplib.SMTP(*address, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.mail("carol@acme.test")[0] == 530
        assert not InboundMessage.objects.exists()
        with smtplib.SMTP(*address, timeout=10) as smtp:
            smtp.starttls(context=_client_context(tls[0]))
            assert smtp.sendmail("carol@acme.test", ["alpha@localhost"], mail()) == {}
    assert InboundMessage.objects.count() == 1


def test_with_users_only_a_client_logged_in_over_tls_may_deliver(
    relay_server: tuple[str, int], tls: tuple[str, str]
) -> None:
    make_cast()
    with smtplib.SMTP(*relay_server, timeout=10) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")  # never offered in clear
        assert smtp.mail("carol@acme.test")[0] == 530  # and mail is refused without it
        assert smtp.docmd("AUTH", "PLAIN AHJlbGF5AHMzY3JldA==")[0] == 538  # encryption required
        smtp.starttls(context=_client_context(tls[0]))
        smtp.ehlo()
        assert set(smtp.esmtp_features["auth"].upper().split()) == {"PLAIN", "LOGIN"}
        with pytest.raises(smtplib.SMTPAuthenticationError) as wrong:
            smtp.login(RELAY[0], "guessed")
        assert wrong.value.smtp_code == 535
        assert smtp.mail("carol@acme.test")[0] == 530
        smtp.rset()
        smtp.login(*RELAY)  # PLAIN, smtplib's choice
        assert smtp.sendmail("carol@acme.test", ["alpha@localhost"], mail(subject="PLAIN")) == {}
    with smtplib.SMTP(*relay_server, timeout=10) as smtp:
        smtp.starttls(context=_client_context(tls[0]))
        smtp.ehlo()
        smtp.user, smtp.password = RELAY
        assert smtp.auth("LOGIN", smtp.auth_login)[0] == 235
        assert smtp.sendmail("carol@acme.test", ["alpha@localhost"], mail(subject="LOGIN")) == {}
    assert sorted(m.subject for m in _processed()) == ["LOGIN", "PLAIN"]


def test_a_password_guesser_is_cut_off_after_five_tries(
    relay_server: tuple[str, int], tls: tuple[str, str]
) -> None:
    def plain(password: str) -> str:
        return "PLAIN " + base64.b64encode(f"\0{RELAY[0]}\0{password}".encode()).decode()

    with smtplib.SMTP(*relay_server, timeout=10) as smtp:
        smtp.starttls(context=_client_context(tls[0]))
        smtp.ehlo()
        for guess in "abcde":
            assert smtp.docmd("AUTH", plain(guess))[0] == 535
        # The sixth try, even with the right password, ends the connection.
        assert smtp.docmd("AUTH", plain(RELAY[1]))[0] == 421
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtp.noop()
    with smtplib.SMTP(*relay_server, timeout=10) as smtp:  # a new connection starts afresh
        smtp.starttls(context=_client_context(tls[0]))
        smtp.ehlo()
        assert smtp.docmd("AUTH", plain(RELAY[1]))[0] == 235


def test_configurations_that_cannot_work_fail_loudly(settings: Any, tls: tuple[str, str]) -> None:
    settings.INTAKE_SMTP_AUTH_USERS = ["relay:pw"]
    assert server_options()["auth_required"] is True
    settings.INTAKE_SMTP_AUTH_USERS = ["relay-without-password"]
    with pytest.raises(ConfigError, match="user:password"):
        server_options()
    settings.INTAKE_SMTP_AUTH_USERS = ["relay:pw"]
    settings.INTAKE_SMTP_TLS_CERT = settings.INTAKE_SMTP_TLS_KEY = ""
    with pytest.raises(ConfigError, match="encrypted connection"):
        server_options()
    settings.INTAKE_SMTP_AUTH_USERS = []
    settings.INTAKE_SMTP_TLS_CERT = tls[0]
    with pytest.raises(ConfigError, match="go together"):
        server_options()
    settings.INTAKE_SMTP_TLS_KEY = tls[0]  # a certificate is not a key
    with pytest.raises(ConfigError, match="cannot load"):
        server_options()


def _processed() -> list[InboundMessage]:
    from delegate.intake import services

    for pk in InboundMessage.objects.values_list("pk", flat=True):
        services.process_inbound(pk)
    return list(InboundMessage.objects.all())


# --- outbound -------------------------------------------------------------------------


def _send_through(settings: Any, monkeypatch: Any, cert: str, **options: Any) -> None:
    # The SMTP backend verifies the server against the system's trust store; the test's
    # certificate is made that store for the duration.
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    }
    sent = EmailMessage(
        "Ihre Aufgabe", "Erledigt.", "Delegate <alpha@localhost>", ["alpha@localhost"]
    ).send()
    assert sent == 1


def test_outbound_mail_goes_out_with_starttls_and_a_login(
    relay_server: tuple[str, int], tls: tuple[str, str], settings: Any, monkeypatch: Any
) -> None:
    make_cast()
    host, port = relay_server
    options = {"host": host, "port": port, "use_tls": True, "timeout": 10}
    with pytest.raises(smtplib.SMTPSenderRefused):  # the server wants a login
        _send_through(settings, monkeypatch, tls[0], **options)
    options |= {"username": RELAY[0], "password": RELAY[1]}
    _send_through(settings, monkeypatch, tls[0], **options)
    assert [m.subject for m in _processed()] == ["Ihre Aufgabe"]


def test_outbound_mail_goes_out_over_tls_from_the_start(
    tls: tuple[str, str], settings: Any, monkeypatch: Any
) -> None:
    make_cast()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(*tls)
    settings.INTAKE_SMTP_TLS_CERT = settings.INTAKE_SMTP_TLS_KEY = ""  # no STARTTLS inside
    with serve_smtp(ssl=server_context) as (host, port):
        options = {"host": host, "port": port, "use_ssl": True, "timeout": 10}
        _send_through(settings, monkeypatch, tls[0], **options)
        # A client that does not trust the certificate does not send.
        monkeypatch.setenv("SSL_CERT_FILE", os.devnull)
        with pytest.raises(ssl.SSLCertVerificationError):
            EmailMessage("x", "x", "a@localhost", ["alpha@localhost"]).send()
    assert [m.subject for m in _processed()] == ["Ihre Aufgabe"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"EMAIL_USE_SSL": "true"}, "use_tls=False use_ssl=True"),
        ({"EMAIL_USE_TLS": "true"}, "use_tls=True use_ssl=False"),
        ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "ConfigError"),
    ],
)
def test_the_settings_choose_starttls_or_tls_from_the_start(
    env: dict[str, str], expected: str
) -> None:
    script = (
        "from delegate.env import ConfigError\n"
        "try:\n"
        "    from delegate import settings\n"
        "    o = settings.MAILERS['default']['OPTIONS']\n"
        "    print(f\"use_tls={o['use_tls']} use_ssl={o['use_ssl']}\")\n"
        "except ConfigError:\n"
        "    print('ConfigError')\n"
    )
    outer = {k: v for k, v in os.environ.items() if k not in ("EMAIL_USE_TLS", "EMAIL_USE_SSL")}
    environment = outer | {"EMAIL_HOST": "mail.example.org"} | env
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == expected
