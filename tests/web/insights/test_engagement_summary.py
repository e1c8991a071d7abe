"""The dashboard's stored derived results (issue 14 §3): what the first view after new
data renders from instead of refitting. They must equal a fresh computation (every
number shown is the same as before), follow new answers, and go with a client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.signals import engagement_evaluated
from harmonybridge.web.checkins import frames
from harmonybridge.web.insights import panel, summaries
from harmonybridge.web.insights.models import EngagementSummary
from harmonybridge.web.practice import conventions
from harmonybridge.web.practice.models import EngagementClient, ServiceKind
from tests.web import factories
from tests.web.insights import helpers
from tests.web.insights.test_dashboard import fill


@pytest.fixture
def filled(practitioner):
    e = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    fill(e, practitioner)
    # the series of test_a_sudden_gain_is_marked (a gain at session 5, checked by hand)
    # on GAD-7, so that gains, reliable change and episodes are all stored
    helpers.outcome_series(e, e.clients.first(), "gad7", [16, 16, 15, 15, 7, 7, 6, 6])
    return e


def _conventions(engagement):
    return conventions.for_practice(engagement.practice_id)


def _fresh(engagement):
    scores = frames.stored_scores(engagement_ids=[engagement.pk])
    sessions = frames.session_frame(engagement_ids=[engagement.pk])
    return summaries.compute(engagement, scores, sessions, _conventions(engagement))


def _version(engagement):
    """The stored version: the inputs' data version and the practice's conventions."""
    return summaries.version_of(panel.versions(engagement)[1], _conventions(engagement))


def _row(engagement):
    return EngagementSummary.objects.get(engagement=engagement)


def test_the_first_view_stores_results_equal_to_a_fresh_computation(
    owner_client, filled
):
    url = reverse("insights:dashboard", args=[filled.pk])
    assert owner_client.get(url).status_code == 200
    row = _row(filled)
    assert row.version == _version(filled)
    assert row.payload == _fresh(filled)
    # what was stored is what a person reads: gains, reliable change, episodes
    assert {"kind": "sudden_gain", "session": 5, "label": "sudden gain"} in (
        row.payload["gains"]["gad7"]
    )
    gad = row.payload["changes"]["gad7"]
    assert [(r["pre"], r["post"]) for r in gad] == [(16.0, 6.0)]
    assert row.payload["episodes"]
    assert row.payload["episodes"][0]["first_session"] == 5


@pytest.mark.parametrize("subscales", [False, True])
def test_a_panel_from_stored_results_equals_one_computed_from_scratch(
    filled, subscales
):
    version = panel.versions(filled)[1]
    from_scratch = panel.compute(filled, subscales=subscales)  # no stored results
    assert not EngagementSummary.objects.exists()
    panel.compute(filled, subscales=subscales, version=version)  # stores them
    from_stored = panel.compute(filled, subscales=subscales, version=version)
    assert _row(filled).version == _version(filled)
    assert from_stored == from_scratch


def test_new_answers_refresh_the_stored_results(owner_client, filled):
    url = reverse("insights:dashboard", args=[filled.pk])
    owner_client.get(url)
    before = _row(filled)
    helpers.add_response(filled, 9, filled.clients.first(), "gad7", {"": 2.0})
    assert _version(filled) != before.version
    body = owner_client.get(url).content.decode()
    after = _row(filled)
    assert after.version == _version(filled)
    assert after.payload == _fresh(filled)
    assert [r["post"] for r in after.payload["changes"]["gad7"]] == [2.0]
    assert '<th scope="row">9</th>' in body


def test_a_worker_evaluation_stores_the_results(filled):
    engagement_evaluated.send(sender=None, engagement_id=filled.pk)
    row = _row(filled)
    assert row.version == _version(filled)
    assert row.payload == _fresh(filled)


def test_a_client_leaving_drops_the_stored_results(owner_client, filled):
    owner_client.get(reverse("insights:dashboard", args=[filled.pk]))
    assert EngagementSummary.objects.filter(engagement=filled).exists()
    EngagementClient.objects.filter(engagement=filled).delete()
    assert not EngagementSummary.objects.filter(engagement=filled).exists()
