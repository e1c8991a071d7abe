"""Caseload overview: a status per active engagement, most urgent first, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from harmonybridge.web.alerts.models import AlertStatus, SafetyNotice, StoredAlert
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.repairs.models import RepairRecord
from tests.web import factories
from tests.web.insights import helpers

URL = reverse("insights:caseload")


def alert(engagement, rule, session=3, status=AlertStatus.OPEN):
    return StoredAlert.objects.create(
        engagement=engagement,
        session_number=session,
        rule_id=rule,
        rule_version="1",
        severity="warning",
        message="m",
        status=status,
    )


def checked_in(engagement, n=3):
    client = engagement.clients.first()
    for s in range(1, n + 1):
        helpers.add_response(engagement, s, client, "who5", {"": 50.0})
    return engagement


@pytest.fixture
def caseload(practitioner):
    """One engagement per status kind, created in the reverse order of urgency."""
    make = lambda: checked_in(factories.make_engagement(practitioner))  # noqa: E731
    on_track = make()
    missing = checked_in(factories.make_engagement(practitioner), n=1)
    helpers.session_at(missing, 2)  # attended, not answered
    gap = make()
    alert(gap, "alliance.gap")
    not_on_track = make()
    alert(not_on_track, "outcome.not_on_track")
    rupture = make()
    alert(rupture, "rupture.client")
    safety = make()
    SafetyNotice.objects.create(engagement=safety, session=safety.sessions.first())
    return {
        "safety": safety,
        "rupture": rupture,
        "not_on_track": not_on_track,
        "gap": gap,
        "checkin_missing": missing,
        "on_track": on_track,
    }


def order(response):
    return [r["pk"] for r in response.context["rows"]]


def test_most_urgent_first_and_each_status_shown(owner_client, caseload):
    r = owner_client.get(URL)
    assert r.status_code == 200
    assert order(r) == [e.pk for e in caseload.values()]
    body = r.content.decode()
    for kind in caseload:
        assert f"status-{kind}" in body


def test_filter_by_status(owner_client, caseload):
    r = owner_client.get(URL, {"status": "gap"})
    assert order(r) == [caseload["gap"].pk]


def test_sort_by_client(owner_client, caseload):
    r = owner_client.get(URL, {"sort": "client"})
    names = [row["names"].lower() for row in r.context["rows"]]
    assert names == sorted(names)


def test_resolved_alerts_do_not_count(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner))
    alert(e, "outcome.not_on_track", status=AlertStatus.RESOLVED)
    r = owner_client.get(URL)
    assert [s.kind for s in r.context["rows"][0]["statuses"]] == ["on_track"]


def test_acknowledged_alert_still_counts(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner))
    alert(e, "outcome.not_on_track", status=AlertStatus.ACKNOWLEDGED)
    r = owner_client.get(URL)
    assert r.context["rows"][0]["statuses"][0].kind == "not_on_track"


def test_a_recorded_repair_closes_the_rupture(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner), n=4)
    alert(e, "rupture.client", session=3)
    RepairRecord.objects.create(
        session=e.sessions.get(number=4), markers=["denial"], resolved="yes"
    )
    r = owner_client.get(URL)
    assert [s.kind for s in r.context["rows"][0]["statuses"]] == ["on_track"]


def test_a_recorded_unresolved_rupture_is_open(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner))
    RepairRecord.objects.create(
        session=e.sessions.get(number=3), markers=["denial"], resolved="partly"
    )
    r = owner_client.get(URL)
    assert r.context["rows"][0]["statuses"][0].kind == "rupture"


def test_family_member_without_checkin_is_missing(owner_client, practitioner):
    a, b = factories.make_client(practitioner), factories.make_client(practitioner)
    e = factories.make_engagement(practitioner, clients=[a, b])
    helpers.add_response(e, 1, a, "who5", {"": 50.0})
    r = owner_client.get(URL)
    assert r.context["rows"][0]["statuses"][0].kind == "checkin_missing"


def test_safety_card_closed_with_an_action_no_longer_shows(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner))
    notice = SafetyNotice.objects.create(engagement=e, session=e.sessions.first())
    assert owner_client.get(URL).context["rows"][0]["statuses"][0].kind == "safety"
    owner_client.post(
        reverse("alerts:safety_action", args=[notice.pk]), {"action": "contacted"}
    )
    assert owner_client.get(URL).context["rows"][0]["statuses"][0].kind == "on_track"


def test_safety_card_never_shows_staff_the_clients_crisis_text(
    owner_client, practitioner
):
    e = checked_in(factories.make_engagement(practitioner))
    practitioner.practice.crisis_text = "Call the practice line 0100 000"
    practitioner.practice.save()
    SafetyNotice.objects.create(engagement=e, session=e.sessions.first())
    body = owner_client.get(URL).content.decode()
    assert 'class="safety-card"' in body
    assert "Call the practice line 0100 000" not in body


def test_other_practitioners_engagements_are_not_listed(other_client, caseload):
    r = other_client.get(URL)
    assert r.status_code == 200
    assert order(r) == []


def test_anonymous_is_redirected(client):
    r = client.get(URL)
    assert r.status_code == 302
    assert "login" in r["Location"]


def test_post_is_405(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_htmx_gets_the_rows_only(owner_client, caseload):
    body = owner_client.get(URL, HTTP_HX_REQUEST="true").content.decode()
    assert body.strip().startswith('<div id="caseload-rows"')
    assert "<html" not in body


def test_view_is_audited(owner_client):
    owner_client.get(URL)
    assert AuditEvent.objects.filter(action="caseload_overview.view").exists()


def test_home_redirects_to_the_overview(owner_client):
    r = owner_client.get("/")
    assert r.status_code == 302
    assert r["Location"] == URL


def test_query_count_does_not_grow_with_clients(client, practitioner):
    client.force_login(practitioner)
    counts = []
    for n in (2, 12):
        while practitioner.led_engagements.count() < n:
            e = checked_in(factories.make_engagement(practitioner), n=2)
            alert(e, "rupture.client")
            SafetyNotice.objects.create(engagement=e, session=e.sessions.first())
        client.get(URL)
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get(URL).context["rows"]) == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_column_headers_sort_and_keep_the_filter(owner_client, caseload):
    body = owner_client.get(URL, {"status": "gap", "sort": "client"}).content.decode()
    assert (
        'aria-sort="ascending"><a href="?sort=client&amp;status=gap&amp;kind="' in body
    )
    assert 'href="?sort=last_session&amp;status=gap&amp;kind="' in body
