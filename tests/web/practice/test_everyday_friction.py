"""Everyday friction on the practitioner's pages: alert status, answer labels, expiry."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import AlertStatus, StoredAlert
from harmonybridge.web.checkins.models import CheckIn
from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories
from tests.web.insights import helpers

pytestmark = pytest.mark.django_db


def _alert(engagement, status, rule="rupture.client", session=2):
    return StoredAlert.objects.create(
        engagement=engagement,
        session_number=session,
        rule_id=rule,
        rule_version="1",
        severity="warning",
        message=f"synthetic {status} alert",
        status=status,
    )


def test_the_engagement_page_says_which_alerts_are_resolved(owner_client, engagement):
    _alert(engagement, AlertStatus.RESOLVED, session=2)
    _alert(engagement, AlertStatus.OPEN, session=3)
    html = owner_client.get(reverse("practice:engagement", args=[engagement.pk])).text
    items = re.findall(r'<li class="alert .*?</li>', html, flags=re.S)
    resolved = next(i for i in items if "synthetic resolved alert" in i)
    still_open = next(i for i in items if "synthetic open alert" in i)
    assert ">resolved<" in resolved
    assert ">open<" in still_open


def test_the_answers_page_shows_answer_labels_not_codes(owner_client, practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    patient = engagement.clients.first()
    # PHQ-9 item 1 answered 2 = "More than half the days" on its 0-3 scale.
    helpers.add_response(engagement, 1, patient, "phq9", {"": 2.0}, answers={1: 2.0})
    session = engagement.sessions.get(number=1)
    html = owner_client.get(reverse("insights:answers", args=[session.pk])).text
    row = re.search(r"<tr><th scope=\"row\">1</th>.*?</tr>", html, flags=re.S)
    assert row is not None
    assert "More than half the days" in row.group(0)


def test_check_in_links_say_when_they_expire(owner_client, session):
    html = owner_client.post(reverse("practice:checkin_links", args=[session.pk])).text
    checkin = CheckIn.objects.get(session=session)
    from django.utils import timezone

    local = timezone.localtime(checkin.expires_at)
    assert "Works until" in html
    assert local.strftime("%H:%M") in html
    assert str(local.day) in html


def test_the_plan_page_prints_the_questions_each_session_asks(owner_client, engagement):
    """The coaching default plan, counted by hand from the instrument definitions.

    Client: check-in items 1-4 (5-6 only after "yes, there was tension"), WHO-5 5,
    goal progress 2 (two agreed goals) every session; SWLS 5 and FS 8 at sessions
    1, 5, 9 ... So session 1 asks 4 + 5 + 2 + 5 + 8 = 24, sessions 2-4 ask 11.
    Practitioner: check-in items 1-4 and the optional prediction item 7 every session.
    """
    html = owner_client.get(reverse("practice:engagement", args=[engagement.pk])).text
    table = re.search(r'<table class="burden".*?</table>', html, flags=re.S)
    assert table is not None
    rows = re.findall(
        r"<tr><th scope=\"row\">(\d+)</th><td>(\d+)</td><td>(\d+)</td></tr>", table[0]
    )
    assert rows[:5] == [
        ("1", "24", "5"),
        ("2", "11", "5"),
        ("3", "11", "5"),
        ("4", "11", "5"),
        ("5", "24", "5"),
    ]
    assert "up to 2 more follow-up questions" in html  # after "yes, there was tension"
