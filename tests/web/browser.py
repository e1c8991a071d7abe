"""Headless Chromium for the browser tests: Debian's binary, never a downloaded one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path() -> str:
    """Return Debian's chromium; skip the test without it, fail under HB_REQUIRE_BROWSER=1."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("HB_REQUIRE_BROWSER") == "1":
            pytest.fail("HB_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("chromium not installed")
    return path


def launch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Yield a headless browser (the body of the ``browser`` fixture)."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def save_screenshot(page: Any, name: str) -> None:
    """Save a full-page PNG under test-output/screenshots/ for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(
    page: Any,
    live_server: Any,
    username: str,
    password: str,
    *,
    home: str | None = None,
) -> Any:
    """Sign ``username`` in on ``page`` and wait for ``home`` (the caseload by default;
    ``""`` waits for the page to load instead)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").first.click()
    if home == "":
        page.wait_for_load_state()
    else:
        page.wait_for_url(home or "**/insights/")
    return page
