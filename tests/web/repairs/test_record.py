"""Recording a rupture and its repair on a session; joined with the detected one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.repairs.models import RepairRecord
from tests.web import factories
from tests.web.insights import helpers

DATA = {
    "markers": ["minimal_response", "complaint_progress"],
    "strategies": ["invite_discussion", "change_tasks_goals"],
    "resolved": "partly",
    "note": "Went quiet after the homework review.",
}


def url(session):
    return reverse("repairs:record", args=[session.engagement_id, session.pk])


def test_owner_records_a_rupture_once_and_it_is_audited(owner_client, session):
    r = owner_client.post(url(session), DATA)
    assert r.status_code == 302
    rec = RepairRecord.objects.get(session=session)
    assert rec.markers == DATA["markers"]
    assert rec.resolved == "partly"
    assert rec.note == DATA["note"]
    assert AuditEvent.objects.filter(action="repair.create").count() == 1


def test_saving_again_updates_and_never_duplicates(owner_client, session):
    owner_client.post(url(session), DATA)
    owner_client.post(url(session), {**DATA, "resolved": "yes"})
    assert RepairRecord.objects.filter(session=session).count() == 1
    assert RepairRecord.objects.get(session=session).resolved == "yes"
    assert AuditEvent.objects.filter(action="repair.update").count() == 1


def test_the_note_is_encrypted_at_rest(owner_client, session):
    from django.db import connection

    owner_client.post(url(session), DATA)
    with connection.cursor() as c:
        c.execute("SELECT note FROM repairs_repairrecord")
        assert "homework" not in c.fetchone()[0]


def test_a_marker_or_a_note_is_needed(owner_client, session):
    r = owner_client.post(url(session), {"resolved": "no"})
    assert r.status_code == 400
    assert "at least one marker" in r.content.decode()
    assert not RepairRecord.objects.exists()


def test_unknown_marker_is_rejected(owner_client, session):
    r = owner_client.post(url(session), {**DATA, "markers": ["telepathy"]})
    assert r.status_code == 400
    assert not RepairRecord.objects.exists()


def test_session_of_another_engagement_gets_a_clear_message(
    owner_client, session, practitioner
):
    other = factories.make_engagement(practitioner)
    bad = reverse("repairs:record", args=[other.pk, session.pk])
    r = owner_client.post(bad, DATA)
    assert r.status_code == 400
    assert "belongs to another engagement" in r.content.decode()
    assert not RepairRecord.objects.exists()


def test_other_practitioner_gets_404(other_client, session):
    assert other_client.get(url(session)).status_code == 404
    assert other_client.post(url(session), DATA).status_code == 404


def test_anonymous_is_redirected(client, session):
    r = client.get(url(session))
    assert r.status_code == 302
    assert "login" in r["Location"]


def test_put_is_405(owner_client, session):
    assert owner_client.put(url(session)).status_code == 405


def test_htmx_gets_the_form_only(owner_client, session):
    body = owner_client.get(url(session), HTTP_HX_REQUEST="true").content.decode()
    assert body.strip().startswith('<form id="repair-form"')
    assert "<html" not in body


def test_page_lists_withdrawal_and_confrontation_markers(owner_client, session):
    body = owner_client.get(url(session)).content.decode()
    assert "Withdrawal (moving away)" in body
    assert "Confrontation (moving against)" in body
    assert "Clarified a misunderstanding" in body


@pytest.fixture
def ruptured(engagement, practitioner):
    client = engagement.clients.first()
    # alliance 4.2, 4.3, 4.1, 4.4, then 2.6 with a reported tension at session 5
    helpers.alliance_series(
        engagement, client, [4.2, 4.3, 4.1, 4.4, 2.6, 2.8], tension_at=[5]
    )
    return engagement


def test_record_is_joined_with_the_detected_rupture_on_the_dashboard(
    owner_client, ruptured
):
    s6 = ruptured.sessions.get(number=6)
    owner_client.post(url(s6), {**DATA, "resolved": "yes"})
    r = owner_client.get(reverse("insights:dashboard", args=[ruptured.pk]))
    episodes = r.context["episodes"]
    assert len(episodes) == 1
    ep = episodes[0]
    assert "practitioner_record" in ep["sources"]
    assert "client_report" in ep["sources"]
    assert ep["status"] == "repaired"
    assert "Minimal response" in r.content.decode()


def test_episode_page_and_fragment(owner_client, ruptured):
    u = reverse("repairs:episodes", args=[ruptured.pk])
    assert "Rupture episodes" in owner_client.get(u).content.decode()
    frag = owner_client.get(u, HTTP_HX_REQUEST="true").content.decode()
    assert frag.strip().startswith('<div id="episode-list">')
