"""The practice's alert reference: fitted on closed engagements, stored once, used by the rules."""

from __future__ import annotations

import pytest

from harmonybridge import instruments
from harmonybridge.web.alerts import context as alert_context
from harmonybridge.web.alerts import rules
from harmonybridge.web.alerts.models import AlertReference, StoredAlert
from harmonybridge.web.checkins import storage
from harmonybridge.web.checkins.models import Response
from harmonybridge.web.practice.models import EngagementStatus
from tests.web import factories

pytestmark = pytest.mark.django_db

# Reference: two closed engagements, two sessions each, client and practitioner both
# rating hb_checkin items 1-3 as (4, 4, 3) then (4, 4, 5): totals (item means)
# 11/3 = 3.667 and 13/3 = 4.333. Per rater role: n = 4, mean = 4.0,
# SD (ddof 1) = sqrt(4 * (1/3)^2 / 3) = sqrt(4/27) = 0.3849.
LOW, HIGH = {1: 4, 2: 4, 3: 3, 4: 0}, {1: 4, 2: 4, 3: 5, 4: 0}
REF_SD = (4 / 27) ** 0.5


def _rate(session, *, client=None, user=None, answers):
    """Store one hb_checkin (client) or hb_checkin_practitioner rating, no evaluation."""
    if client is not None:
        inst = instruments.get("hb_checkin")
        storage._store(
            session,
            [(inst, answers)],
            rater_role="client",
            respondent_key=Response.key_for_client(client.pk),
            channel="link",
            client_id=client.pk,
        )
    else:
        inst = instruments.get("hb_checkin_practitioner")
        storage._store(
            session,
            [(inst, answers)],
            rater_role="practitioner",
            respondent_key=Response.key_for_user(user.pk),
            channel="web",
            user_id=user.pk,
        )


def _closed_reference(practitioner):
    for _ in range(2):
        eng = factories.make_engagement(practitioner, status=EngagementStatus.CLOSED)
        client = eng.clients.first()
        for answers in (LOW, HIGH):
            s = factories.make_session(eng)
            _rate(s, client=client, answers=answers)
            _rate(s, user=practitioner, answers=answers)


def _norm(ctx, role):
    n = ctx.alliance_norms
    return n[n["rater_role"] == role].iloc[0]


def _active_with_one_session(practitioner, client_answers, practitioner_answers):
    eng = factories.make_engagement(practitioner)
    s = factories.make_session(eng)
    _rate(s, client=eng.clients.first(), answers=client_answers)
    _rate(s, user=practitioner, answers=practitioner_answers)
    return eng


def test_context_is_fitted_on_closed_engagements_only(practitioner):
    _closed_reference(practitioner)
    # An active engagement with extreme ratings (client 1, practitioner 5) must not
    # move the yardstick it is screened against.
    _active_with_one_session(
        practitioner, {1: 1, 2: 1, 3: 1, 4: 0}, {1: 5, 2: 5, 3: 5, 4: 0}
    )
    ref = alert_context.refresh_alert_reference(practitioner.practice_id)
    assert ref.n_engagements == 2
    assert "rules" not in ref.context  # the installed rule table is used when read
    ctx = alert_context.practice_context(practitioner.practice_id)
    for role in ("client", "practitioner"):
        row = _norm(ctx, role)
        assert row["n"] == 4  # 2 closed engagements x 2 sessions; active ones left out
        assert row["mean"] == pytest.approx(4.0)
        assert row["sd"] == pytest.approx(REF_SD)


def test_no_closed_work_means_the_rational_fallbacks(practitioner):
    _active_with_one_session(practitioner, LOW, HIGH)
    assert alert_context.refresh_alert_reference(practitioner.practice_id) is None
    assert not AlertReference.objects.exists()
    ctx = alert_context.practice_context(practitioner.practice_id)
    assert ctx.alliance_norms is None
    assert dict(ctx.pooled_sd) == {}


