"""The rupture detector's resolved parameters, one typed value passed to its steps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuptureParams:
    """Options of ``detect_ruptures`` after the preset and the defaults are applied."""

    mode: str  # "prospective" or "retrospective"
    baseline: str  # "rolling_mean", "rolling_mean(k=N)", "person_mean_excl_t", …
    sd_source: str  # "within", "pooled", "max" or "sem"
    k_sd: float  # a drop of more than k_sd SDs below the baseline is a rupture
    repair_window: int
    extended_window: int
    repair_tolerance: float
    self_report_tension_min: float
    self_report_resolved_min: float
    min_sd_history: int  # earlier observed sessions needed for a person's own SD
