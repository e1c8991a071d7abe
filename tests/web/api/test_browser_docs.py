"""The API docs page renders in Chromium from our static files, under the strict CSP."""

from __future__ import annotations

import pytest

from tests.web.browser import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_docs_page_renders_without_csp_violations(browser, live_server):
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "HarmonyBridge API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock", timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "api-docs.png"), full_page=False)
    assert all(
        u.startswith(live_server.url) or u.startswith("data:") for u in requested
    )
    assert not [p for p in problems if "Content Security Policy" in p], problems
