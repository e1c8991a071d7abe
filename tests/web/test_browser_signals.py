"""Signals in headless Chromium: the crisis text on a phone, right under the answer, and
the practitioner's safety card. Screenshots go to ``test-output/screenshots/``."""

from __future__ import annotations

import pytest

from harmonybridge.web.alerts.models import SafetyNotice
from harmonybridge.web.checkins import storage
from harmonybridge.web.practice.models import RaterRole, ServiceKind
from tests.web import factories
from tests.web.browser import SHOTS, save_screenshot, sign_in

PASSWORD = "correct horse battery staple"


def _login(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, user.username, PASSWORD)
    return page


@pytest.mark.browser
def test_crisis_text_in_view_on_a_phone_then_a_safety_card(
    live_server, browser, settings
):
    settings.HB_PUBLIC_BASE_URL = live_server.url
    practitioner = factories.make_practitioner()
    practitioner.practice.crisis_text = "Call the Synthetic Crisis Line on 000."
    practitioner.practice.save()
    session = factories.make_session(
        factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    )
    checkin, token = factories.make_checkin(session)
    ids = [i.id for i in storage.due_instruments(session, RaterRole.CLIENT)]

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    mobile = phone.new_page()
    mobile.goto(f"{live_server.url}/c/t/{token}")
    mobile.goto(f"{live_server.url}/c/?s={ids.index('phq9') + 1}")
    slot = mobile.locator("#crisis-phq9-9")
    assert slot.get_attribute("aria-live") == "assertive"  # live before it is filled
    item9 = mobile.locator("fieldset.question").filter(
        has=mobile.locator("#crisis-phq9-9")
    )
    with mobile.expect_response("**/c/draft"):
        item9.locator("label.option").nth(1).click()  # "Several days"
    text = slot.get_by_text("Call the Synthetic Crisis Line on 000.")
    text.wait_for(state="visible")
    mobile.wait_for_timeout(100)  # let the scroll settle
    box = text.bounding_box()
    assert box is not None
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= 844, box
    heading = slot.get_by_role("heading")
    hb = heading.bounding_box()
    assert hb is not None
    assert 0 <= hb["y"] <= 844
    SHOTS.mkdir(parents=True, exist_ok=True)
    mobile.screenshot(path=str(SHOTS / "signals-01-phone-crisis-in-view.png"))
    notice = SafetyNotice.objects.get(checkin=checkin)
    assert notice.item_number == 9

    page = _login(browser, live_server, practitioner)
    card = page.locator(".safety-card")
    assert card.count() == 1
    assert "PHQ-9 item 9" in card.inner_text()
    assert "Synthetic Crisis Line" not in page.content()
    save_screenshot(page, "signals-02-safety-card")
    card.get_by_label("Contacted the client").check()
    card.get_by_label("Note (stored encrypted)").fill("Phoned; safe.")
    card.get_by_role("button", name="Record and close").click()
    page.get_by_text("Action recorded; the safety card is closed.").wait_for()
    notice.refresh_from_db()
    assert notice.closed_at is not None
    assert notice.action == "contacted"
