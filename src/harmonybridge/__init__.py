"""HarmonyBridge: two-sided alliance and wellbeing measurement and change analytics.

The public API is listed in ``__all__``. Names are imported on first use (PEP 562),
so ``import harmonybridge`` and the command line start without loading statsmodels.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

from harmonybridge.errors import (
    DataValidationError,
    DefinitionError,
    HarmonyBridgeWarning,
    WordingRequiredError,
)

#: public name -> the module that defines it
_LAZY: dict[str, str] = {
    # instruments and scoring
    "Instrument": "harmonybridge.instruments",
    "ScoreResult": "harmonybridge.instruments",
    "all_instruments": "harmonybridge.instruments",
    "get_instrument": "harmonybridge.instruments",
    "instrument_ids": "harmonybridge.instruments",
    "load_wording": "harmonybridge.instruments",
    "score_frame": "harmonybridge.instruments",
    # change analytics
    "reliable_change": "harmonybridge.change",
    "s_diff": "harmonybridge.change",
    "sudden_gains": "harmonybridge.change",
    "sudden_gains_byperson": "harmonybridge.change",
    "sudden_gain_intervals": "harmonybridge.change",
    "detect_ruptures": "harmonybridge.change",
    "pooled_within_sd": "harmonybridge.change",
    "TrajectoryFit": "harmonybridge.change",
    "fit_trajectories": "harmonybridge.change",
    "predict_bands": "harmonybridge.change",
    "classify_progress": "harmonybridge.change",
    "calibrate_bands": "harmonybridge.change",
    "rupture_summary": "harmonybridge.change",
    # dyadic alliance signals
    "dyadic_discrepancy": "harmonybridge.alliance",
    "unrecognised_ruptures": "harmonybridge.alliance",
    "split_alliance": "harmonybridge.alliance",
    "low_early_alliance": "harmonybridge.alliance",
    # alerts
    "Alert": "harmonybridge.alerts",
    "AlertContext": "harmonybridge.alerts",
    "default_rules": "harmonybridge.alerts",
    "evaluate_alerts": "harmonybridge.alerts",
    "evaluate_alerts_frame": "harmonybridge.alerts",
    # synthetic data
    "simulate_practice": "harmonybridge.datasets",
    "demo_practice": "harmonybridge.datasets",
    "simulate_series": "harmonybridge.datasets",
    # charts
    "alliance_chart": "harmonybridge.reports.charts",
    "outcome_chart": "harmonybridge.reports.charts",
    "goal_progress_chart": "harmonybridge.reports.charts",
}
_RENAMED = {"get_instrument": "get", "instrument_ids": "ids"}

__all__ = [
    "Alert",
    "AlertContext",
    "DataValidationError",
    "DefinitionError",
    "HarmonyBridgeWarning",
    "Instrument",
    "ScoreResult",
    "TrajectoryFit",
    "WordingRequiredError",
    "__version__",
    "all_instruments",
    "alliance_chart",
    "calibrate_bands",
    "classify_progress",
    "default_rules",
    "demo_practice",
    "detect_ruptures",
    "dyadic_discrepancy",
    "evaluate_alerts",
    "evaluate_alerts_frame",
    "fit_trajectories",
    "get_instrument",
    "goal_progress_chart",
    "instrument_ids",
    "load_wording",
    "low_early_alliance",
    "outcome_chart",
    "pooled_within_sd",
    "predict_bands",
    "reliable_change",
    "rupture_summary",
    "s_diff",
    "score_frame",
    "simulate_practice",
    "simulate_series",
    "split_alliance",
    "sudden_gain_intervals",
    "sudden_gains",
    "sudden_gains_byperson",
    "unrecognised_ruptures",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harmonybridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # explicit imports for type checkers and readers
    from harmonybridge.alerts import (
        Alert,
        AlertContext,
        default_rules,
        evaluate_alerts,
        evaluate_alerts_frame,
    )
    from harmonybridge.alliance import (
        dyadic_discrepancy,
        low_early_alliance,
        split_alliance,
        unrecognised_ruptures,
    )
    from harmonybridge.change import (
        TrajectoryFit,
        calibrate_bands,
        classify_progress,
        detect_ruptures,
        fit_trajectories,
        pooled_within_sd,
        predict_bands,
        rupture_summary,
        s_diff,
        sudden_gain_intervals,
        sudden_gains_byperson,
    )
    from harmonybridge.change.reliable_change import reliable_change
    from harmonybridge.change.sudden_gains import sudden_gains
    from harmonybridge.datasets import demo_practice, simulate_practice, simulate_series
    from harmonybridge.instruments import (
        Instrument,
        ScoreResult,
        all_instruments,
        load_wording,
        score_frame,
    )
    from harmonybridge.instruments import get as get_instrument
    from harmonybridge.instruments import ids as instrument_ids
    from harmonybridge.reports.charts import (
        alliance_chart,
        goal_progress_chart,
        outcome_chart,
    )
