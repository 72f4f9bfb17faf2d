from __future__ import annotations

import os
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from delegate.testing import DESKTOP, PASSWORD, PHONE, Cast, make_cast

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer


@pytest.fixture(autouse=True)
def _isolated_media(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    from django.core.cache import cache

    cache.clear()  # rate-limit counters (booking pages) must not carry over between tests
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]
    # Tests read English by default; tests about German ask for it explicitly.
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]
    # Argon2 is deliberately slow; tests hash many passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `./bin/delegate test` installs Debian's chromium")
    # Playwright's sync API runs an event loop in this thread; the test body still talks
    # to the database synchronously, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_cast(chromium: Browser, transactional_db: None) -> Cast:
    """The cast for browser tests: committed, so the live server's threads see it."""
    return make_cast()


@pytest.fixture
def open_page(
    chromium: Browser, live_server: LiveServer, live_cast: Cast
) -> Iterator[Callable[..., Page]]:
    """``open_page(email, start, phone=True)``: a page logged in as ``email`` showing
    ``start``, in its own browser context (phone-sized unless ``phone=False``). Depends on
    ``live_cast`` so the people exist before anyone logs in."""
    contexts = []

    def open_(email: str, start: str, *, phone: bool = True) -> Page:
        context = chromium.new_context(
            viewport=typing.cast(Any, PHONE if phone else DESKTOP),
            is_mobile=phone,
            has_touch=phone,
            locale="en-GB",
            base_url=live_server.url,
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(f"/accounts/login/?next={start}")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url and url.endswith(start))
        return page

    yield open_
    for context in contexts:
        context.close()
