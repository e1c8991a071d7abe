"""Reliable and clinically significant change per series (Jacobson & Truax 1991)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import instruments, schema
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = ["reliable_change", "s_diff"]

_CLINICAL_WHEN = ("at_or_above", "above", "at_or_below", "below")


def s_diff(sd: float, reliability: float) -> float:
    """Return the standard error of the difference ``SD * sqrt(2 * (1 - r))``.

    Parameters
    ----------
    sd : float
        Standard deviation of the reference group (positive).
    reliability : float
        Reliability of the measure, in [0, 1].

    Returns
    -------
    float
        ``S_diff = sqrt(2 * SE**2)`` with ``SE = sd * sqrt(1 - reliability)``.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to
    defining meaningful change in psychotherapy research. Journal of Consulting and Clinical
    Psychology, 59(1), 12-19. https://doi.org/10.1037/0022-006X.59.1.12

    Reference test: ``tests/core/test_reliable_change.py::test_s_diff_matches_define_crit1_cutoff``.
    """
    _check_sd_reliability(sd, reliability)
    se = sd * math.sqrt(1.0 - reliability)
    return math.sqrt(2.0 * se**2)


@dataclass(frozen=True)
class _Params:
    sd: float | None
    sd_source: str | None
    reliability: float | None
    reliability_source: str | None
    rc_value: float | None
    cutoff: float | None
    clinical_when: str | None  # None: a score on the cut-off is neither side
    higher_is_better: bool


def reliable_change(
    data: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.CLIENT_ID,
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    instrument: str | None = None,
    sd: float | str | None = None,
    reliability: float | None = None,
    rc_value: float | None = None,
    cutoff: float | None = None,
    higher_is_better: bool | None = None,
    z: float = 1.96,
) -> pd.DataFrame:
    """Classify each series' change from its first to its last observed session.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: the ``id`` column(s), ``time`` and ``score``; unique per (id, time).
    id : str or list of str
        The series key (one column or several).
    time, score : str
        Names of the session and score columns.
    instrument : str, optional
        Instrument id (``harmonybridge.instruments.get``): supplies ``sd``, ``reliability``,
        ``rc_value``, ``cutoff`` (with its inclusivity) and ``higher_is_better`` where they are
        not given as arguments. A published ``rc_value`` of the instrument is used only when
        neither ``sd`` nor ``reliability`` is given explicitly.
    sd : float or ``"pre"``, optional
        Reference standard deviation; ``"pre"`` uses the sample SD (n - 1) of the series' pre
        scores (the common practice; recorded as such in ``sd_source``).
    reliability : float, optional
        Reliability of the measure (test-retest per Jacobson & Truax, often Cronbach's alpha).
    rc_value : float, optional
        A published reliable-change value in score points (e.g. PHQ-9: 6). When set, change is
        reliable when ``|post - pre| >= rc_value`` (inclusive); otherwise when ``|RCI| > z``
        (strict, as Jacobson & Truax).
    cutoff : float, optional
        Clinical cut-off (a, b or c of §2.1). Given as a number, a score exactly on it is
        neither clinical nor functional (``clinicalsignificance``'s convention); taken from the
        instrument, the instrument's ``clinical_when`` decides which side the cut-off is on.
    higher_is_better : bool, optional
        Direction of the scale; required unless ``instrument`` gives it.
    z : float
        Critical value for the RCI (1.96 for two-tailed p < .05).

    Returns
    -------
    pandas.DataFrame
        One row per series, sorted by the key: the key columns, ``pre``, ``post``, ``rci``,
        ``s_diff``, ``category`` (ordered Categorical of ``schema.CHANGE_CATEGORIES``, missing
        when fewer than two sessions are observed), ``sd_source``, ``reliability_source``.
        ``rci`` and ``s_diff`` are missing when no SD/reliability is in use (``rc_value`` only).

    Raises
    ------
    DataValidationError
        Missing column, non-numeric score, duplicate (id, time), a missing or impossible SD,
        reliability, cut-off or direction.

    Warns
    -----
    HarmonyBridgeWarning
        When series have fewer than two observed scores (reported with a missing category),
        or when no cut-off is available (then nobody is recovered or harmed).

    Notes
    -----
    ``recovered``: clinical at pre, functional at post and reliably improved; ``improved``:
    reliably improved otherwise; ``deteriorated``: reliably worse, not harmed; ``harmed``: not
    clinical at pre, not functional at post and reliably worse; ``unchanged``: neither.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to
    defining meaningful change in psychotherapy research. Journal of Consulting and Clinical
    Psychology, 59(1), 12-19. https://doi.org/10.1037/0022-006X.59.1.12

    Reference test: ``tests/core/test_reliable_change.py``.
    """
    keys = schema.as_key_list(id)
    schema.validate_long(
        data, required=[*keys, time, score], numeric=[score], unique=[*keys, time]
    )
    _check_no_missing(data, [*keys, time])
    params = _resolve(
        instrument, sd, reliability, rc_value, cutoff, higher_is_better, z
    )
    frame = _first_last(data, keys, time, score)
    return _classify(frame, keys, params, z)


def _check_no_missing(data: pd.DataFrame, columns: Sequence[str]) -> None:
    for col in columns:
        if data[col].isna().any():
            raise DataValidationError(
                f"column {col!r} has missing values; every row needs a series key and a session"
            )


def _check_sd_reliability(sd: Any, reliability: Any) -> None:
    if sd is not None and (not _is_number(sd) or not sd > 0):
        raise DataValidationError(f"sd must be a positive number or 'pre', got {sd!r}")
    if reliability is not None and (
        not _is_number(reliability) or not 0 <= reliability <= 1
    ):
        raise DataValidationError(
            f"reliability must be a number in [0, 1], got {reliability!r}"
        )


def _is_number(x: Any) -> bool:
    return (
        isinstance(x, (int, float, np.integer, np.floating))
        and not isinstance(x, bool)
        and (math.isfinite(float(x)))
    )


def _norm_source(inst: Any, norm: Any) -> str:
    return f"instrument {inst.id}: {getattr(norm, 'source', '') or 'definition'}"


def _resolve(
    instrument: str | None,
    sd: float | str | None,
    reliability: float | None,
    rc_value: float | None,
    cutoff: float | None,
    higher_is_better: bool | None,
    z: float,
) -> _Params:
    if not _is_number(z) or z <= 0:
        raise DataValidationError(f"z must be a positive number, got {z!r}")
    explicit_rci = sd is not None or reliability is not None
    sd_source = "argument" if sd is not None else None
    rel_source = "argument" if reliability is not None else None
    clinical_when: str | None = None
    if instrument is not None:
        inst = instruments.get(instrument)
        if sd is None and inst.sd is not None:
            sd, sd_source = inst.sd.value, _norm_source(inst, inst.sd)
        if reliability is None and inst.reliability is not None:
            reliability = inst.reliability.value
            rel_source = _norm_source(inst, inst.reliability)
        if rc_value is None and not explicit_rci and inst.rc_value is not None:
            rc_value = inst.rc_value.value
        if cutoff is None and inst.cutoff is not None:
            cutoff, clinical_when = inst.cutoff.value, inst.cutoff.clinical_when
        if higher_is_better is None:
            higher_is_better = bool(inst.higher_is_better)
    if isinstance(sd, str):
        if sd != "pre":
            raise DataValidationError(
                f"sd must be a positive number or 'pre', got {sd!r}"
            )
        sd_source = "sample SD of the pre scores"
    else:
        _check_sd_reliability(sd, None)
    _check_sd_reliability(None, reliability)
    if rc_value is not None and (not _is_number(rc_value) or rc_value <= 0):
        raise DataValidationError(
            f"rc_value must be a positive number, got {rc_value!r}"
        )
    if (sd is None) != (reliability is None) and rc_value is None:
        missing = "reliability" if reliability is None else "sd"
        raise DataValidationError(
            f"{missing} is missing: give sd and reliability (or rc_value), or an instrument "
            "whose definition has them"
        )
    if sd is None and rc_value is None:
        raise DataValidationError(
            "no reliable-change criterion: give sd and reliability, or rc_value, or an "
            "instrument whose definition has them"
        )
    if higher_is_better is None or not isinstance(higher_is_better, (bool, np.bool_)):
        raise DataValidationError(
            "higher_is_better must be True or False (or give an instrument that defines it), "
            f"got {higher_is_better!r}"
        )
    if cutoff is not None and not _is_number(cutoff):
        raise DataValidationError(f"cutoff must be a number, got {cutoff!r}")
    if cutoff is None and instrument is None:
        raise DataValidationError(
            "cutoff is required without an instrument (a, b or c of Jacobson & Truax)"
        )
    if clinical_when is not None and clinical_when not in _CLINICAL_WHEN:
        raise DataValidationError(
            f"instrument {instrument!r} cut-off clinical_when={clinical_when!r}; "
            f"allowed: {', '.join(_CLINICAL_WHEN)}"
        )
    return _Params(
        sd=sd if sd is None or isinstance(sd, str) else float(sd),  # type: ignore[arg-type]
        sd_source=sd_source if sd is not None else None,
        reliability=None if reliability is None else float(reliability),
        reliability_source=rel_source if reliability is not None else None,
        rc_value=None if rc_value is None else float(rc_value),
        cutoff=None if cutoff is None else float(cutoff),
        clinical_when=clinical_when,
        higher_is_better=bool(higher_is_better),
    )


def _first_last(
    data: pd.DataFrame, keys: list[str], time: str, score: str
) -> pd.DataFrame:
    """Return one row per series with ``pre``/``post`` (post missing with < 2 observations)."""
    df = data[[*keys, time]].copy()
    df["_score"] = pd.to_numeric(data[score], errors="coerce").astype("float64")
    all_keys = df[keys].drop_duplicates().sort_values(keys, kind="stable")
    obs = df[df["_score"].notna()].sort_values([*keys, time], kind="stable")
    grouped = obs.groupby(keys, sort=False)["_score"]
    summary = pd.DataFrame(
        {"pre": grouped.first(), "post": grouped.last(), "_n": grouped.size()}
    ).reset_index()
    out = all_keys.merge(summary, on=keys, how="left")
    n = out["_n"].fillna(0).to_numpy()
    out.loc[n < 2, "post"] = np.nan
    _warn_short(int((n == 0).sum()), int((n == 1).sum()))
    return out.drop(columns="_n").reset_index(drop=True)


def _warn_short(n_none: int, n_one: int) -> None:
    if n_none or n_one:
        warnings.warn(
            f"{n_none} series have no observed score and {n_one} only one; they are reported "
            "with a missing category",
            HarmonyBridgeWarning,
            stacklevel=4,
        )


def _clinical_sides(x: np.ndarray, p: _Params) -> tuple[np.ndarray, np.ndarray]:
    """Return (clinical, functional) boolean arrays for scores ``x``."""
    c = p.cutoff
    if p.clinical_when is None:
        direction = 1.0 if p.higher_is_better else -1.0
        return direction * x < direction * c, direction * x > direction * c
    clinical = {
        "at_or_above": x >= c,
        "above": x > c,
        "at_or_below": x <= c,
        "below": x < c,
    }[p.clinical_when]
    return clinical, ~clinical


def _classify(
    frame: pd.DataFrame, keys: list[str], p: _Params, z: float
) -> pd.DataFrame:
    pre = frame["pre"].to_numpy(dtype="float64")
    post = frame["post"].to_numpy(dtype="float64")
    direction = 1.0 if p.higher_is_better else -1.0
    sd, sd_source = p.sd, p.sd_source
    if sd == "pre":
        usable = pre[~np.isnan(post)]
        sd = float(np.std(usable, ddof=1)) if len(usable) > 1 else 0.0
        if not sd > 0:
            raise DataValidationError(
                "sd='pre' needs at least two series with different pre scores"
            )
        sd_source = f"sample SD of the pre scores (n={len(usable)})"
    use_rci = sd is not None and p.reliability is not None
    sdiff = s_diff(float(sd), p.reliability) if use_rci else np.nan  # type: ignore[arg-type]
    with np.errstate(divide="ignore", invalid="ignore"):
        rci = (post - pre) / sdiff
    change = direction * (post - pre)
    if p.rc_value is not None:
        better, worse = change >= p.rc_value, change <= -p.rc_value
    else:
        better, worse = direction * rci > z, direction * rci < -z
    if p.cutoff is None:
        warnings.warn(
            "no clinical cut-off available: no series can be 'recovered' or 'harmed'",
            HarmonyBridgeWarning,
            stacklevel=4,
        )
        clinical_pre = functional_post = np.zeros(len(pre), dtype=bool)
        not_clinical_pre = not_functional_post = clinical_pre
    else:
        clinical_pre, _ = _clinical_sides(pre, p)
        _, functional_post = _clinical_sides(post, p)
        not_clinical_pre, not_functional_post = ~clinical_pre, ~functional_post
    recovered = better & clinical_pre & functional_post
    harmed = worse & not_clinical_pre & not_functional_post
    labels = np.select(
        [recovered, better, harmed, worse],
        ["recovered", "improved", "harmed", "deteriorated"],
        default="unchanged",
    ).astype(object)
    labels[np.isnan(pre) | np.isnan(post)] = None
    out = frame[keys].copy()
    out["pre"], out["post"] = pre, post
    out["rci"] = rci if use_rci else np.full(len(pre), np.nan)
    out["s_diff"] = np.full(len(pre), sdiff, dtype="float64")
    out["category"] = pd.Categorical(
        labels, categories=schema.CHANGE_CATEGORIES, ordered=True
    )
    rel_source = p.reliability_source if use_rci else None
    out["sd_source"] = pd.Series(
        [sd_source if use_rci else None] * len(out), dtype="object"
    )
    out["reliability_source"] = pd.Series([rel_source] * len(out), dtype="object")
    return out.reset_index(drop=True)
