"""A coaching engagement speaks coaching everywhere its client or coach looks.

The walk covers every page of one coaching engagement (the coach's pages, the alert
messages the engine wrote, the client's check-in) and looks for clinical words.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.alerts.rules import evaluate_engagements
from harmonybridge.web.checkins.models import Score
from harmonybridge.web.practice.language import CLINICAL_WORDS
from tests.web import factories
from tests.web.checkins.helpers import open_link
from tests.web.insights import helpers

pytestmark = pytest.mark.django_db

#: WHO-5 percentage scores: intake in the lowest band ("likely depression" on a
#: therapy page), then a reliable rise past the cut-off of 52.
WHO5 = [20.0, 24.0, 40.0, 60.0, 72.0, 80.0]


def visible_words(html: str) -> str:
    """The text a person reads (tags and their attributes removed), lower case."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html).lower()


def clinical_words_in(html: str) -> list[str]:
    text = visible_words(html)
    return [w for w in CLINICAL_WORDS if re.search(rf"\b{w}\b", text)]


@pytest.fixture
def coaching(practitioner):
    engagement = factories.make_engagement(practitioner)
    assert engagement.is_coaching
    client = engagement.clients.first()
    for n, value in enumerate(WHO5, start=1):
        band = "likely depression" if value <= 28 else "poor well-being"
        resp = helpers.add_response(engagement, n, client, "who5", {"": value})
        Score.objects.filter(response=resp, subscale="").update(band=band)
    helpers.alliance_series(engagement, client, [4.0] * len(WHO5))
    helpers.alliance_series(
        engagement,
        practitioner,
        [4.0] * len(WHO5),
        instrument="hb_checkin_practitioner",
    )
    evaluate_engagements([engagement.pk], at="all")
    return engagement


def test_every_page_and_message_of_a_coaching_engagement_avoids_clinical_words(
    owner_client, coaching
):
    alerts = list(StoredAlert.objects.filter(engagement=coaching))
    assert any(a.rule_id == "outcome.recovered" for a in alerts), [
        a.rule_id for a in alerts
    ]
    for alert in alerts:
        assert clinical_words_in(alert.message) == [], (alert.rule_id, alert.message)
    client = coaching.clients.first()
    sessions = list(coaching.sessions.all())
    urls = [
        reverse("insights:engagements"),
        reverse("practice:client", args=[client.pk]),
        reverse("practice:engagement", args=[coaching.pk]),
        reverse("insights:caseload"),
        reverse("insights:dashboard", args=[coaching.pk]),
        reverse("insights:report", args=[coaching.pk]),
        reverse("insights:report_html", args=[coaching.pk]),
        reverse("insights:alerts"),
        reverse("repairs:episodes", args=[coaching.pk]),
    ]
    for s in sessions:
        urls += [
            reverse("practice:session", args=[s.pk]),
            reverse("insights:answers", args=[s.pk]),
            reverse("repairs:record", args=[coaching.pk, s.pk]),
        ]
    for url in urls:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert clinical_words_in(response.text) == [], url


def test_a_coaching_clients_check_in_speaks_of_my_coach(client, practitioner):
    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    _checkin, token = factories.make_checkin(session)
    open_link(client, token)
    html = client.get(reverse("checkins:step")).text
    text = visible_words(html)
    assert "my coach" in text
    assert "practitioner" not in text
    assert clinical_words_in(html) == []


def test_a_therapy_clients_check_in_keeps_my_practitioner(client, practitioner):
    from harmonybridge.web.practice.models import ServiceKind

    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    session = factories.make_session(engagement)
    _checkin, token = factories.make_checkin(session)
    open_link(client, token)
    text = visible_words(client.get(reverse("checkins:step")).text)
    assert "my practitioner" in text
