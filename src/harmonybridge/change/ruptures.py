"""Alliance rupture–repair detection from session-by-session alliance scores."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.change._rupture_report import RUPTURE_SUBSCALES, _self_report_events
from harmonybridge.change._rupture_scan import _statistical_events
from harmonybridge.change._rupture_wide import _TYPES, _key_codes, check_unique
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = [
    "RUPTURE_SUBSCALES",
    "detect_ruptures",
    "pooled_within_sd",
    "rupture_summary",
]

_PRESETS: dict[str, dict[str, object]] = {
    # The published rules and nothing else (no step floor), as compared by Gumz et al.
    # (2012); see docs/references.md.
    # Stiles et al. (2004): retrospective, person mean, within-person SD, 2 SD.
    "stiles2004": {
        "mode": "retrospective",
        "baseline": "person_mean_excl_t",
        "sd_source": "within",
        "k_sd": 2.0,
        "min_abs_drop": 0.0,
    },
    # Strauss et al. (2006): as Stiles but the less strict 1 SD drop.
    "strauss2006": {
        "mode": "retrospective",
        "baseline": "person_mean_excl_t",
        "sd_source": "within",
        "k_sd": 1.0,
        "min_abs_drop": 0.0,
    },
}
_DEFAULTS: dict[str, object] = {
    "mode": "prospective",
    "baseline": "rolling_mean",
    "sd_source": "max",
    "k_sd": 2.0,
    "min_abs_drop": 0.25,
}
_BASELINES = ("rolling_mean", "person_mean_excl_t", "previous_session")
_SD_SOURCES = ("within", "pooled", "max", "sem", "within_else_pooled")

EVENT_COLUMNS: tuple[str, ...] = (
    "rater",
    "source",
    "onset_session",
    "nadir_session",
    "baseline",
    "threshold",
    "depth",
    "depth_sd",
    "repair_session",
    "type",
)


def pooled_within_sd(
    reference: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.SERIES_KEY,
    score: str = schema.SCORE,
    by: str | None = None,
) -> float | dict[object, float]:
    """Return the pooled within-series SD of a reference set of scores.

    Parameters
    ----------
    reference : pandas.DataFrame
        Long frame of a reference set fixed in advance (e.g. the practice's
        history before today), never the frame being screened.
    id : str or list of str
        Series key (default: the canonical series key).
    score : str
        Score column.
    by : str, optional
        Column to pool separately by (e.g. ``"rater_role"``); then a dict
        ``{value: sd}`` is returned.

    Returns
    -------
    float or dict
        ``sqrt(sum_i (n_i - 1) s_i^2 / sum_i (n_i - 1))`` over series with at
        least two scores; NaN when no series has two scores.

    References
    ----------
    Gumz, A., Brähler, E., Geyer, M., & Erices, R. (2012). Crisis-repair
    sequences — considerations on the assessment and classification of
    breaches in the therapeutic relationship. BMC Medical Research
    Methodology, 12, 10. Reference test:
    ``tests/core/test_ruptures.py::test_pooled_within_sd_by_hand``.
    """
    keys = schema.as_key_list(id)
    need = [*keys, score] + ([by] if by else [])
    schema.validate_long(reference, required=need, numeric=[score], name="reference")
    d = reference[need].dropna(subset=[score])
    group_keys = keys + ([by] if by and by not in keys else [])
    g = d.groupby(group_keys, dropna=False, sort=False)[score]
    per = pd.DataFrame({"n": g.count(), "var": g.var(ddof=1)}).reset_index()
    per = per[per["n"] >= 2]
    per["ss"] = (per["n"] - 1) * per["var"]
    per["df"] = per["n"] - 1

    def _pool(p: pd.DataFrame) -> float:
        df = p["df"].sum()
        return float(np.sqrt(p["ss"].sum() / df)) if df > 0 else float("nan")

    if by is None:
        return _pool(per)
    return {k: _pool(p) for k, p in per.groupby(by, sort=True)}


def _resolve(preset: str | None, given: dict[str, object]) -> dict[str, object]:
    if preset is not None and preset not in _PRESETS:
        raise DataValidationError(
            f"preset must be None, 'stiles2004' or 'strauss2006', got {preset!r}"
        )
    out = dict(_DEFAULTS)
    out.update(_PRESETS.get(preset or "", {}))
    out.update({k: v for k, v in given.items() if v is not None})
    return out


def _parse_baseline(baseline: object, baseline_k: int) -> tuple[str, int]:
    m = re.fullmatch(r"rolling_mean\((?:k=)?(\d+)\)", str(baseline))
    if m:
        return "rolling_mean", int(m.group(1))
    if baseline not in _BASELINES:
        raise DataValidationError(
            f"baseline must be one of {', '.join(_BASELINES)} or 'rolling_mean(k)', "
            f"got {baseline!r}"
        )
    return str(baseline), baseline_k


def detect_ruptures(
    data: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.SERIES_KEY,
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    rater: str | None = schema.RATER_ROLE,
    subscale: str = schema.SUBSCALE,
    mode: str | None = None,
    preset: str | None = None,
    baseline: str | None = None,
    baseline_k: int = 3,
    min_history: int = 3,
    sd_source: str | None = None,
    reference_sd: float | Mapping[object, float] | pd.DataFrame | None = None,
    min_sd_history: int = 5,
    k_sd: float | None = None,
    min_abs_drop: float | None = None,
    rci_alpha: float = 0.05,
    sd_between: float | None = None,
    reliability: float | None = None,
    extended_window: int = 3,
    repair_window: int = 3,
    repair_tolerance: float = 1.0,
    self_report: bool = True,
    self_report_tension_min: float = 2,
    self_report_resolved_min: float = 4,
) -> pd.DataFrame:
    """Find alliance ruptures and their repair in session-by-session scores.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long score frame of alliance scores (higher = better, in the
        item-mean metric). Rows whose ``subscale`` is one of
        :data:`RUPTURE_SUBSCALES` are the self-reported rupture items and form
        their own source; every other row is a score screened statistically.
        Missing scores are skipped (positions count observed sessions).
    id : str or list of str
        Series key (default: the canonical series key). The rater column is
        always added to it, so client and practitioner streams stay separate.
    time, score, rater, subscale : str
        Column names. ``rater=None`` when there is no rater column.
    mode : {"prospective", "retrospective"}
        Prospective (default) uses only sessions up to the one being judged;
        retrospective may use all of the series (research).
    preset : {None, "stiles2004", "strauss2006"}
        Exactly the published rule: retrospective, person mean excluding t,
        within-person SD and 2 SD (Stiles et al. 2004) or 1 SD (Strauss et al.
        2006), with no step floor (``min_abs_drop = 0``). Arguments given
        explicitly override the preset.
    baseline : {"rolling_mean", "person_mean_excl_t", "previous_session"}
        ``rolling_mean`` (default) is the mean of the previous ``baseline_k``
        observed scores; ``"rolling_mean(5)"`` is accepted too.
        ``person_mean_excl_t`` needs retrospective mode.
    baseline_k : int
        Window of the rolling-mean baseline (3).
    min_history : int
        Earlier observed sessions required before a statistical flag (3); in
        retrospective person-mean mode, other observed sessions.
    sd_source : {"within", "pooled", "max", "sem"}
        ``within`` the series' own SD (prior sessions, or all other sessions
        retrospectively), ``pooled`` the reference SD, ``max`` (default) the
        stricter of both (Gumz et al. 2012), ``sem`` the reliable-change
        criterion ``z·√2·SEM`` with ``SEM = sd_between·√(1 − reliability)``,
        ``within_else_pooled`` (the alert rules) the series' own SD once it has
        ``min_sd_history`` earlier observed sessions, else the reference SD.
    reference_sd : float, mapping or DataFrame, optional
        Pooled within-person SD of a reference set fixed in advance: a number,
        ``{rater role: sd}``, or a reference frame passed to
        :func:`pooled_within_sd` (by rater). Never computed from ``data``.
    min_sd_history : int
        Earlier observed sessions needed before ``within_else_pooled`` uses the
        series' own SD (5).
    k_sd : float
        Drop threshold in SD units (2.0; 1.0 for ``strauss2006``).
    min_abs_drop : float, optional
        Smallest raw drop that can count: 0.25 item-mean points without a preset
        (project choice, so that a tiny dip in flat top scores is never a
        rupture), 0 with a preset (the published rules have no floor). The alert
        rules use two response steps of the instrument instead.
    rci_alpha, sd_between, reliability : float
        For ``sd_source="sem"`` (two-sided z of ``rci_alpha``).
    extended_window : int
        A non-increasing decline over at most this many sessions also counts
        (3; 1 switches the extension off).
    repair_window : int
        Observed sessions after the nadir within which repair is searched (3).
    repair_tolerance : float
        Repair when the score is back within ``tolerance`` SDs of the pre-rupture
        baseline, ``A ≥ baseline − tolerance·SD_ref`` (1.0: the client's normal
        range; project choice after the rupture–repair literature's return to the
        client's usual level, Stiles et al. 2004; unverified: see
        ``docs/references.md``). Self-reported tension is repaired only by a
        resolution rating of at least ``self_report_resolved_min``: a later
        session without tension is not repair.
    self_report : bool
        Whether to report self-reported ruptures (True).
    self_report_tension_min, self_report_resolved_min : float
        Tension rating (2 on 1–5) that counts as a rupture, resolution rating
        (4 on 1–5) that counts as resolved in the session.

    Returns
    -------
    pandas.DataFrame
        One row per event: the series key columns, the rater column, ``rater``,
        ``source`` (``statistical``, ``client_report``, ``practitioner_report``),
        ``onset_session``, ``nadir_session``, ``baseline``, ``threshold``,
        ``depth`` (baseline − nadir score), ``depth_sd``, ``repair_session``
        (missing if none) and ``type`` (``V``, ``extended``, ``unrepaired``,
        ``censored``), sorted by key, rater, source and onset.

    Raises
    ------
    DataValidationError
        Missing or non-numeric columns, duplicate rows of the key and session,
        an unknown preset/baseline/sd_source, or missing reference values.

    Notes
    -----
    Onset is the session at which the criterion is first met:
    ``base_t − A_t ≥ max(k_sd·SD_ref, min_abs_drop)``, or (extended) a
    non-increasing run ``A_{s−1} ≥ A_s ≥ … ≥ A_t`` of at most
    ``extended_window`` sessions with ``base_s − A_t ≥ threshold_s`` (the
    baseline and threshold are then those of the run's first session ``s``).
    In prospective mode every quantity for session ``t`` is computed from
    sessions ``≤ t`` and the scan moves forward, so events detected by ``t``
    never change when later sessions are added. Repair is the first session in
    ``(nadir, nadir + repair_window]`` reaching the repair level; a new low
    moves the nadir. ``V`` = one-session dip repaired the next session;
    ``extended`` = any other repair; ``unrepaired`` = window elapsed;
    ``censored`` = series ended inside the window. A self-reported rupture is
    one session reporting tension (yes, with intensity missing or at least
    ``self_report_tension_min``); it is repaired in that session when the
    resolution rating reaches ``self_report_resolved_min`` (type ``V``, repair
    session = onset); no tension reported later is not repair. Its baseline, threshold and depth are missing, and the
    subscale key (if any) is ``""``.

    References
    ----------
    Stiles, W. B., et al. (2004). Patterns of alliance development and the
    rupture-repair hypothesis. Journal of Counseling Psychology, 51(1), 81–92.
    Strauss, J. L., et al. (2006). Early alliance, alliance ruptures, and
    symptom change in a nonrandomized trial of cognitive therapy for avoidant
    and obsessive-compulsive personality disorders. Journal of Consulting and
    Clinical Psychology, 74(2), 337–345.
    Gumz, A., Brähler, E., Geyer, M., & Erices, R. (2012). BMC Medical
    Research Methodology, 12, 10.
    Reference tests: ``tests/core/test_ruptures.py``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame(
    ...     {"client_id": "a", "rater_role": "client", "session": [1, 2, 3, 4, 5],
    ...      "score": [4.0, 4.2, 4.1, 3.0, 4.1]}
    ... )
    >>> ev = detect_ruptures(df, id="client_id", reference_sd=0.3)
    >>> ev[["onset_session", "repair_session", "type"]].astype(object).to_dict("records")
    [{'onset_session': 4, 'repair_session': 5, 'type': 'V'}]
    """
    keys = schema.as_key_list(id)
    p = _resolve(
        preset,
        {
            "mode": mode,
            "baseline": baseline,
            "sd_source": sd_source,
            "k_sd": k_sd,
            "min_abs_drop": min_abs_drop,
        },
    )
    min_abs_drop = float(p["min_abs_drop"] if min_abs_drop is None else min_abs_drop)  # type: ignore[arg-type]
    p.update(
        repair_window=repair_window,
        extended_window=extended_window,
        repair_tolerance=repair_tolerance,
        self_report_tension_min=self_report_tension_min,
        self_report_resolved_min=self_report_resolved_min,
        min_sd_history=min_sd_history,
    )
    _check_options(
        p, min_history, baseline_k, min_abs_drop, extended_window, repair_window
    )
    kind, k = _parse_baseline(p["baseline"], baseline_k)
    if p["mode"] == "prospective" and kind == "person_mean_excl_t":
        raise DataValidationError(
            "baseline 'person_mean_excl_t' uses later sessions; use mode='retrospective'"
        )
    gkeys = keys + ([rater] if rater and rater not in keys else [])
    has_sub = subscale in data.columns
    unique = list(dict.fromkeys([*gkeys, time] + ([subscale] if has_sub else [])))
    schema.validate_long(
        data,
        required=[*unique, score],
        numeric=[time, score],
        name="data",
    )
    gcodes = _key_codes(data, gkeys)
    check_unique(data, unique, codes=_key_codes(data, unique[len(gkeys) :], gcodes))
    required = [*unique, score]
    d = data[list(dict.fromkeys(required))].assign(_g=gcodes)
    is_sr = (
        d[subscale].isin(RUPTURE_SUBSCALES).to_numpy()
        if has_sub
        else np.zeros(len(d), bool)
    )
    stat_rows = np.flatnonzero(~is_sr & d[score].notna().to_numpy())
    n_empty = 0
    if len(stat_rows) < int((~is_sr).sum()):  # some missing scores: any empty series?
        no_score = gcodes[~is_sr & d[score].isna().to_numpy()]
        n_empty = len(np.setdiff1d(no_score, gcodes[stat_rows]))
    if n_empty:
        warnings.warn(
            f"{n_empty} series have no non-missing {score!r} values and cannot be screened",
            HarmonyBridgeWarning,
            stacklevel=2,
        )
    parts = [
        _statistical_events(
            d,
            stat_rows,
            gkeys,
            time,
            score,
            rater,
            p,
            kind,
            k,
            min_history,
            reference_sd,
            min_abs_drop,
            rci_alpha,
            sd_between,
            reliability,
        )
    ]
    if self_report and is_sr.any():
        sr = d.loc[is_sr].dropna(subset=[score]).drop(columns="_g")
        sr_keys = [c for c in gkeys if c != subscale]
        ev = _self_report_events(sr, sr_keys, time, score, subscale, p)
        if subscale in gkeys:
            ev[subscale] = ""
        role = ev[rater].astype(str) if rater else pd.Series("self", index=ev.index)
        ev["source"] = role + "_report"
        parts.append(ev)
    return _finish(parts, gkeys, rater, data[time])


def _check_options(
    p: dict[str, object],
    min_history: int,
    baseline_k: int,
    min_abs_drop: float,
    extended_window: int,
    repair_window: int,
) -> None:
    if p["mode"] not in ("prospective", "retrospective"):
        raise DataValidationError(
            f"mode must be 'prospective' or 'retrospective', got {p['mode']!r}"
        )
    if p["sd_source"] not in _SD_SOURCES:
        raise DataValidationError(
            f"sd_source must be one of {', '.join(_SD_SOURCES)}, got {p['sd_source']!r}"
        )
    for name, v, lo in (
        ("min_history", min_history, 1),
        ("baseline_k", baseline_k, 1),
        ("extended_window", extended_window, 1),
        ("repair_window", repair_window, 1),
    ):
        if int(v) != v or v < lo:
            raise DataValidationError(f"{name} must be an integer ≥ {lo}, got {v!r}")
    if not float(p["k_sd"]) > 0 or min_abs_drop < 0:  # type: ignore[arg-type]
        raise DataValidationError("k_sd must be > 0 and min_abs_drop ≥ 0")


def _finish(
    parts: list[pd.DataFrame], gkeys: list[str], rater: str | None, tcol: pd.Series
) -> pd.DataFrame:
    ev = pd.concat([x for x in parts if len(x)] or parts[:1], ignore_index=True)
    ev["rater"] = ev[rater] if rater else pd.NA
    ev["source"] = ev["source"].astype(str)
    ev["type"] = ev["type"].astype(str)
    ev = ev.sort_values([*gkeys, "source", "onset_session"], kind="stable").reset_index(
        drop=True
    )
    if pd.api.types.is_integer_dtype(tcol):
        for c in ("onset_session", "nadir_session", "repair_session"):
            ev[c] = ev[c].astype("Int64")
    cols = list(dict.fromkeys([*gkeys, *EVENT_COLUMNS]))
    return ev[cols]


def rupture_summary(
    events: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.SERIES_KEY,
    rater: str | None = schema.RATER_ROLE,
) -> pd.DataFrame:
    """Summarise rupture events per series, rater and source (counts, repair rate, depth).

    Parameters
    ----------
    events : pandas.DataFrame
        The output of :func:`detect_ruptures`.
    id : str or list of str
        The series key used for detection.
    rater : str or None
        The rater column used for detection.

    Returns
    -------
    pandas.DataFrame
        One row per series, rater and source with at least one event:
        ``n_ruptures``, ``n_v``, ``n_extended``, ``n_unrepaired``,
        ``n_censored``, ``n_repaired`` (V + extended) and
        ``proportion_repaired`` = repaired / (repaired + unrepaired), missing
        when every event is censored. Series without events have no row.

    References
    ----------
    Eubanks, C. F., Muran, J. C., & Safran, J. D. (2018). Alliance rupture
    repair: a meta-analysis. Psychotherapy, 55(4), 508–519. Reference test:
    ``tests/core/test_ruptures.py::test_rupture_summary_by_hand``.
    """
    keys = schema.as_key_list(id)
    group = list(dict.fromkeys([*keys] + ([rater] if rater else []) + ["source"]))
    schema.validate_long(events, required=[*group, "type"], name="events")
    counts = pd.crosstab([events[c] for c in group], events["type"]).reindex(
        columns=list(_TYPES), fill_value=0
    )
    out = pd.DataFrame(
        {
            "n_ruptures": counts.sum(axis=1),
            "n_v": counts["V"],
            "n_extended": counts["extended"],
            "n_unrepaired": counts["unrepaired"],
            "n_censored": counts["censored"],
        }
    )
    out["n_repaired"] = out["n_v"] + out["n_extended"]
    decided = (out["n_repaired"] + out["n_unrepaired"]).astype(float)
    out["proportion_repaired"] = out["n_repaired"] / decided.where(decided > 0)
    return out.reset_index()
