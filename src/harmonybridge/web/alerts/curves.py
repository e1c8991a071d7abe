"""Expected-response curve sets fitted on a practice's closed engagements, cached as JSON."""

from __future__ import annotations

import warnings
from typing import Any

from django.db import transaction

from harmonybridge import instruments, schema
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning
from harmonybridge.web.alerts.models import CurveSet
from harmonybridge.web.checkins import frames
from harmonybridge.web.practice import conventions
from harmonybridge.web.practice.models import Engagement, EngagementStatus


def fit_practice_curves(
    practice_id: int, *, min_clients: int = 300, notes: list[str] | None = None
) -> list[CurveSet]:
    """Refit every outcome instrument's curves from the practice's closed engagements.

    Instruments with fewer than ``min_clients`` clients keep no curve set, and a fit
    whose optimiser did not converge is never stored (``notes`` says why); the alert
    rules and charts then use the rational rule. A stored fit carries its calibration on
    the same closed engagements (:func:`calibration_rows`) and waits for the practice
    admin to accept it: a refit withdraws an earlier acceptance.
    """
    from harmonybridge.change import fit_trajectories

    notes = notes if notes is not None else []

    closed = Engagement.objects.filter(
        practice_id=practice_id, status=EngagementStatus.CLOSED
    ).values_list("pk", flat=True)
    scores = frames.stored_scores(engagement_ids=list(closed))
    saved: list[CurveSet] = []
    if scores.empty:
        return saved
    totals = scores[scores[schema.SUBSCALE] == ""]
    chosen = conventions.for_practice(practice_id)
    for inst_id in sorted(totals[schema.INSTRUMENT].unique()):
        inst = instruments.find(inst_id)
        if inst is None or inst.kind != "outcome":
            continue
        one = totals[totals[schema.INSTRUMENT] == inst_id].dropna(subset=[schema.SCORE])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HarmonyBridgeWarning)
            fit = fit_trajectories(
                one,
                instrument=inst_id,
                min_clients=min_clients,
                convention=chosen.get(inst_id),
            )
        if fit.method != "mixedlm":
            notes.append(f"{inst_id}: too few clients for curves ({fit.n_clients})")
            continue
        if not fit.converged:
            notes.append(
                f"{inst_id}: the curve fit did not converge; not stored (the rational "
                "rule stays in use)"
            )
            continue
        with transaction.atomic():
            obj, _ = CurveSet.objects.update_or_create(
                practice_id=practice_id,
                instrument=inst_id,
                defaults={
                    "fit": fit.to_dict(),
                    "n_clients": fit.n_clients,
                    "converged": True,
                    "calibration": calibration_rows(fit, one),
                    "accepted_at": None,
                    "accepted_by": None,
                },
            )
        saved.append(obj)
    return saved


def calibration_rows(fit: Any, scores: Any) -> list[dict[str, Any]]:
    """How the yellow and red bands would have flagged the practice's closed engagements.

    Per band: the number of series, of eventually deteriorated ones (reliable
    deterioration at their last session, by the core's reliable-change rule), the share
    of those flagged before their end (``sensitivity``), the share of all series flagged
    (``share_flagged``) and the false-alarm rate (Lambert et al. 2002; calibration before
    clinical use, see ``docs/alert-rules.md``).
    """
    from harmonybridge.change import calibrate_bands
    from harmonybridge.change.trajectories import Z_RED, Z_YELLOW

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = calibrate_bands(
            fit,
            scores,
            id=[schema.ENGAGEMENT_ID, schema.RESPONDENT_ID],
            z_values=(Z_YELLOW, Z_RED),
            outcome="deterioration",
        )
    rows = []
    for r, band in zip(table.to_dict("records"), ("yellow", "red"), strict=True):
        n = int(r["n_series"])
        rows.append(
            {
                "band": band,
                "z": float(r["z"]),
                "n_series": n,
                "n_deteriorated": int(r["n_poor"]),
                "n_flagged": int(r["n_flagged"]),
                "sensitivity": _num(r["sensitivity"]),
                "share_flagged": _num(r["n_flagged"] / n if n else float("nan")),
                "false_alarm_rate": _num(r["false_alarm_rate"]),
            }
        )
    return rows


def _num(x: Any) -> float | None:
    x = float(x)
    return None if x != x else x


def accept_curves(curve_set: CurveSet, user: Any) -> None:
    """The practice admin accepts a converged, calibrated curve set for alerts."""
    from django.utils import timezone

    if not curve_set.converged or not curve_set.calibration:
        raise DataValidationError(
            "only a converged curve set with its calibration can be accepted"
        )
    curve_set.accepted_at = timezone.now()
    curve_set.accepted_by = user
    curve_set.save(update_fields=["accepted_at", "accepted_by", "updated_at"])


def curve_sets_for(practice_id: int) -> dict[str, Any]:
    """``{instrument: TrajectoryFit}`` of the curve sets the practice admin accepted.

    Only converged fits that were accepted after seeing their calibration are used (by
    the alert rules and the charts); without one, ``outcome.not_on_track`` uses the
    rational rule and says so. One query.
    """
    from harmonybridge.change import TrajectoryFit

    out: dict[str, Any] = {}
    accepted = CurveSet.objects.filter(
        practice_id=practice_id, converged=True, accepted_at__isnull=False
    )
    for obj in accepted:
        try:
            fit = TrajectoryFit.from_dict(obj.fit)
        except (DataValidationError, TypeError, KeyError):
            continue  # stored by an older version: refit with `fit_curves`
        if fit.converged:
            out[obj.instrument] = fit
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
