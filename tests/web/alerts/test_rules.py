"""Alerts are evaluated after a check-in is stored and kept with rule, version and evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from harmonybridge.web.alerts import rules
from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.checkins import frames, storage
from harmonybridge.web.practice import catalogue
from tests.web import factories

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class FakeAlert:
    rule_id: str = "alliance_drop"
    rule_version: str = "1"
    severity: str = "warning"
    engagement_id: str = "E1"
    session: int = 1
    rater_role: str = "practitioner"
    respondent_id: str = "P1"
    instrument: str = "hb_checkin_practitioner"
    params: dict = field(default_factory=lambda: {"drop": 1.0})
    evidence: dict = field(
        default_factory=lambda: {"score": float("nan"), "previous": 4.5}
    )
    message: str = "The alliance dropped."
    suggestions: tuple = ("Ask about the last session.",)


def _rate(practitioner, session):
    inst = catalogue.instrument_for(practitioner.practice, "hb_checkin_practitioner")
    return storage.store_practitioner_rating(
        session, inst, {1: 2, 2: 2, 3: 2, 4: 0}, practitioner, None
    )


def test_alerts_from_the_engine_are_stored_once(
    practitioner, session, monkeypatch, django_capture_on_commit_callbacks
):
    seen = []

    def engine(history, at="current", practice_id=None):
        seen.append(history)
        return [
            FakeAlert(
                engagement_id=frames.engagement_code(session.engagement_id),
                session=session.number,
            )
        ]

    monkeypatch.setattr(rules, "call_engine", engine)
    with django_capture_on_commit_callbacks(execute=True):
        _rate(practitioner, session)
    rules.evaluate_engagement(session.engagement_id)  # a second evaluation adds nothing
    alert = StoredAlert.objects.get()
    assert (alert.rule_id, alert.rule_version, alert.severity) == (
        "alliance_drop",
        "1",
        "warning",
    )
    assert alert.evidence == {"score": None, "previous": 4.5}  # NaN stored as JSON null
    assert alert.session == session
    assert list(seen[0].columns) == frames.COLUMNS


def test_score_frame_is_canonical(practitioner, session):
    _rate(practitioner, session)
    frame = frames.stored_scores(engagement_ids=[session.engagement_id])
    assert list(frame.columns) == frames.COLUMNS
    keys = ["engagement_id", "session", "respondent_id", "instrument", "subscale"]
    assert not frame.duplicated(keys).any()
    total = frame[frame["subscale"] == ""].iloc[0]
    assert total["respondent_id"] == f"P{practitioner.pk}"
    assert total["client_id"] == session.engagement.clients.first().code
    assert total["score"] == pytest.approx(2.0)  # mean of items 1-3, all 2


def test_alert_list_shows_my_alerts_only(
    client, practitioner, other_practitioner, session
):
    StoredAlert.objects.create(
        engagement=session.engagement,
        rule_id="mine",
        rule_version="1",
        severity="info",
        message="Mine",
    )
    other = factories.make_session(factories.make_engagement(other_practitioner))
    StoredAlert.objects.create(
        engagement=other.engagement,
        rule_id="theirs",
        rule_version="1",
        severity="info",
        message="Theirs",
    )
    client.force_login(practitioner)
    page = client.get(reverse("insights:alerts"))
    assert "Mine" in page.text
    assert "Theirs" not in page.text
    fragment = client.get(
        reverse("insights:alerts") + "?show=open", headers={"HX-Request": "true"}
    )
    assert fragment.text.lstrip().startswith('<div id="alert-table"')


def test_with_a_queue_the_evaluation_is_stored_with_the_answers(
    practitioner, session, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    _rate(practitioner, session)
    # No on-commit callback ran (the test transaction never commits), yet the task
    # row is there: it was written inside the same transaction as the answers.
    assert DBTaskResult.objects.count() == 1


def _engine_for(sessions):
    def engine(history, at="current", practice_id=None):
        return [
            FakeAlert(
                engagement_id=frames.engagement_code(s.engagement_id),
                session=s.number,
                rule_id=rule,
            )
            for s in sessions
            for rule in ("alliance_drop", "rupture_marker", "no_change")
        ]

    return engine


def test_a_batch_stores_its_alerts_in_queries_that_do_not_grow_with_them(
    practitioner, monkeypatch, django_assert_max_num_queries
):
    """Issue 14 §2: one read of the known alerts and one insert for the whole batch
    (was a savepoint, a look-up and an insert per alert)."""
    sessions = []
    for _ in range(4):
        engagement = factories.make_engagement(practitioner)
        session = factories.make_session(engagement)
        _rate(practitioner, session)
        sessions.append(session)
    monkeypatch.setattr(rules, "call_engine", _engine_for(sessions))
    ids = [s.engagement_id for s in sessions]
    # engagements, scores (2), sessions, known alerts, savepoint, insert, release
    with django_assert_max_num_queries(8):
        stored = rules.evaluate_engagements(ids)
    assert len(stored) == 12 == StoredAlert.objects.count()
    assert all(a.pk for a in stored)
    assert rules.evaluate_engagements(ids) == []  # stored once
    assert StoredAlert.objects.count() == 12


def test_an_alert_stored_meanwhile_by_another_evaluation_is_kept_once(
    practitioner, monkeypatch
):
    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    _rate(practitioner, session)
    monkeypatch.setattr(rules, "call_engine", _engine_for([session]))
    (first, *_rest) = rules.evaluate_engagements([engagement.pk])
    first_pk = first.pk
    StoredAlert.objects.exclude(pk=first_pk).delete()
    # the other evaluation's row is not yet visible to the read of known alerts
    real = StoredAlert.objects.filter

    def blind(*args, **kwargs):
        return real(*args, **kwargs).exclude(pk=first_pk)

    monkeypatch.setattr(StoredAlert.objects, "filter", blind)
    stored = rules.evaluate_engagements([engagement.pk])
    monkeypatch.undo()
    assert len(stored) == 2  # the insert failed on the one stored meanwhile
    assert StoredAlert.objects.count() == 3
    assert StoredAlert.objects.filter(pk=first_pk).exists()
