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

__all__ = [
    "ALLIANCE_COLUMNS",
    "GrowthFit",
    "alliance_norms",
    "alliance_percentiles",
    "by_session",
    "dyadic_discrepancy",
    "fit_growth",
    "low_early_alliance",
    "rupture_concordance",
    "split_alliance",
    "unrecognised_ruptures",
]
