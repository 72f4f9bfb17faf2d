"""Django settings for Delegate. Everything configurable comes from the environment
through the typed helpers in ``delegate.env``; ``.env.example`` lists every variable."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from delegate.env import ConfigError, env_bool, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DELEGATE_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data
    folder so sessions survive restarts of the embedded default."""
    configured = env_str("SECRET_KEY", "")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies (addresses or networks) whose X-Forwarded-For names the client, for rate
# limits and login throttles (delegate.core.http.client_address). Empty: the peer address.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    "ninja",
    "delegate.core",
    "delegate.accounts",
    "delegate.agencies",
    "delegate.clients",
    "delegate.tasks",
    "delegate.triage",
    "delegate.routing",
    "delegate.intake",
    "delegate.portal",
    "delegate.scheduling",
    "delegate.timetracking",
    "delegate.billing",
    "delegate.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "delegate.agencies.middleware.MembershipMiddleware",
]

ROOT_URLCONF = "delegate.urls"
WSGI_APPLICATION = "delegate.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "delegate" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "delegate.agencies.context_processors.membership",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
_default_db = f"sqlite:///{DATA_DIR / 'delegate.sqlite3'}"
try:
    _db = dj_database_url.parse(
        env_str("DATABASE_URL", _default_db), conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
except ValueError as exc:
    raise ConfigError(f"DATABASE_URL is not a valid database URL: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while the worker writes; IMMEDIATE avoids lock upgrades
    # failing half-way through a transaction.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000;"
        ),
    }
    # Tests get a file database, not Django's shared in-memory one: there a second
    # connection (a thread in a concurrency test) fails at once with "table is locked"
    # instead of waiting. One file per process, so parallel runs never collide.
    _db["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"delegate-test-{os.getpid()}.sqlite3")
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_THROTTLE_MAX_FAILURES = env_int("LOGIN_THROTTLE_MAX_FAILURES", 5, minimum=1)
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 900, minimum=1)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = env_str("DEFAULT_LANGUAGE", "de")
LANGUAGES = [("de", _("German")), ("en", _("English"))]
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ConfigError(f"DEFAULT_LANGUAGE must be one of de, en; got {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "delegate" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# The trained seed classifier of triage, kept between processes (delegate.triage.classifier).
TRIAGE_MODEL_CACHE_DIR = Path(
    env_str("TRIAGE_MODEL_CACHE_DIR", str(BASE_DIR / ".cache" / "triage"))
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- email ----------------------------------------------------------------------------
# Without a configured SMTP host, mail lands as files in the data folder's outbox so the
# embedded default works (and can be inspected) without a mail server.
_email_default_backend = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST", "")
    else "django.core.mail.backends.filebased.EmailBackend"
)
MAILERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": env_str("EMAIL_BACKEND", _email_default_backend),
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25, minimum=1),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),  # STARTTLS (port 587)
            "use_ssl": env_bool("EMAIL_USE_SSL", False),  # TLS from the start (port 465)
            "timeout": env_int("EMAIL_TIMEOUT", 20, minimum=1),
        },
    }
}
_email_backend = str(MAILERS["default"]["BACKEND"])
if MAILERS["default"]["OPTIONS"]["use_tls"] and MAILERS["default"]["OPTIONS"]["use_ssl"]:
    raise ConfigError("EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL exclude each other")
