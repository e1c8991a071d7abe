"""Accessibility in headless Chromium: axe-core on the main pages, the check-in on a phone
(one column of answers, goal ratings as one compact row) and the client's progress charts
readable at 390 px. axe-core comes bundled in ``axe-playwright-python`` (no CDN).
Screenshots go to ``test-output/screenshots/``."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories
from tests.web.browser import save_screenshot, sign_in
from tests.web.insights import helpers

PASSWORD = "correct horse battery staple"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): "
        + "; ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.browser
def test_the_axe_check_reports_a_serious_violation_when_there_is_one(browser):
    """The harness itself: an image without a text alternative is critical in axe."""
    page = browser.new_context().new_page()
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head>'
        '<body><main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main>'
        "</body></html>"
    )
    found = serious_violations(page)
    assert len(found) == 1
    assert found[0].startswith("image-alt (critical)")


@pytest.fixture
def family(transactional_db):
    """A family therapy engagement with three members, ratings from both sides, PHQ-9."""
    lead = factories.make_practitioner()
    members = [
        factories.make_client(lead, name=n) for n in ("Robin Ash", "Sam Ash", "Kim Ash")
    ]
    engagement = factories.make_engagement(
        lead, clients=members, kind=ServiceKind.THERAPY
    )
    for i, person in enumerate(members):
        helpers.alliance_series(
            engagement, person, [4.0 - i * 0.3, 4.1, 3.9 - i * 0.2, 4.2, 4.3]
        )
        helpers.outcome_series(engagement, person, "phq9", [15 - i, 13, 12, 10, 8])
    helpers.alliance_series(
        engagement,
        lead,
        [3.8, 3.9, 4.0, 4.0, 4.1],
        instrument="hb_checkin_practitioner",
    )
    return engagement


def _staff_page(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, user.username, PASSWORD)
    return page


@pytest.mark.browser
def test_axe_finds_no_serious_violations_on_the_main_pages(
    live_server, browser, family
):
    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{live_server.url}/accounts/login/")
    found = {"sign-in": serious_violations(anonymous)}
    anonymous.goto(f"{live_server.url}/practice/no-such-page")
    found["404"] = serious_violations(anonymous)

    page = _staff_page(browser, live_server, family.lead)
    session = family.sessions.get(number=5)
    person = family.clients.first()
    pages = {
        "caseload": reverse("insights:caseload"),
        "engagements": reverse("insights:engagements"),
        "dashboard": reverse("insights:dashboard", args=[family.pk]),
        "client-form": reverse("practice:client_create"),
        "engagement-form": reverse("practice:engagement_create", args=[person.pk]),
        "engagement": reverse("practice:engagement", args=[family.pk]),
        "session-rating-form": reverse(
            "practice:session", args=[factories.make_session(family).pk]
        ),
        "session-scores": reverse("practice:session", args=[session.pk]),
        "repair-form": reverse("repairs:record", args=[family.pk, session.pk]),
        "alerts": reverse("insights:alerts"),
    }
    for name, url in pages.items():
        page.goto(live_server.url + url)
        page.wait_for_load_state()
        found[name] = serious_violations(page)
        if name in ("dashboard", "engagement-form", "session-rating-form"):
            save_screenshot(page, f"a11y-{name}")

    phone = browser.new_context(**PHONE).new_page()
    checkin_session = factories.make_session(family)
    _checkin, token = factories.make_checkin(checkin_session, person)
    phone.goto(f"{live_server.url}/c/t/{token}")
    steps = 0
    while True:
        steps += 1
        found[f"check-in part {steps}"] = serious_violations(phone)
        for question in phone.locator("fieldset.question:not(.conditional)").all():
            question.locator("label.option").first.click()
        if phone.get_by_role("button", name="Next").count() == 0:
            break
        phone.get_by_role("button", name="Next").click()
        phone.wait_for_load_state()
        assert steps < 10
    assert {k: v for k, v in found.items() if v} == {}


def _boxes(page, selector: str) -> list[dict[str, float]]:
    return [loc.bounding_box() for loc in page.locator(selector).all()]


@pytest.mark.browser
def test_the_check_in_on_a_phone_one_column_and_a_compact_goal_row(
    live_server, browser, transactional_db
):
    engagement = factories.make_engagement()  # coaching: check-in, WHO-5, goals
    session = factories.make_session(engagement)
    _checkin, token = factories.make_checkin(session)
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/c/t/{token}")
    first = page.locator("fieldset.question").first
    options = [o.bounding_box() for o in first.locator("label.option").all()]
    assert len(options) == 5  # agreement, 1-5
    # One column: every answer starts at the same x, each below the one before.
    assert len({round(b["x"]) for b in options}) == 1
    assert all(b2["y"] > b1["y"] for b1, b2 in itertools.pairwise(options))
    assert all(b["width"] > 300 for b in options)
    save_screenshot(page, "checkin-phone-one-column")

    while "Your goals" not in page.content():
        for question in page.locator("fieldset.question:not(.conditional)").all():
            question.locator("label.option").first.click()
        page.get_by_role("button", name="Next").click()
        page.wait_for_load_state()
    goal = page.locator("fieldset.question").first
    row = [o.bounding_box() for o in goal.locator("label.option").all()]
    assert len(row) == 11  # 0-10
    assert len({round(b["y"]) for b in row}) == 1  # one row
    assert max(b["x"] + b["width"] for b in row) <= 390
    assert all(b["width"] >= 24 and b["height"] >= 24 for b in row)  # WCAG 2.5.8
    assert "no progress" in goal.inner_text()
    save_screenshot(page, "checkin-phone-goal-row")


@pytest.mark.browser
def test_the_clients_progress_charts_are_readable_at_390_px(
    live_server, browser, transactional_db
):
    engagement = factories.make_engagement(client_sees_scores=True)
    engagement.client_sees_goals = True
    engagement.save()
    person = engagement.clients.first()
    helpers.outcome_series(engagement, person, "who5", [40, 44, 52, 56, 60, 64])
    for n, values in enumerate([(3, 2), (4, 3), (5, 5), (6, 6), (7, 6), (8, 7)], 1):
        helpers.add_response(
            engagement,
            n,
            person,
            "goal_progress",
            {"goal_1": float(values[0]), "goal_2": float(values[1])},
        )
    checkin, token = factories.make_checkin(engagement.sessions.get(number=6), person)
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/c/t/{token}")
    checkin.submitted_at = timezone.now()
    checkin.save()
    page.goto(f"{live_server.url}{reverse('insights:my_progress')}")
    charts = page.locator("figure.chart svg").all()
    assert len(charts) == 2
    for svg in charts:
        box = svg.bounding_box()
        drawn_for = float(svg.get_attribute("viewBox").split()[2])
        # The chart fills the phone's width and its text is drawn at (nearly) its
        # designed size: a 640-unit chart squeezed into ~358 px would be 0.56.
        assert box["width"] >= 340
        assert box["width"] / drawn_for >= 0.95
        assert box["x"] + box["width"] <= 390
    assert serious_violations(page) == []
    save_screenshot(page, "client-progress-390")
