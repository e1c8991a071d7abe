"""The alerts list: date, sort (newest, severity), filter (open/all), links to the
dashboard and inline acknowledge/resolve."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import AlertStatus, StoredAlert
from tests.web import factories

pytestmark = pytest.mark.django_db


def _alert(engagement, rule, severity, days_ago, status=AlertStatus.OPEN):
    a = StoredAlert.objects.create(
        engagement=engagement,
        session_number=1,
        rule_id=rule,
        rule_version="1",
        severity=severity,
        message=f"message of {rule}",
        status=status,
    )
    created = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC) - dt.timedelta(days=days_ago)
    StoredAlert.objects.filter(pk=a.pk).update(created_at=created)
    return a


@pytest.fixture
def alerts(practitioner):
    e = factories.make_engagement(practitioner)
    return e, [
        _alert(e, "outcome.reliable_improvement", "info", 0),
        _alert(e, "rupture.client", "warning", 3),
        _alert(e, "outcome.not_on_track", "warning", 1),
        _alert(e, "alliance.gap", "warning", 5, status=AlertStatus.RESOLVED),
    ]


def _rules(response):
    return [a.rule_id for a in response.context["alerts"]]


def test_newest_first_by_default_and_open_only(owner_client, alerts):
    r = owner_client.get(reverse("insights:alerts"))
    assert _rules(r) == [
        "outcome.reliable_improvement",
        "outcome.not_on_track",
        "rupture.client",
    ]
    assert "20 Mar 2026" in r.text  # the date each alert was raised


def test_sort_by_severity_and_show_all(owner_client, alerts):
    r = owner_client.get(
        reverse("insights:alerts"), {"sort": "severity", "show": "all"}
    )
    assert _rules(r) == [
        "outcome.not_on_track",
        "rupture.client",
        "alliance.gap",
        "outcome.reliable_improvement",
    ]


def test_links_to_the_dashboard_and_acts_inline(owner_client, alerts):
    e, (improved, *_rest) = alerts
    page = owner_client.get(reverse("insights:alerts")).text
    assert reverse("insights:dashboard", args=[e.pk]) in page
    assert reverse("insights:alert_act", args=[improved.pk, "acknowledge"]) in page
    assert reverse("insights:alert_act", args=[improved.pk, "resolve"]) in page
    r = owner_client.post(
        reverse("insights:alert_act", args=[improved.pk, "acknowledge"]),
        {"in_list": "1"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    improved.refresh_from_db()
    assert improved.status == AlertStatus.ACKNOWLEDGED
    assert reverse("insights:dashboard", args=[e.pk]) in r.text  # still a list card


def test_unknown_sort_and_filter_fall_back(owner_client, alerts):
    r = owner_client.get(reverse("insights:alerts"), {"sort": "<x>", "show": "zzz"})
    assert r.status_code == 200
    assert len(r.context["alerts"]) == 3
