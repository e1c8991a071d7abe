"""Expected-response curves fitted on the practice's closed engagements and cached."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from harmonybridge.change import TrajectoryFit
from harmonybridge.web.insights.curves import (
    accept_curves,
    curve_sets_for,
    fit_practice_curves,
)
from harmonybridge.web.insights.models import CurveSet
from harmonybridge.web.practice.models import EngagementStatus, ServiceKind
from tests.web import factories
from tests.web.insights import helpers


@pytest.fixture
def history(practitioner):
    """40 closed therapy engagements whose PHQ-9 falls log-linearly from intake."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        e = factories.make_engagement(
            practitioner, kind=ServiceKind.THERAPY, status=EngagementStatus.CLOSED
        )
        intake = rng.uniform(10, 22)
        values = [
            float(np.clip(round(intake - 2.5 * np.log(t) + rng.normal(0, 1.5)), 0, 27))
            for t in range(1, 9)
        ]
        helpers.outcome_series(e, e.clients.first(), "phq9", values)
    return practitioner.practice


def test_fit_stores_one_curve_set_per_outcome_instrument(history, practitioner):
    saved = fit_practice_curves(history.pk, min_clients=30)
    assert [c.instrument for c in saved] == ["phq9"]
    assert curve_sets_for(history.pk) == {}  # not used before the admin accepts them
    accept_curves(saved[0], practitioner)
    fit = curve_sets_for(history.pk)["phq9"]
    assert isinstance(fit, TrajectoryFit)
    assert fit.method == "mixedlm"
    assert fit.n_clients == 40


def test_too_few_clients_keep_no_curve_set(history):
    assert fit_practice_curves(history.pk, min_clients=300) == []
    assert curve_sets_for(history.pk) == {}


def test_refit_updates_instead_of_duplicating(history):
    fit_practice_curves(history.pk, min_clients=30)
    fit_practice_curves(history.pk, min_clients=30)
    assert CurveSet.objects.filter(practice=history).count() == 1


def test_command_fits_every_practice(history):
    out = io.StringIO()
    call_command("fit_curves", "--min-clients", "30", stdout=out)
    assert "phq9 (40)" in out.getvalue()


def test_dashboard_draws_the_expected_band_once_curves_exist(
    owner_client, history, practitioner
):
    active = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    helpers.outcome_series(active, active.clients.first(), "phq9", [18, 16, 15, 12])
    url = reverse("insights:dashboard", args=[active.pk])
    assert 'data-kind="expected_band"' not in owner_client.get(url).content.decode()
    (saved,) = fit_practice_curves(history.pk, min_clients=30)
    assert 'data-kind="expected_band"' not in owner_client.get(url).content.decode()
    accept_curves(saved, practitioner)
    assert 'data-kind="expected_band"' in owner_client.get(url).content.decode()


# --- issue 11 item 12: curves are checked and accepted before alerts use them ---------


def test_non_converged_fit_is_never_stored(history, monkeypatch):
    import dataclasses

    import harmonybridge.change as change

    real = change.fit_trajectories

    def not_converged(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), converged=False)

    monkeypatch.setattr(change, "fit_trajectories", not_converged)
    notes: list[str] = []
    assert fit_practice_curves(history.pk, min_clients=30, notes=notes) == []
    assert CurveSet.objects.filter(practice=history).count() == 0
    assert notes == [
        "phq9: the curve fit did not converge; not stored (the rational rule stays in use)"
    ]


def test_calibration_is_stored_with_the_curves(history):
    (saved,) = fit_practice_curves(history.pk, min_clients=30)
    saved.refresh_from_db()
    assert saved.converged
    assert [r["band"] for r in saved.calibration] == ["yellow", "red"]
    for row in saved.calibration:
        assert row["n_series"] == 40
        # share of all clients flagged = flagged / series (by definition)
        assert row["share_flagged"] == pytest.approx(row["n_flagged"] / 40)
        assert row["n_deteriorated"] <= 40
    # the red band (95th percentile) never flags more than the yellow one (90th)
    assert saved.calibration[1]["n_flagged"] <= saved.calibration[0]["n_flagged"]
    assert not saved.accepted


def test_admin_sees_calibration_and_accepts_the_curves(client, history, practitioner):
    from harmonybridge.web.accounts.models import Role

    (saved,) = fit_practice_curves(history.pk, min_clients=30)
    client.force_login(practitioner)  # a practitioner may not see or accept
    assert client.get(reverse("insights:curves")).status_code == 404
    url = reverse("insights:curve_accept", args=[saved.pk])
    assert client.post(url).status_code == 404
    admin = factories.make_practitioner(history, role=Role.ADMIN, username="boss")
    client.force_login(admin)
    page = client.get(reverse("insights:curves")).content.decode()
    assert "share of all clients flagged" in page
    assert "Not accepted: the not-on-track alert uses the rational rule." in page
    assert "no reliable-change criterion" not in page  # PHQ-9 has its published value
    assert client.post(url).status_code == 302
    saved.refresh_from_db()
    assert saved.accepted_by == admin
    assert "phq9" in curve_sets_for(history.pk)
    # a refit withdraws the acceptance: new curves need a new look
    fit_practice_curves(history.pk, min_clients=30)
    assert curve_sets_for(history.pk) == {}


def test_not_on_track_uses_the_rational_rule_until_accepted_and_says_so(
    history, practitioner
):
    import pandas as pd

    from harmonybridge.alerts import evaluate_alerts
    from harmonybridge.web.alerts.context import build_context

    (saved,) = fit_practice_curves(history.pk, min_clients=30)
    ctx, _ = build_context(history.pk)
    assert ctx.curve_sets == {}
    series = pd.DataFrame(
        {
            "engagement_id": 1,
            "session": [1, 2, 3, 4],
            "rater_role": "client",
            "respondent_id": "c1",
            "instrument": "phq9",
            "subscale": "",
            "score": [15.0, 15.0, 14.0, 15.0],
        }
    )
    (alert,) = [
        a
        for a in evaluate_alerts(series, context=ctx)
        if a.rule_id == "outcome.not_on_track"
    ]
    assert alert.evidence["curves"] == 0
    assert (
        "rational rule: the practice has no accepted expected-response curves"
        in alert.message
    )
    accept_curves(saved, practitioner)
    ctx, _ = build_context(history.pk)
    assert set(ctx.curve_sets) == {"phq9"}