if _email_backend.endswith("filebased.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {"file_path": str(DATA_DIR / "outbox")}
elif not _email_backend.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Delegate <delegate@localhost>")
# Automatic mail (notifications) to one recipient per hour before the breaker holds the
# rest back: an autoresponder on the other side can never turn into a mail loop.
AUTO_MAIL_MAX_PER_RECIPIENT_PER_HOUR = env_int(
    "AUTO_MAIL_MAX_PER_RECIPIENT_PER_HOUR", 30, minimum=1
)

# --- intake ---------------------------------------------------------------------------
# Mail to <agency-slug>[+<client code>|+task-<code>]@<domain> is accepted for these domains.
INTAKE_EMAIL_DOMAINS = [d.lower() for d in env_list("INTAKE_EMAIL_DOMAINS", ["localhost"])]
# Mailbox names taken at an agency's own intake domain (Agency.intake_domain):
# tasks@, tasks+<client code>@, tasks+task-<task code>@ (the first is the one printed).
INTAKE_MAILBOX_NAMES = [n.lower() for n in env_list("INTAKE_MAILBOX_NAMES", ["tasks", "aufgaben"])]
INTAKE_SMTP_BIND = env_str("INTAKE_SMTP_BIND", "127.0.0.1:2525")
INTAKE_MAX_MESSAGE_BYTES = env_int("INTAKE_MAX_MESSAGE_BYTES", 25 * 1024 * 1024, minimum=1024)
# STARTTLS on the intake SMTP server: PEM certificate (chain) and key files, both or
# neither; with INTAKE_SMTP_REQUIRE_TLS, mail is taken only after STARTTLS.
INTAKE_SMTP_TLS_CERT = env_str("INTAKE_SMTP_TLS_CERT", "")
INTAKE_SMTP_TLS_KEY = env_str("INTAKE_SMTP_TLS_KEY", "")
INTAKE_SMTP_REQUIRE_TLS = env_bool("INTAKE_SMTP_REQUIRE_TLS", False)
# "user:password" pairs (comma-separated): when set, only clients that log in (AUTH
# PLAIN/LOGIN, offered after STARTTLS only) may deliver, e.g. a relay in front of us.
INTAKE_SMTP_AUTH_USERS = env_list("INTAKE_SMTP_AUTH_USERS", [])
# IMAP mailboxes to poll (comma-separated URLs, see .env.example); empty: none.
INTAKE_IMAP_MAILBOXES = env_list("INTAKE_IMAP_MAILBOXES", [])
# SMS: our numbers and the agency each belongs to ("+4915112345678=alpha", comma-separated),
# and the Twilio-compatible provider (REST base URL, account and auth token).
INTAKE_SMS_NUMBERS = env_list("INTAKE_SMS_NUMBERS", [])
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "https://api.twilio.com")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
# Telegram bots, one per agency: "slug:webhook-secret:bot-token", comma-separated.
INTAKE_TELEGRAM_BOTS = env_list("INTAKE_TELEGRAM_BOTS", [])
TELEGRAM_API_BASE = env_str("TELEGRAM_API_BASE", "https://api.telegram.org")
INTAKE_MAX_ATTACHMENTS = env_int("INTAKE_MAX_ATTACHMENTS", 100, minimum=0)
# Inbound messages still unprocessed after this many seconds are enqueued again (a worker
# that died mid-way); the scheduler checks every minute.
INTAKE_STALE_SECONDS = env_int("INTAKE_STALE_SECONDS", 300, minimum=10)
# Stored messages a worker takes into one batch (one transaction, one query per step).
INTAKE_BATCH_SIZE = env_int("INTAKE_BATCH_SIZE", 50, minimum=1)

# --- background work ------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
SCHEDULER_INTERVAL_SECONDS = env_int("SCHEDULER_INTERVAL_SECONDS", 30, minimum=1)
HOUSEKEEPING_KEEP_DAYS = env_int("HOUSEKEEPING_KEEP_DAYS", 14, minimum=1)

# --- triage ---------------------------------------------------------------------------
# A triage field whose confidence is below this (in percent) flags the task for a check.
TRIAGE_CHECK_BELOW_PERCENT = env_int("TRIAGE_CHECK_BELOW_PERCENT", 60, minimum=0)
# --- calendars ------------------------------------------------------------------------
CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS = env_bool("CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS", False)
# Booking, moving or cancelling on public booking pages (POSTs) within the window: per
# client address, and per booking page (all addresses together). Counted in the cache,
# so shared by all web processes only with REDIS_URL.
BOOKING_RATE_WINDOW_SECONDS = env_int("BOOKING_RATE_WINDOW_SECONDS", 600, minimum=1)
BOOKING_RATE_PER_IP = env_int("BOOKING_RATE_PER_IP", 10, minimum=1)
BOOKING_RATE_PER_PAGE = env_int("BOOKING_RATE_PER_PAGE", 120, minimum=1)
# Key for encrypting stored calendar passwords (CalDAV); empty: derived from SECRET_KEY.
# Changing it (or SECRET_KEY when it is empty) makes stored passwords unreadable.
CALENDAR_SECRET_KEY = env_str("CALENDAR_SECRET_KEY", "")

# --- cache ----------------------------------------------------------------------------
_redis_url = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- API ------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200
API_IDEMPOTENCY_TTL_HOURS = env_int("API_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
