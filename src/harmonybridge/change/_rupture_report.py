"""Self-reported ruptures: events from the rupture question items."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonybridge.change._rupture_wide import _assemble, _to_wide

#: Derived subscale names carrying the self-reported rupture items (the instrument
#: definitions' ``[derived]`` tables).
RUPTURE_SUBSCALES: tuple[str, ...] = (
    "rupture_present",
    "rupture_intensity",
    "rupture_resolution",
)


def _self_report_events(
    d: pd.DataFrame,
    gkeys: list[str],
    time: str,
    score: str,
    subscale: str,
    p: dict[str, object],
) -> pd.DataFrame:
    """Events from the rupture question: one per session reporting tension."""
    wide_rows = (
        d.set_index([*gkeys, time, subscale])[score]
        .unstack(subscale)
        .reindex(columns=list(RUPTURE_SUBSCALES))
        .reset_index()
    )
    w = _to_wide(wide_rows, gkeys, time, list(RUPTURE_SUBSCALES))
    pres, inten, res = w.values
    tmin = float(p["self_report_tension_min"])  # type: ignore[arg-type]
    rmin = float(p["self_report_resolved_min"])  # type: ignore[arg-type]
    window = int(p["repair_window"])  # type: ignore[call-overload]
    with np.errstate(invalid="ignore"):
        tension = ((pres == 1) & (np.isnan(inten) | (inten >= tmin))) | (
            np.isnan(pres) & (inten >= tmin)
        )
        calm = pres == 0
        resolved = res >= rmin
    del calm  # "no tension reported" is not repair: only a resolution rating is
    found = np.where(resolved, 0, -1)
    gi, ji = np.nonzero(tension)
    steps = found[gi, ji]
    rep_pos = np.where(steps >= 0, ji + steps, -1)
    ty = np.where(steps == 0, 0, np.where(steps == 1, 0, np.where(steps > 1, 1, -1)))
    elapsed = ji + window < w.n_obs[gi]
    ty = np.where(ty >= 0, ty, np.where(elapsed, 2, 3))
    nan = np.full(len(gi), np.nan)
    return _assemble(w, gi, ji, ji, rep_pos, ty, nan, nan, nan, nan, "report")
