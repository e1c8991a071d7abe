"""Expected-response curve sets fitted on a practice's closed engagements, cached as JSON."""

from __future__ import annotations

import warnings
from typing import Any

from django.db import transaction

from harmonybridge import instruments, schema
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning
from harmonybridge.web.alerts.models import CurveSet
from harmonybridge.web.checkins import frames
from harmonybridge.web.practice.models import Engagement, EngagementStatus


def fit_practice_curves(practice_id: int, *, min_clients: int = 300) -> list[CurveSet]:
    """Refit every outcome instrument's curves from the practice's closed engagements.

    Instruments with fewer than ``min_clients`` clients keep no curve set (the alert
    rules and charts fall back to the rational rules).
    """
    from harmonybridge.change import fit_trajectories

    closed = Engagement.objects.filter(
        practice_id=practice_id, status=EngagementStatus.CLOSED
    ).values_list("pk", flat=True)
    scores = frames.stored_scores(engagement_ids=list(closed))
    saved: list[CurveSet] = []
    if scores.empty:
        return saved
    totals = scores[scores[schema.SUBSCALE] == ""]
    for inst_id in sorted(totals[schema.INSTRUMENT].unique()):
        inst = instruments.find(inst_id)
        if inst is None or inst.kind != "outcome":
            continue
        one = totals[totals[schema.INSTRUMENT] == inst_id].dropna(subset=[schema.SCORE])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HarmonyBridgeWarning)
            fit = fit_trajectories(one, instrument=inst_id, min_clients=min_clients)
        if fit.method != "mixedlm":
            continue
        with transaction.atomic():
            obj, _ = CurveSet.objects.update_or_create(
                practice_id=practice_id,
                instrument=inst_id,
                defaults={"fit": fit.to_dict(), "n_clients": fit.n_clients},
            )
        saved.append(obj)
    return saved


def curve_sets_for(practice_id: int) -> dict[str, Any]:
    """``{instrument: TrajectoryFit}`` of the practice's cached curve sets (one query)."""
    from harmonybridge.change import TrajectoryFit

    out: dict[str, Any] = {}
    for obj in CurveSet.objects.filter(practice_id=practice_id):
        try:
            out[obj.instrument] = TrajectoryFit.from_dict(obj.fit)
        except (DataValidationError, TypeError, KeyError):
            continue  # stored by an older version: refit with `fit_curves`
    return out


def expected_band(
    fit: Any, intake: float, first_session: int, last_session: int
) -> Any:
    """Expected-response band for one series, on the engagement's session numbers."""
    from harmonybridge.change import predict_bands

    n = max(last_session - first_session + 1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        band = predict_bands(fit, intake, list(range(1, n + 1)))
    return band.assign(session=band["session"] + first_session - 1)
