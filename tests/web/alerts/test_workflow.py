"""Alert workflow: acknowledge, discuss, resolve with a note; twice changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import AlertStatus, StoredAlert
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.insights.models import AlertStep
from tests.web import factories


@pytest.fixture
def alert(engagement):
    return StoredAlert.objects.create(
        engagement=engagement,
        session_number=4,
        rule_id="rupture.client",
        rule_version="1",
        severity="warning",
        respondent_id="C-TEST",
        instrument="hb_checkin",
        evidence={"drop": 1.2},
        message="The client's alliance rating dropped.",
        suggestions=["Ask openly how the client experienced the last session."],
    )


def url(alert, action):
    return reverse("insights:alert_act", args=[alert.pk, action])


def test_owner_acknowledges_and_the_step_is_kept(owner_client, alert, practitioner):
    r = owner_client.post(url(alert, "acknowledge"))
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.status_by == practitioner
    assert AlertStep.objects.filter(alert=alert, action="acknowledged").count() == 1


def test_acting_twice_says_so_and_duplicates_nothing(owner_client, alert):
    owner_client.post(url(alert, "acknowledge"))
    r = owner_client.post(url(alert, "acknowledge"), follow=True)
    assert r.status_code == 200
    assert "already" in r.content.decode()
    assert AlertStep.objects.filter(alert=alert).count() == 1
    assert AuditEvent.objects.filter(action="alert.acknowledge").count() == 1


def test_a_step_behind_the_current_status_changes_nothing(owner_client, alert):
    owner_client.post(url(alert, "resolve"), {"note": "talked it through"})
    owner_client.post(url(alert, "acknowledge"))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert list(alert.steps.values_list("action", flat=True)) == ["resolved"]


def test_resolve_needs_a_short_note(owner_client, alert):
    r = owner_client.post(url(alert, "resolve"), {"note": "  "}, follow=True)
    assert "short note" in r.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_full_path_keeps_history_and_the_note_is_encrypted(owner_client, alert):
    owner_client.post(url(alert, "acknowledge"))
    owner_client.post(url(alert, "discuss"), {"note": "agreed a new task"})
    owner_client.post(url(alert, "resolve"), {"note": "alliance back up"})
    steps = list(alert.steps.order_by("id"))
    assert [s.action for s in steps] == ["acknowledged", "discussed", "resolved"]
    assert steps[2].note == "alliance back up"
    raw = AlertStep.objects.filter(pk=steps[2].pk).values_list("note", flat=True)
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT note FROM insights_alertstep WHERE id = %s", [steps[2].pk])
        stored = c.fetchone()[0]
    assert "alliance back up" not in stored
    assert list(raw)
    # the resolved alert still shows on the dashboard's history
    page = owner_client.get(reverse("insights:dashboard", args=[alert.engagement_id]))
    body = page.content.decode()
    assert "Alert history" in body
    assert "alliance back up" in body


def test_htmx_gets_only_the_alert_card(owner_client, alert):
    r = owner_client.post(url(alert, "acknowledge"), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert f'id="alert-{alert.pk}"' in body
    assert "<html" not in body


def test_other_practitioner_gets_404(other_client, alert):
    assert other_client.post(url(alert, "acknowledge")).status_code == 404
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_same_practice_colleague_without_the_engagement_gets_404(client, alert):
    colleague = factories.make_practitioner(practice=alert.engagement.practice)
    client.force_login(colleague)
    assert client.post(url(alert, "acknowledge")).status_code == 404


def test_anonymous_is_redirected_to_login(client, alert):
    r = client.post(url(alert, "acknowledge"))
    assert r.status_code == 302
    assert "login" in r["Location"]


def test_get_is_405(owner_client, alert):
    assert owner_client.get(url(alert, "acknowledge")).status_code == 405


def test_unknown_action_is_404(owner_client, alert):
    assert owner_client.post(url(alert, "delete")).status_code == 404
    assert StoredAlert.objects.filter(pk=alert.pk).exists()


def test_the_step_is_audited(owner_client, alert):
    owner_client.post(url(alert, "discuss"))
    ev = AuditEvent.objects.get(action="alert.discuss")
    assert ev.target_id == str(alert.pk)


def test_history_stays_on_the_client_page(owner_client, alert):
    owner_client.post(url(alert, "resolve"), {"note": "repaired together"})
    client_obj = alert.engagement.clients.first()
    body = owner_client.get(
        reverse("practice:client", args=[client_obj.pk])
    ).content.decode()
    assert "Alerts and what was done" in body
    assert alert.message.replace("'", "&#x27;") in body
    assert "repaired together" in body
    assert "Resolved" in body
