"""The safety banner in headless Chromium: three cards and the "more" line, then the
safety answers page with every card, on a desktop and a 390 px phone. Screenshots go to
``test-output/screenshots/``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from harmonybridge.web.alerts.models import SafetyNotice
from tests.web import factories
from tests.web.browser import save_screenshot, sign_in

PASSWORD = "correct horse battery staple"


def _five_cards(practitioner) -> None:
    start = timezone.now() - dt.timedelta(days=2)
    for i in range(5):
        factories.make_safety_notice(
            practitioner, answer=1 + i % 3, created_at=start + dt.timedelta(hours=i)
        )


@pytest.mark.browser
@pytest.mark.parametrize(
    ("size", "viewport"),
    [("desktop", (1280, 900)), ("phone", (390, 844))],
)
def test_banner_shows_three_cards_and_the_list_page_all(
    live_server, browser, size, viewport
):
    practitioner = factories.make_practitioner()
    _five_cards(practitioner)
    width, height = viewport
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    sign_in(page, live_server, practitioner.username, PASSWORD)
    banner = page.locator(".safety-cards")
    assert banner.locator(".safety-card").count() == 3
    more = banner.get_by_role("link", name="2 more safety answers wait for an action")
    assert more.is_visible()
    save_screenshot(page, f"safety-01-banner-{size}")

    more.click()
    page.wait_for_url("**/alerts/safety/")
    cards = page.locator(".safety-card")
    assert cards.count() == 5
    save_screenshot(page, f"safety-02-list-{size}")

    last = cards.nth(4)
    last.get_by_label("Referred").check()
    last.get_by_role("button", name="Record and close").click()
    page.get_by_text("Action recorded; the safety card is closed.").wait_for()
    assert SafetyNotice.objects.open().count() == 4
    page.goto(f"{live_server.url}/alerts/safety/")
    assert page.locator(".safety-card").count() == 4


@pytest.mark.browser
def test_staff_pages_fit_a_phone(live_server, browser):
    """On a 390 px phone the caseload's filter row made the whole page 696 px wide; a
    wide table scrolls inside its own box instead."""
    practitioner = factories.make_practitioner()
    _five_cards(practitioner)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, live_server, practitioner.username, PASSWORD)
    for path in (
        "/insights/",
        "/insights/engagements/",
        "/insights/alerts/",
        "/alerts/safety/",
    ):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        save_screenshot(page, "safety-03-phone" + path.replace("/", "-").rstrip("-"))
