"""Dashboards in headless Chromium on a demo-like practice: caseload statuses, a story
client's dashboard (subscales on demand, an alert acknowledged, a rupture recorded and
joined with the detected one) and the progress report as HTML and PDF. Screenshots go to
``test-output/screenshots/``."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harmonybridge.web.practice.models import Engagement
from tests.web.browser import SHOTS, save_screenshot, sign_in


@pytest.fixture
def practice(transactional_db, monkeypatch):
    """The demo loader with a smaller simulated practice (60 clients, every story)."""
    from harmonybridge.datasets import simulate_practice
    from harmonybridge.web.accounts.models import User
    from harmonybridge.web.alerts.curves import accept_curves, fit_practice_curves
    from harmonybridge.web.demo import loader as demo

    data = simulate_practice(n_practitioners=2, n_clients=60, seed=0)
    monkeypatch.setattr(demo, "_simulate", lambda as_of: data)
    demo.load()
    engagements = list(Engagement.objects.order_by("pk"))
    pk = dict(zip(data.engagements["engagement_id"], engagements, strict=True))
    admin = User.objects.get(username="admin")
    for curve_set in fit_practice_curves(engagements[0].practice_id, min_clients=8):
        accept_curves(curve_set, admin)  # as the admin would after the calibration
    return data, pk


def _login(browser, live_server, username: str, csp: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            csp.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    sign_in(page, live_server, username, "harmony-demo-2026")
    return page


def _story(data, kind: str) -> str:
    stories = data.stories
    return str(stories.loc[stories["story"] == kind, "engagement_id"].iloc[0])


@pytest.mark.browser
def test_caseload_dashboard_and_report(live_server, browser, practice):
    data, pk = practice
    csp: list[str] = []
    page = _login(browser, live_server, "admin", csp)

    # caseload: every status kind the stories plant, most urgent first
    save_screenshot(page, "dash-01-caseload")
    for status in ("safety item", "rupture open", "not on track", "gap between views"):
        assert page.locator(".caseload .pill", has_text=status).count() >= 1, status
    assert page.locator(".caseload tbody tr").first.locator(".status-safety").count()
    # the safety story's card (one per client), without the client's crisis text
    assert page.locator(".safety-card").count() >= 1
    assert page.locator(".crisis").count() == 0

    # the unrepaired-rupture client's dashboard
    e = pk[_story(data, "unrepaired_rupture")]
    page.goto(f"{live_server.url}/insights/engagements/{e.pk}/")
    assert page.locator("#alliance-chart svg").count() == 1
    page.get_by_role("link", name="Show goal, task and bond").click()
    page.wait_for_selector('#alliance-chart [data-subscale="bond"]')
    save_screenshot(page, "dash-02-dashboard-rupture")

    # acknowledge the first open alert (htmx swaps only its card)
    cards = page.locator("#open-alerts article.alert-card")
    if cards.count():
        first = cards.first
        card_id = first.get_attribute("id")
        first.get_by_role("button", name="Acknowledge").click()
        page.wait_for_selector(f"#{card_id} .flash")
        assert "Acknowledged" in page.locator(f"#{card_id}").inner_text()

    # record the rupture the practitioner noticed in the latest session
    page.get_by_role("link", name="Record a rupture in session").click()
    page.get_by_label("Minimal response").check()
    page.get_by_label("Invited talk about the relationship").check()
    page.get_by_label("partly").check()
    page.get_by_role("button", name="Save the record").click()
    page.wait_for_url(f"**/insights/engagements/{e.pk}/")
    assert page.locator("#episode-list", has_text="practitioner's record").count() == 1
    save_screenshot(page, "dash-03-dashboard-after-record")

    # a coaching client with goals, and the family with a line per member
    coach = pk[_story(data, "practitioner_client_gap")]
    page.goto(f"{live_server.url}/insights/engagements/{coach.pk}/")
    save_screenshot(page, "dash-04-dashboard-coaching")
    family = pk[_story(data, "split_alliance_family")]
    page.goto(f"{live_server.url}/insights/engagements/{family.pk}/")
    save_screenshot(page, "dash-05-dashboard-family")
    members = {c.label for c in family.clients.all()}
    for card in page.locator("#open-alerts article.alert-card").all():
        about = card.locator(".alert-member").text_content() or ""
        assert any(m in about for m in members), about

    # the alerts list: most severe first, links to the dashboard, inline actions
    page.goto(f"{live_server.url}/insights/alerts/?sort=severity")
    save_screenshot(page, "dash-05b-alerts-list")
    first = page.locator("#alert-table article.alert-card").first
    assert first.locator("a[href*='/insights/engagements/']").count() == 1
    before = page.locator("#alert-table article.alert-card").count()
    first.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector(f"#{first.get_attribute('id')} .flash")
    assert page.locator("#alert-table article.alert-card").count() == before

    # progress report: choose sections, print-friendly HTML, then the PDF
    page.goto(f"{live_server.url}/insights/engagements/{e.pk}/report")
    page.get_by_role("button", name="Open the printable report").click()
    page.wait_for_selector("h1:has-text('Progress report')")
    page.emulate_media(media="print")
    save_screenshot(page, "dash-06-report-print")
    pdf = page.request.get(f"{live_server.url}/insights/engagements/{e.pk}/report.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "dash-07-report.pdf").write_bytes(pdf.body())
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "70",
                "-png",
                "-f",
                "1",
                "-l",
                "2",
                str(SHOTS / "dash-07-report.pdf"),
                str(SHOTS / "dash-07-report-page"),
            ],
            check=True,
        )
    assert csp == []


@pytest.mark.browser
def test_admin_reviews_and_accepts_curves(
    live_server, browser, transactional_db, monkeypatch
):
    """The practice admin sees each curve set's calibration and accepts it (issue 11)."""
    from harmonybridge.datasets import simulate_practice
    from harmonybridge.web.alerts.curves import fit_practice_curves
    from harmonybridge.web.demo import loader as demo

    data = simulate_practice(n_practitioners=2, n_clients=60, seed=0)
    monkeypatch.setattr(demo, "_simulate", lambda as_of: data)
    demo.load()
    saved = fit_practice_curves(Engagement.objects.first().practice_id, min_clients=8)
    assert saved
    csp: list[str] = []
    page = _login(browser, live_server, "admin", csp)
    page.goto(f"{live_server.url}/insights/curves")
    assert page.locator("table caption").first.inner_text().startswith("Calibration")
    assert page.get_by_text("Not accepted").count() == len(saved)
    save_screenshot(page, "curves-before-accept")
    page.get_by_role("button", name="Accept these curves for alerts").first.click()
    page.wait_for_url("**/insights/curves")
    assert page.get_by_text("Accepted for alerts").count() == 1
    save_screenshot(page, "curves-after-accept")
    assert csp == []
