"""Engagements: open one with the default plan, edit it, edit the plan."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice.models import Engagement, PlanEntry, ServiceLine
from tests.web import factories

pytestmark = pytest.mark.django_db


def _plan(engagement):
    return sorted(
        (e.instrument_id, e.rater_role, e.every_n)
        for e in PlanEntry.objects.filter(plan__engagement=engagement)
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Life transition coaching",
            [
                ("fs", "client", 4),
                ("goal_progress", "client", 1),
                ("hb_checkin", "client", 1),
                ("hb_checkin_practitioner", "practitioner", 1),
                ("swls", "client", 4),
                ("who5", "client", 1),
            ],
        ),
        (
            "Individual therapy",
            [
                ("gad7", "client", 1),
                ("hb_checkin", "client", 1),
                ("hb_checkin_practitioner", "practitioner", 1),
                ("phq9", "client", 1),
            ],
        ),
    ],
)
def test_new_engagement_gets_the_default_plan(
    owner_client, practitioner, line, expected
):
    client = factories.make_client(practitioner)
    service_line = ServiceLine.objects.get(practice=practitioner.practice, name=line)
    response = owner_client.post(
        reverse("practice:engagement_create", args=[client.pk]),
        {
            "service_line": service_line.pk,
            "start_date": "2026-01-05",
            "status": "active",
            "clients": [client.pk],
            "goal_1": "Find work I enjoy",
        },
    )
    assert response.status_code == 302, response.text[:3000]
    engagement = Engagement.objects.get()
    assert engagement.goal_1 == "Find work I enjoy"
    assert list(engagement.practitioners.all()) == [practitioner]
    assert _plan(engagement) == expected
    assert AuditEvent.objects.filter(action="engagement.create").exists()


def test_end_before_start_is_rejected(owner_client, practitioner):
    client = factories.make_client(practitioner)
    line = ServiceLine.objects.filter(practice=practitioner.practice).first()
    response = owner_client.post(
        reverse("practice:engagement_create", args=[client.pk]),
        {
            "service_line": line.pk,
            "start_date": "2026-02-01",
            "end_date": "2026-01-01",
            "status": "active",
            "clients": [client.pk],
        },
    )
    assert response.status_code == 200
    assert "cannot be before the start date" in response.text
    assert Engagement.objects.count() == 0


def test_another_practices_client_cannot_be_added(
    owner_client, practitioner, other_practitioner
):
    client = factories.make_client(practitioner)
    stranger = factories.make_client(other_practitioner)
    line = ServiceLine.objects.filter(practice=practitioner.practice).first()
    response = owner_client.post(
        reverse("practice:engagement_create", args=[client.pk]),
        {
            "service_line": line.pk,
            "start_date": "2026-01-01",
            "status": "active",
            "clients": [client.pk, stranger.pk],
        },
    )
    assert response.status_code == 200
    assert "valid choice" in response.text
    assert Engagement.objects.count() == 0


def test_edit_engagement_audits(owner_client, engagement):
    response = owner_client.post(
        reverse("practice:engagement_edit", args=[engagement.pk]),
        {
            "service_line": engagement.service_line_id,
            "start_date": "2026-01-01",
            "status": "closed",
            "clients": [c.pk for c in engagement.clients.all()],
            "way_of_working": "Walk and talk",
        },
    )
    assert response.status_code == 302, response.text[:2000]
    engagement.refresh_from_db()
    assert engagement.status == "closed"
    assert engagement.way_of_working == "Walk and talk"
    assert AuditEvent.objects.filter(action="engagement.update").exists()


def test_plan_add_and_remove(owner_client, engagement):
    url = reverse("practice:plan_add", args=[engagement.pk])
    response = owner_client.post(
        url,
        {
            "instrument_id": "phq9",
            "rater_role": "client",
            "every_n": 2,
            "starting_session": 1,
        },
    )
    assert response.status_code == 302
    entry = PlanEntry.objects.get(plan__engagement=engagement, instrument_id="phq9")
    assert entry.every_n == 2
    remove = reverse("practice:plan_remove", args=[engagement.pk, entry.pk])
    assert owner_client.post(remove).status_code == 302
    assert not PlanEntry.objects.filter(pk=entry.pk).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"plan.add", "plan.remove"} <= actions


def test_class_c_instrument_without_wording_is_refused_with_a_reason(
    owner_client, engagement
):
    response = owner_client.post(
        reverse("practice:plan_add", args=[engagement.pk]),
        {
            "instrument_id": "wai_sr",
            "rater_role": "client",
            "every_n": 1,
            "starting_session": 1,
        },
        follow=True,
    )
    assert "licensed instrument" in response.text
    assert not PlanEntry.objects.filter(
        plan__engagement=engagement, instrument_id="wai_sr"
    ).exists()


@pytest.mark.parametrize(
    ("field", "value"), [("every_n", "0"), ("rater_role", "practitioner")]
)
def test_bad_plan_entry_is_refused(owner_client, engagement, field, value):
    data = {
        "instrument_id": "phq9",
        "rater_role": "client",
        "every_n": 1,
        "starting_session": 1,
    }
    data[field] = value
    owner_client.post(reverse("practice:plan_add", args=[engagement.pk]), data)
    assert not PlanEntry.objects.filter(
        plan__engagement=engagement, instrument_id="phq9"
    ).exists()


def test_engagement_htmx_fragment_is_the_plan(owner_client, engagement):
    response = owner_client.get(
        reverse("practice:engagement", args=[engagement.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.text.lstrip().startswith('<section class="card" id="plan"')


def test_backfill_gives_every_engagement_without_a_plan_an_empty_one():
    """The data migration that replaced the engagement page's create-on-GET."""
    from importlib import import_module

    from django.apps import apps

    from harmonybridge.web.practice.models import MeasurementPlan

    with_plan = factories.make_engagement()
    without = factories.make_engagement()
    MeasurementPlan.objects.filter(engagement=without).delete()
    entries_before = PlanEntry.objects.filter(plan__engagement=with_plan).count()
    migration = import_module(
        "harmonybridge.web.practice.migrations.0002_backfill_measurement_plans"
    )
    migration.backfill_plans(apps, None)
    assert MeasurementPlan.objects.filter(engagement=without).exists()
    assert not PlanEntry.objects.filter(plan__engagement=without).exists()
    assert (
        PlanEntry.objects.filter(plan__engagement=with_plan).count() == entries_before
    )
    assert MeasurementPlan.objects.count() == 2
