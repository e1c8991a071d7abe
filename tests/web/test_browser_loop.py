"""The whole loop in headless Chromium: log in, add a client, open an engagement, hold a
session, rate it, hand out the check-in, answer it on a phone, submit twice, see the scores."""

from __future__ import annotations

import pytest

from harmonybridge.web.checkins.models import Response
from harmonybridge.web.practice.models import Client
from tests.web import factories
from tests.web.browser import save_screenshot, sign_in

PASSWORD = "correct horse battery staple"


def _answer_all(page) -> None:
    for question in page.locator("fieldset.question:not(.conditional)").all():
        question.locator("label.option").last.click()


@pytest.mark.browser
def test_the_whole_loop(live_server, browser, settings):
    settings.HB_PUBLIC_BASE_URL = live_server.url
    practitioner = factories.make_practitioner()
    csp_errors: list[str] = []

    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    page.on(
        "console",
        lambda m: (
            csp_errors.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    sign_in(page, live_server, practitioner.username, PASSWORD)
    save_screenshot(page, "01-caseload")

    page.get_by_role("link", name="Add a client").click()
    page.fill("input[name=name]", "Robin Example")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/engagements/new")
    page.select_option("select[name=service_line]", label="Life transition coaching")
    page.fill("input[name=goal_1]", "Settle into the new city")
    save_screenshot(page, "02-engagement-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/engagements/*/")
    page.get_by_role("button", name="Start a new session").click()
    page.wait_for_url("**/sessions/*/")

    _answer_all(page.locator("form.rating"))  # ends on "Yes, there was tension"
    page.get_by_role("button", name="Save my rating").click()
    page.wait_for_load_state()
    assert "or choose “Not sure”" in page.content()  # the follow-ups are asked for
    for question in page.locator("form.rating fieldset.question.conditional").all():
        question.locator("label.option").get_by_text("Not sure").click()
    page.get_by_role("button", name="Save my rating").click()
    page.wait_for_load_state()
    assert "Your rating is stored." in page.content()
    # check-in links need the client's care consent: the practitioner records it first
    session_url = page.url
    page.get_by_role("button", name="Show check-in links and QR codes").click()
    page.wait_for_load_state()
    assert "care consent" in page.content()
    person = Client.objects.get(practitioner=practitioner)
    page.goto(f"{live_server.url}/research/clients/{person.pk}/consent")
    page.select_option("select[name=purpose]", "care")
    page.get_by_label("given").check()
    page.get_by_role("button", name="Record").click()
    page.wait_for_load_state()
    assert "The client&#x27;s answer is recorded." in page.content() or (
        "The client's answer is recorded." in page.content()
    )
    page.goto(session_url)
    page.get_by_role("button", name="Show check-in links and QR codes").click()
    page.wait_for_load_state()
    save_screenshot(page, "03-checkin-links")
    link = page.locator("input.link-field").first.input_value()
    assert "/c/t/" in link

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    mobile = phone.new_page()
    mobile.goto(link)
    assert "/c/t/" not in mobile.url  # the token left the address bar
    step = 0
    # With JavaScript, each answer is kept as it is given (htmx posts the draft).
    with mobile.expect_response("**/c/draft") as kept:
        mobile.locator("fieldset.question label.option").first.click()
    assert kept.value.status == 200
    while "Send my answers" not in mobile.content():
        step += 1
        _answer_all(mobile)
        if step == 1:
            save_screenshot(mobile, "04-checkin-step")
        mobile.get_by_role("button", name="Next").click()
        mobile.wait_for_load_state()
        assert step < 10
    _answer_all(mobile)
    mobile.get_by_role("button", name="Send my answers").click()
    mobile.wait_for_url("**/c/done")
    assert "Thank you" in mobile.content()
    save_screenshot(mobile, "05-checkin-done")
    n_client = Response.objects.filter(rater_role="client").count()
    assert n_client == step + 1

    # Back button and submit again: still one stored response per instrument.
    mobile.go_back()
    mobile.wait_for_load_state()
    button = mobile.get_by_role("button", name="Send my answers")
    if button.count():
        _answer_all(mobile)
        button.click()
        mobile.wait_for_load_state()
    assert Response.objects.filter(rater_role="client").count() == n_client
    mobile.goto(link)
    assert "This link is not valid" in mobile.content()

    page.goto(page.url.split("/checkin-links")[0] + "/")
    page.wait_for_load_state()
    table = page.locator("#session-scores").inner_text()
    assert "Check-in (practitioner)" in table
    assert "Robin Example" in table
    save_screenshot(page, "06-session-scores")
    assert csp_errors == []
