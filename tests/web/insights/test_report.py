"""Progress report: sections chosen first, print-friendly HTML and a PDF; clear when empty."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice.models import ServiceKind
from harmonybridge.web.repairs.models import RepairRecord
from tests.web import factories
from tests.web.insights import helpers


def fill(engagement, practitioner):
    client = engagement.clients.first()
    helpers.alliance_series(engagement, client, [4.0, 4.2, 4.1, 4.3, 4.4])
    helpers.outcome_series(engagement, client, "phq9", [16, 14, 11, 8, 6])
    helpers.outcome_series(engagement, client, "who5", [36, 40, 48, 56, 64])
    RepairRecord.objects.create(
        session=engagement.sessions.get(number=3),
        markers=["denial"],
        resolved="yes",
        note="PRIVATE-NOTE-TEXT",
    )


@pytest.fixture
def therapy(practitioner):
    e = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    fill(e, practitioner)
    return e


def u(name, e):
    return reverse(f"insights:{name}", args=[e.pk])


def test_form_has_alliance_and_notes_off(owner_client, therapy):
    r = owner_client.get(u("report", therapy))
    assert r.status_code == 200
    form = r.context["form"]
    assert form["alliance"].value() is False or not form["alliance"].value()
    assert not form["notes"].value()
    assert form["charts"].value()


def test_default_report_leaves_out_alliance_and_notes(owner_client, therapy):
    r = owner_client.get(u("report_html", therapy))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Progress report" in body
    assert "PHQ-9" in body
    assert "Working alliance" not in body
    assert "PRIVATE-NOTE-TEXT" not in body
    assert "a reliable improvement" in body  # PHQ-9 16 -> 6: change 10 >= 6 (RC value)
    assert AuditEvent.objects.filter(
        action="report.export", detail__format="html"
    ).exists()


def test_chosen_alliance_and_notes_are_included(owner_client, therapy):
    r = owner_client.get(
        u("report_html", therapy),
        {"audience": "referrer", "charts": "on", "alliance": "on", "notes": "on"},
    )
    body = r.content.decode()
    assert "Working alliance" in body
    assert "PRIVATE-NOTE-TEXT" in body
    assert "the client&#x27;s therapy" in body or "client's therapy" in body


def test_pdf_renders(owner_client, therapy):
    r = owner_client.get(u("report_pdf", therapy))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action="report.export", detail__format="pdf"
    ).exists()


def test_client_without_data_gets_a_clear_message(owner_client, engagement):
    for name in ("report_html", "report_pdf"):
        r = owner_client.get(u(name, engagement))
        assert r.status_code == 200
        assert "Nothing to report yet" in r.content.decode()


def test_coaching_report_speaks_of_wellbeing_not_symptoms(owner_client, practitioner):
    e = factories.make_engagement(practitioner, kind=ServiceKind.COACHING)
    fill(e, practitioner)
    body = owner_client.get(u("report_html", e)).content.decode()
    assert "PHQ-9" not in body
    assert "WHO-5" in body or "Well-Being" in body
    text = body.lower()
    for word in ("diagnosis", "symptom", "clinical", "depression", "patient"):
        assert word not in text, word


@pytest.mark.parametrize("name", ["report", "report_html", "report_pdf"])
def test_other_practitioner_gets_404(other_client, therapy, name):
    assert other_client.get(u(name, therapy)).status_code == 404


@pytest.mark.parametrize("name", ["report", "report_html", "report_pdf"])
def test_anonymous_is_redirected(client, therapy, name):
    r = client.get(u(name, therapy))
    assert r.status_code == 302
    assert "login" in r["Location"]


@pytest.mark.parametrize("name", ["report", "report_html", "report_pdf"])
def test_post_is_405(owner_client, therapy, name):
    assert owner_client.post(u(name, therapy)).status_code == 405


def test_rupture_markers_stay_out_without_the_alliance(owner_client, therapy):
    # the fixture's record at session 3 is a rupture episode (practitioner's record)
    body = owner_client.get(u("report_html", therapy)).content.decode()
    assert 'data-kind="rupture"' not in body
    chosen = owner_client.get(
        u("report_html", therapy),
        {"audience": "client", "charts": "on", "alliance": "on"},
    ).content.decode()
    assert 'data-kind="rupture"' in chosen


def test_goals_section_shows_first_and_latest_rating(owner_client, practitioner):
    e = factories.make_engagement(practitioner, kind=ServiceKind.COACHING)
    client = e.clients.first()
    for n, (g1, g2) in enumerate([(2.0, 5.0), (4.0, 5.0), (7.0, 6.0)], start=1):
        helpers.add_response(
            e,
            n,
            client,
            "goal_progress",
            {"": (g1 + g2) / 2, "goal_1": g1, "goal_2": g2},
        )
    body = owner_client.get(u("report_html", e)).content.decode()
    # goal 1 (factory: "Sleep through the night") rated 2 first and 7 latest
    assert "1. Sleep through the night</td><td>2 / 10</td><td>7 / 10</td>" in body
    assert "2. Go back to choir</td><td>5 / 10</td><td>6 / 10</td>" in body


def test_download_the_pdf_downloads_it(owner_client, therapy):
    """The button says "Download the PDF": the browser saves it, not opens it."""
    r = owner_client.get(u("report_pdf", therapy))
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["Content-Disposition"].endswith('.pdf"')
