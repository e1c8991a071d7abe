"""Alliance analytics: dyadic client–practitioner signals."""

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

__all__ = [
    "alliance_norms",
    "alliance_percentiles",
    "dyadic_discrepancy",
    "low_early_alliance",
    "rupture_concordance",
    "split_alliance",
    "unrecognised_ruptures",
]
