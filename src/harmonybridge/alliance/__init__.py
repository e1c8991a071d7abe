"""Alliance analytics: dyadic client–practitioner signals and alliance–outcome models."""

from __future__ import annotations

from harmonybridge.alliance.dyadic import (
    alliance_norms,
    alliance_percentiles,
    dyadic_discrepancy,
    low_early_alliance,
    rupture_concordance,
    split_alliance,
    unrecognised_ruptures,
)
from harmonybridge.alliance.frames import ALLIANCE_COLUMNS, by_session
from harmonybridge.alliance.growth import GrowthFit, fit_growth
from harmonybridge.alliance.outcomes import (
    FLUCKIGER_2018,
    IccResult,
    LaggedResult,
    agreement,
    association,
    lagged_model,
    practitioner_icc,
    response_surface,
)
from harmonybridge.alliance.practice import (
    alliance_by_modality,
    prediction_accuracy,
    reliable_change_summary,
    rupture_outcome,
)

__all__ = [
    "ALLIANCE_COLUMNS",
    "FLUCKIGER_2018",
    "GrowthFit",
    "IccResult",
    "LaggedResult",
    "agreement",
    "alliance_by_modality",
    "alliance_norms",
    "alliance_percentiles",
    "association",
    "by_session",
    "dyadic_discrepancy",
    "fit_growth",
    "lagged_model",
    "low_early_alliance",
    "practitioner_icc",
    "prediction_accuracy",
    "reliable_change_summary",
    "response_surface",
    "rupture_concordance",
    "rupture_outcome",
    "split_alliance",
    "unrecognised_ruptures",
]
