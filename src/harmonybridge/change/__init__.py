"""Change analytics: reliable change, sudden gains and losses, ruptures, expected response."""

from __future__ import annotations

from harmonybridge.change.reliable_change import (
    ChangeCriterion,
    change_criterion,
    reliable_change,
    s_diff,
)
from harmonybridge.change.ruptures import (
    detect_ruptures,
    pooled_within_sd,
    rupture_summary,
)
from harmonybridge.change.sudden_gains import (
    sudden_gain_intervals,
    sudden_gains,
    sudden_gains_byperson,
)
from harmonybridge.change.trajectories import (
    TrajectoryFit,
    calibrate_bands,
    classify_progress,
    fit_trajectories,
    predict_bands,
)

__all__ = [
    "ChangeCriterion",
    "TrajectoryFit",
    "calibrate_bands",
    "change_criterion",
    "classify_progress",
    "detect_ruptures",
    "fit_trajectories",
    "pooled_within_sd",
    "predict_bands",
    "reliable_change",
    "rupture_summary",
    "s_diff",
    "sudden_gain_intervals",
    "sudden_gains",
    "sudden_gains_byperson",
]
