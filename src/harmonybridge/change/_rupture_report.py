"""Self-reported ruptures: events from the rupture question items."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonybridge.change._rupture_params import RuptureParams
from harmonybridge.change._rupture_wide import _assemble, _key_codes, _to_wide

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
    p: RuptureParams,
) -> pd.DataFrame:
    """Events from the rupture question: one per session reporting tension."""
    w = _to_wide(
        _by_session(d, gkeys, time, score, subscale),
        gkeys,
        time,
        list(RUPTURE_SUBSCALES),
    )
    pres, inten, res = w.values
    tmin = p.self_report_tension_min
    rmin = p.self_report_resolved_min
    window = p.repair_window
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


def _by_session(
    d: pd.DataFrame, gkeys: list[str], time: str, score: str, subscale: str
) -> pd.DataFrame:
    """One row per series and session (in order of first appearance): the key columns,
    ``time``, and a column of scores per name of :data:`RUPTURE_SUBSCALES` (NaN where
    not answered). Rows are unique per key, session and subscale (checked by the
    caller); other subscales are ignored. Filled from integer codes: a pandas
    ``unstack`` cost more than the whole scan on a dashboard's few hundred rows."""
    which = pd.Index(RUPTURE_SUBSCALES).get_indexer(pd.Index(d[subscale]))
    keep = np.flatnonzero(which >= 0)
    ids, _ = pd.factorize(_key_codes(d, [*gkeys, time])[keep])
    first = np.full(int(ids.max()) + 1 if len(ids) else 0, len(keep), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(keep)))
    out = d[[*gkeys, time]].iloc[keep[first]].reset_index(drop=True)
    values = np.full((len(first), len(RUPTURE_SUBSCALES)), np.nan)
    values[ids, which[keep]] = d[score].to_numpy(dtype="float64", na_value=np.nan)[keep]
    for j, name in enumerate(RUPTURE_SUBSCALES):
        out[name] = values[:, j]
    return out