def test_reference_is_stored_once_and_reused_on_each_save(
    practitioner, monkeypatch, django_capture_on_commit_callbacks
):
    _closed_reference(practitioner)
    calls = []
    build = alert_context.build_context

    def counting(practice_id):
        calls.append(practice_id)
        return build(practice_id)

    monkeypatch.setattr(alert_context, "build_context", counting)
    alert_context.refresh_alert_reference(practitioner.practice_id)
    stored = AlertReference.objects.get(practice_id=practitioner.practice_id)
    eng = factories.make_engagement(practitioner)
    inst = instruments.get("hb_checkin_practitioner")
    for _ in range(2):  # two practitioner ratings saved, each evaluated on commit
        session = factories.make_session(eng)
        with django_capture_on_commit_callbacks(execute=True):
            storage.store_practitioner_rating(session, inst, HIGH, practitioner, None)
    assert calls == [practitioner.practice_id]  # built once, by the refresh
    again = AlertReference.objects.get(practice_id=practitioner.practice_id)
    assert again.fitted_at == stored.fitted_at
    assert again.library_version


def test_refresh_command_stores_every_practice(practitioner):
    from io import StringIO

    from django.core.management import call_command

    _closed_reference(practitioner)
    other = factories.make_practitioner()  # a practice without closed work
    out = StringIO()
    call_command("refresh_alert_reference", stdout=out)
    assert AlertReference.objects.filter(practice_id=practitioner.practice_id).exists()
    assert not AlertReference.objects.filter(practice_id=other.practice_id).exists()
    assert "2 closed engagements" in out.getvalue()


def test_alliance_gap_fires_with_the_practice_norms_and_not_without(practitioner):
    _closed_reference(practitioner)
    # Screened session: client (3, 3, 3) -> 3.0, practitioner (4, 4, 4) -> 4.0.
    # Empty context: raw gap |3.0 - 4.0| = 1.0 < fallback_raw_gap 1.5 -> no alert.
    # Practice norms: z_client = (3.0 - 4.0) / 0.3849 = -2.598, z_practitioner =
    # (4.0 - 4.0) / 0.3849 = 0, D = -2.598, |D| >= min_abs_z 2.0 -> alert.
    eng = _active_with_one_session(
        practitioner, {1: 3, 2: 3, 3: 3, 4: 0}, {1: 4, 2: 4, 3: 4, 4: 0}
    )
    rules.evaluate_engagement(eng.pk)
    assert not StoredAlert.objects.filter(engagement=eng, rule_id="alliance.gap")

    alert_context.refresh_alert_reference(practitioner.practice_id)
    rules.evaluate_engagement(eng.pk)
    gap = StoredAlert.objects.get(engagement=eng, rule_id="alliance.gap")
    assert gap.evidence["standardised"] == 1
    assert gap.evidence["z_client"] == pytest.approx(-1 / REF_SD)
    assert gap.evidence["z_practitioner"] == pytest.approx(0.0)
    assert gap.evidence["discrepancy"] == pytest.approx(-2.598, abs=1e-3)


def test_each_practice_is_judged_on_its_own_reference(practitioner):
    """One batch over two practices: only the one with norms raises the gap."""
    _closed_reference(practitioner)
    alert_context.refresh_alert_reference(practitioner.practice_id)
    other = factories.make_practitioner()  # no reference: raw fallback 1.5
    mine = _active_with_one_session(
        practitioner, {1: 3, 2: 3, 3: 3, 4: 0}, {1: 4, 2: 4, 3: 4, 4: 0}
    )
    theirs = _active_with_one_session(
        other, {1: 3, 2: 3, 3: 3, 4: 0}, {1: 4, 2: 4, 3: 4, 4: 0}
    )
    rules.evaluate_engagements([mine.pk, theirs.pk])
    gaps = StoredAlert.objects.filter(rule_id="alliance.gap")
    assert list(gaps.values_list("engagement_id", flat=True)) == [mine.pk]


def test_a_reference_with_an_undefined_sd_is_stored_as_json(practitioner):
    # One closed engagement, one session: n = 1 per rater role, so the SD (ddof 1)
    # is undefined (NaN), which JSON cannot hold; it is stored as null.
    eng = factories.make_engagement(practitioner, status=EngagementStatus.CLOSED)
    s = factories.make_session(eng)
    _rate(s, client=eng.clients.first(), answers=LOW)
    _rate(s, user=practitioner, answers=LOW)
    ref = alert_context.refresh_alert_reference(practitioner.practice_id)
    sds = [r["sd"] for r in ref.context["alliance_norms"]]
    assert sds == [None, None]
    ctx = alert_context.practice_context(practitioner.practice_id)
    assert _norm(ctx, "client")["n"] == 1
    assert _norm(ctx, "client")["mean"] == pytest.approx(11 / 3)
