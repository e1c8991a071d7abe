"""Expected-response curves fitted on the practice's closed engagements and cached."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from harmonybridge.change import TrajectoryFit
from harmonybridge.web.alerts.curves import curve_sets_for, fit_practice_curves
from harmonybridge.web.alerts.models import CurveSet
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


def test_fit_stores_one_curve_set_per_outcome_instrument(history):
    saved = fit_practice_curves(history.pk, min_clients=30)
    assert [c.instrument for c in saved] == ["phq9"]
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
    fit_practice_curves(history.pk, min_clients=30)
    assert 'data-kind="expected_band"' in owner_client.get(url).content.decode()
