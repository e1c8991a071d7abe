"""The alliance insights page in headless Chromium on the demo practice: the fit queued
for the task worker with its progress bar, htmx polling until the figures arrive, and
the page as the admin, a practitioner and a researcher see it.  Screenshots go to
``test-output/screenshots/alliance-*.png``."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from harmonybridge.web.accounts.models import Role, User
from harmonybridge.web.practice.models import Client
from tests.web.browser import save_screenshot, sign_in

PASSWORD = "harmony-demo-2026"


@pytest.fixture
def demo_practice(transactional_db):
    from harmonybridge.web.demo import loader as demo

    demo.load()
    practice = User.objects.get(username="admin").practice
    researcher = User(username="rhea", role=Role.RESEARCHER, practice=practice)
    researcher.set_password(PASSWORD)
    researcher.save()
    return practice


def _login(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)  # the first view of a filter runs every fit
    sign_in(page, live_server, username, PASSWORD, home="")
    return page


@pytest.mark.browser
def test_alliance_page_for_each_role(live_server, browser, demo_practice, settings):
    # With the queueing backend the page shows the progress and polls (htmx).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    admin = _login(browser, live_server, "admin")
    admin.goto(f"{live_server.url}/insights/alliance")
    assert admin.locator("#alliance-results progress").count() == 1
    save_screenshot(admin, "alliance-01-progress")
    call_command("db_worker", "--batch", verbosity=0)  # the worker runs the fit
    admin.wait_for_selector("figure[data-figure=growth]")
    assert admin.locator("#alliance-results progress").count() == 0
    for kind in ("association", "growth", "lagged", "agreement", "prediction"):
        assert admin.locator(f"figure[data-figure={kind}]").count() >= 1, kind
    assert admin.locator(".insight-uncertainty").count() >= 10
    save_screenshot(admin, "alliance-02-admin")

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    maya = _login(browser, live_server, "maya")
    maya.goto(f"{live_server.url}/insights/alliance")
    assert maya.locator("figure[data-figure=prediction]").count() == 1
    assert maya.locator("select[name=practitioner]").count() == 0
    save_screenshot(maya, "alliance-03-practitioner")

    rhea = _login(browser, live_server, "rhea")
    rhea.goto(f"{live_server.url}/insights/alliance")
    text = rhea.locator("body").inner_text()
    assert rhea.locator("figure[data-figure=prediction]").count() == 0
    assert "Maya" not in text
    assert not any(c in text for c in Client.objects.values_list("code", flat=True))
    save_screenshot(rhea, "alliance-04-researcher")
