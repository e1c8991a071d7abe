"""One status and one open-alert count per engagement, the same on every page."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import AlertStatus, StoredAlert
from harmonybridge.web.practice.models import Engagement, EngagementStatus
from tests.web import factories
from tests.web.insights import helpers
from tests.web.insights.test_caseload import alert, checked_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_practice(monkeypatch):
    """The demo loader with a smaller simulated practice (60 clients, every story)."""
    from harmonybridge.datasets import simulate_practice
    from harmonybridge.web.practice import demo

    data = simulate_practice(n_practitioners=2, n_clients=60, seed=0)
    monkeypatch.setattr(demo, "_simulate", lambda as_of: data)
    demo.load()
    return data


def _badge(html: str, pk: int) -> int:
    m = re.search(rf'id="open-alert-count-{pk}"[^>]*>(\d+)<', html)
    assert m, f"no open-alert badge for engagement {pk}"
    return int(m.group(1))


def test_every_page_agrees_for_every_demo_engagement(client, demo_practice):
    leads = {e.lead for e in Engagement.objects.filter(status=EngagementStatus.ACTIVE)}
    checked = 0
    for lead in leads:
        client.force_login(lead)
        caseload = {
            r["pk"]: ([s.kind for s in r["statuses"]], r["open"])
            for r in client.get(reverse("insights:caseload")).context["rows"]
        }
        listed = {
            e.pk: ([s.kind for s in e.state.statuses], e.state.n_open)
            for e in client.get(reverse("insights:engagements")).context["engagements"]
        }
        alerts = client.get(reverse("insights:alerts"), {"show": "open"})
        per_engagement = Counter(a.engagement_id for a in alerts.context["alerts"])
        assert caseload == listed
        for pk, (_kinds, n_open) in caseload.items():
            stored = (
                StoredAlert.objects.filter(engagement_id=pk)
                .exclude(status=AlertStatus.RESOLVED)
                .count()
            )
            assert n_open == stored == per_engagement.get(pk, 0), pk
            page = client.get(reverse("insights:dashboard", args=[pk])).text
            assert _badge(page, pk) == n_open, pk
            checked += 1
    assert checked >= 20
    # the demo's alerts are not all in one state: the test compares real counts
    assert (
        StoredAlert.objects.exclude(status=AlertStatus.OPEN)
        .exclude(status=AlertStatus.RESOLVED)
        .exists()
        or StoredAlert.objects.filter(status=AlertStatus.OPEN).exists()
    )


def test_acknowledged_alerts_still_count_as_open_everywhere(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner))
    alert(e, "rupture.client")
    alert(e, "alliance.gap", status=AlertStatus.ACKNOWLEDGED)
    rows = owner_client.get(reverse("insights:caseload")).context["rows"]
    listed = owner_client.get(reverse("insights:engagements")).context["engagements"]
    assert rows[0]["open"] == listed[0].state.n_open == 2


def test_a_client_with_no_answered_session_has_no_data_yet(owner_client, practitioner):
    e = factories.make_engagement(practitioner)
    factories.make_session(e)
    rows = owner_client.get(reverse("insights:caseload")).context["rows"]
    assert [s.kind for s in rows[0]["statuses"]] == ["no_data"]
    page = owner_client.get(reverse("insights:engagements")).text
    assert "no data yet" in page
    assert "on track" not in page


def test_an_answered_engagement_without_alerts_is_on_track(owner_client, practitioner):
    e = factories.make_engagement(practitioner)
    helpers.add_response(e, 1, e.clients.first(), "who5", {"": 50.0})
    rows = owner_client.get(reverse("insights:caseload")).context["rows"]
    assert [s.kind for s in rows[0]["statuses"]] == ["on_track"]


def test_htmx_resolve_updates_the_open_alert_count(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner))
    first = alert(e, "rupture.client")
    alert(e, "alliance.gap")
    assert (
        _badge(owner_client.get(reverse("insights:dashboard", args=[e.pk])).text, e.pk)
        == 2
    )
    r = owner_client.post(
        reverse("insights:alert_act", args=[first.pk, "resolve"]),
        {"note": "talked it through"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert f'id="open-alert-count-{e.pk}"' in r.text
    assert 'hx-swap-oob="true"' in r.text
    assert _badge(r.text, e.pk) == 1
