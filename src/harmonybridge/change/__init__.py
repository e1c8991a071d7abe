"""Change analytics: reliable change, sudden gains and losses, ruptures, expected response.

Ruptures (scipy.stats) and expected-response curves (statsmodels) are imported on first
use (PEP 562), so ``harmonybridge sudden-gains`` does not pay for them. Reliable change
and sudden gains are imported at once: their functions share their modules' names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harmonybridge.change.reliable_change import (
    ChangeCriterion,
    change_criterion,
    reliable_change,
    s_diff,
)
from harmonybridge.change.sudden_gains import (
    sudden_gain_intervals,
    sudden_gains,
    sudden_gains_byperson,
)

_LAZY = {
    "detect_ruptures": "harmonybridge.change.ruptures",
    "pooled_within_sd": "harmonybridge.change.ruptures",
    "rupture_summary": "harmonybridge.change.ruptures",
    "TrajectoryFit": "harmonybridge.change.trajectories",
    "calibrate_bands": "harmonybridge.change.trajectories",
    "classify_progress": "harmonybridge.change.trajectories",
    "fit_trajectories": "harmonybridge.change.trajectories",
    "predict_bands": "harmonybridge.change.trajectories",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harmonybridge.change' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from harmonybridge.change.ruptures import (
        detect_ruptures,
        pooled_within_sd,
        rupture_summary,
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
