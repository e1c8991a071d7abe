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

__all__ = ["ChangeCriterion", "change_criterion", "reliable_change", "s_diff"]

_CLINICAL_WHEN = ("at_or_above", "above", "at_or_below", "below")
#: Slack for float rounding when a change is compared with a published value
#: (prorated or item-mean scores are not exact in binary).
_EPS = 1e-9


def s_diff(sd: float, reliability: float) -> float:
    """Return the standard error of the difference ``SD * sqrt(2 * (1 - r))``.

    Parameters
    ----------
    sd : float
        Standard deviation of the reference group (positive).
    reliability : float
        Reliability of the measure, strictly between 0 and 1 (0 would make every
        change reliable-free noise, 1 would make every change reliable).

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
class ChangeCriterion:
    """The one reliable-change rule: which change in points counts as reliable.

    ``kind`` is ``"published"`` (a published reliable-change value: ``|change| >= size``,
    inclusive) or ``"computed"`` (Jacobson & Truax 1991: ``|change| / S_diff > z``, strict,
    so ``size = z * S_diff`` itself does not count). Every place that judges reliable
    change (this module, the alert rules, the dashboard, the HTML report and the
    expected-response curves) calls :meth:`better` / :meth:`worse` of one criterion.
    """

    kind: str
    size: float
    source: str
    s_diff: float | None = None
    z: float | None = None

    def reliable(self, change: Any) -> np.ndarray:
        """Return whether each absolute change meets the criterion (NaN: False)."""
        c = np.abs(np.asarray(change, dtype="float64"))
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.kind == "published":
                return np.asarray(c >= self.size - _EPS)
            return np.asarray(
                c / float(self.s_diff or np.nan) > float(self.z or np.nan)
            )

    def better(self, change: Any, higher_is_better: bool) -> np.ndarray:
        """Reliable change in the good direction (``change = post - pre``)."""
        d = np.asarray(change, dtype="float64") * (1.0 if higher_is_better else -1.0)
        return self.reliable(d) & (d > 0)

    def worse(self, change: Any, higher_is_better: bool) -> np.ndarray:
        """Reliable change in the bad direction (``change = post - pre``)."""
        d = np.asarray(change, dtype="float64") * (1.0 if higher_is_better else -1.0)
        return self.reliable(d) & (d < 0)

    def describe(self) -> str:
        """One line for output columns and reports: the rule and its sources."""
        if self.kind == "published":
            return (
                f"published reliable-change value {self.size:g} points ({self.source})"
            )
        return (
            f"computed: |change| / S_diff > {self.z:g}, S_diff = {self.s_diff:.4g} "
            f"({self.source})"
        )


def change_criterion(
    instrument: str | None = None,
    *,
    sd: float | None = None,
    reliability: float | None = None,
    rc_value: float | None = None,
    z: float = 1.96,
    sd_source: str = "argument",
    reliability_source: str = "argument",
    rc_source: str = "argument",
    convention: str | None = None,
) -> ChangeCriterion | None:
    """Return the reliable-change criterion in use (None when there is none).

    The published value governs when there is one (given as ``rc_value``, or in the
    instrument's definition when neither ``sd`` nor ``reliability`` is given);
    otherwise ``z * S_diff`` from ``sd`` and ``reliability`` (arguments first, then the
    definition). Each source is named in :attr:`ChangeCriterion.source`.

    Parameters
    ----------
    instrument : str, optional
        Instrument id supplying what the arguments leave out.
    sd, reliability : float, optional
        Reference SD (of a clinical or help-seeking sample) and reliability, strictly
        between 0 and 1.
    rc_value : float, optional
        Published reliable-change value in points.
    z : float
        Critical value of the computed rule (1.96: two-tailed p < .05).
    sd_source, reliability_source, rc_source : str
        Provenance of values given as arguments.
    convention : str, optional
        The instrument's caseness convention (``Instrument.with_convention``): its
        change criterion is the one paired with its cut-off. None: the default.

    Returns
    -------
    ChangeCriterion or None

    Raises
    ------
    DataValidationError
        An impossible value (SD <= 0, reliability outside (0, 1), rc_value <= 0, z <= 0).

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991), see ``docs/references.md``.

    Examples
    --------
    >>> change_criterion("phq9").describe()
    'published reliable-change value 6 points (instrument phq9: NHS Talking Therapies Manual ...)'
    """
    if not _is_number(z) or z <= 0:
        raise DataValidationError(f"z must be a positive number, got {z!r}")
    _check_sd_reliability(sd, reliability)
    if rc_value is not None and (not _is_number(rc_value) or rc_value <= 0):
        raise DataValidationError(
            f"rc_value must be a positive number, got {rc_value!r}"
        )
    explicit = sd is not None or reliability is not None
    if instrument is None and convention is not None:
        raise DataValidationError("convention needs an instrument")
    if instrument is not None:
        inst = _with_convention(instruments.get(instrument), convention)
        if rc_value is None and not explicit and inst.rc_value is not None:
            rc_value, rc_source = (
                inst.rc_value.value,
                _norm_source(inst, inst.rc_value),
            )
        if sd is None and inst.sd is not None:
            sd, sd_source = inst.sd.value, _norm_source(inst, inst.sd)
        if reliability is None and inst.reliability is not None:
            reliability = inst.reliability.value
            reliability_source = _norm_source(inst, inst.reliability)
    if rc_value is not None:
        return ChangeCriterion("published", float(rc_value), rc_source)
    if sd is None or reliability is None:
        return None
    _check_sd_reliability(sd, reliability)
    sdiff = s_diff(float(sd), float(reliability))
    return ChangeCriterion(
        "computed",
        float(z) * sdiff,
        f"SD {float(sd):g}: {sd_source}; reliability {float(reliability):g}: "
        f"{reliability_source}",
        s_diff=sdiff,
        z=float(z),
    )


@dataclass(frozen=True)
class _Params:
    sd: float | str | None  # a number, "pre" (the pre scores' SD) or None
    sd_source: str | None
    reliability: float | None
    reliability_source: str | None
    rc_value: float | None
    rc_source: str | None
    z: float
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
    convention: str | None = None,
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
        Clinical cut-off (a, b or c of Jacobson & Truax 1991). Given as a number, a score exactly on it is
        neither clinical nor functional (``clinicalsignificance``'s convention); taken from the
        instrument, the instrument's ``clinical_when`` decides which side the cut-off is on.
    higher_is_better : bool, optional
        Direction of the scale; required unless ``instrument`` gives it.
    z : float
        Critical value for the RCI (1.96 for two-tailed p < .05).
    convention : str, optional
        The instrument's caseness convention (e.g. GAD-7 ``"spitzer_2006"``): its
        cut-off and the reliable-change criterion paired with it are used together.
        None: the definition's default convention. Unknown names raise, listing the
        known ones.

    Returns
    -------
    pandas.DataFrame
        One row per series, sorted by the key: the key columns, ``pre``, ``post``, ``rci``,
        ``s_diff``, ``category`` (ordered Categorical of ``schema.CHANGE_CATEGORIES``, missing
        when fewer than two sessions are observed), ``sd_source``, ``reliability_source``,
        ``criterion`` (the one rule that decided the category, with its sources).
        ``rci`` and ``s_diff`` are missing whenever a published value governs: one
        criterion decides, so ``rci`` can never disagree with ``category``.

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
        instrument, sd, reliability, rc_value, cutoff, higher_is_better, z, convention
    )
    frame = _first_last(data, keys, time, score)
    return _classify(frame, keys, params)


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
        not _is_number(reliability) or not 0 < reliability < 1
    ):
        raise DataValidationError(
            "reliability must be a number strictly between 0 and 1 (a reliability of 1 "
            "would make every change reliable, 0 none), got "
            f"{reliability!r}"
        )


def _is_number(x: Any) -> bool:
    return (
        isinstance(x, (int, float, np.integer, np.floating))
        and not isinstance(x, bool)
        and (math.isfinite(float(x)))
    )


def _with_convention(inst: Any, convention: str | None) -> Any:
    """The instrument with its caseness ``convention`` applied (None: as defined)."""
    if convention is None and not hasattr(inst, "with_convention"):
        return inst  # an instrument-like object without conventions
    return inst.with_convention(convention)


def _norm_source(inst: Any, norm: Any) -> str:
    conv = getattr(inst, "convention", None)
    who = f"instrument {inst.id}" + (f" (convention {conv})" if conv else "")
    text = f"{who}: {getattr(norm, 'source', '') or 'definition'}"
    sample, n = getattr(norm, "sample", ""), getattr(norm, "n", None)
    if sample or n:
        text += " (" + ", ".join(x for x in (sample, f"n={n}" if n else "") if x) + ")"
    return text


def _resolve(
    instrument: str | None,
    sd: float | str | None,
    reliability: float | None,
    rc_value: float | None,
    cutoff: float | None,
    higher_is_better: bool | None,
    z: float,
    convention: str | None = None,
) -> _Params:
    if not _is_number(z) or z <= 0:
        raise DataValidationError(f"z must be a positive number, got {z!r}")
    v: dict[str, Any] = {
        "sd": sd,
        "sd_source": "argument" if sd is not None else None,
        "reliability": reliability,
        "reliability_source": "argument" if reliability is not None else None,
        "rc_value": rc_value,
        "rc_source": "argument" if rc_value is not None else None,
        "z": float(z),
        "cutoff": cutoff,
        "clinical_when": None,
        "higher_is_better": higher_is_better,
    }
    if instrument is None and convention is not None:
        raise DataValidationError("convention needs an instrument")
    if instrument is not None:
        _merge_instrument(v, _with_convention(instruments.get(instrument), convention))
    _validate(v, instrument)
    if v["sd"] is None:
        v["sd_source"] = None
    if v["reliability"] is None:
        v["reliability_source"] = None
    for name in ("reliability", "rc_value", "cutoff"):
        v[name] = None if v[name] is None else float(v[name])
    if v["sd"] is not None and not isinstance(v["sd"], str):
        v["sd"] = float(v["sd"])
    v["higher_is_better"] = bool(v["higher_is_better"])
    return _Params(**v)


def _merge_instrument(v: dict[str, Any], inst: Any) -> None:
    """Fill what the caller left out from the instrument definition (with provenance)."""
    explicit_rci = v["sd"] is not None or v["reliability"] is not None
    if v["sd"] is None and inst.sd is not None:
        v["sd"], v["sd_source"] = inst.sd.value, _norm_source(inst, inst.sd)
    if v["reliability"] is None and inst.reliability is not None:
        v["reliability"] = inst.reliability.value
        v["reliability_source"] = _norm_source(inst, inst.reliability)
    if v["rc_value"] is None and not explicit_rci and inst.rc_value is not None:
        v["rc_value"] = inst.rc_value.value
        v["rc_source"] = _norm_source(inst, inst.rc_value)
    if v["cutoff"] is None and inst.cutoff is not None:
        v["cutoff"], v["clinical_when"] = inst.cutoff.value, inst.cutoff.clinical_when
    if v["higher_is_better"] is None:
        v["higher_is_better"] = bool(inst.higher_is_better)


def _validate(v: dict[str, Any], instrument: str | None) -> None:
    sd, reliability, rc_value = v["sd"], v["reliability"], v["rc_value"]
    if isinstance(sd, str):
        if sd != "pre":
            raise DataValidationError(
                f"sd must be a positive number or 'pre', got {sd!r}"
            )
        v["sd_source"] = "sample SD of the pre scores"
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
    _validate_cutoff_direction(v, instrument)


def _validate_cutoff_direction(v: dict[str, Any], instrument: str | None) -> None:
    hib, cutoff = v["higher_is_better"], v["cutoff"]
    if hib is None or not isinstance(hib, (bool, np.bool_)):
        raise DataValidationError(
            "higher_is_better must be True or False (or give an instrument that defines it), "
            f"got {hib!r}"
        )
    if cutoff is not None and not _is_number(cutoff):
        raise DataValidationError(f"cutoff must be a number, got {cutoff!r}")
    if cutoff is None and instrument is None:
        raise DataValidationError(
            "cutoff is required without an instrument (a, b or c of Jacobson & Truax)"
        )
    if v["clinical_when"] is not None and v["clinical_when"] not in _CLINICAL_WHEN:
        raise DataValidationError(
            f"instrument {instrument!r} cut-off clinical_when={v['clinical_when']!r}; "
            f"allowed: {', '.join(_CLINICAL_WHEN)}"
        )


def _first_last(
    data: pd.DataFrame, keys: list[str], time: str, score: str
) -> pd.DataFrame:
    """Return one row per series with ``pre``/``post`` (post missing with < 2 observations).

    Series in the sorted order of their key, first and last by session among the
    observed scores. Integer codes and one ``lexsort``, not ``groupby`` and ``merge``:
    on a dashboard's one client those cost most of the call."""
    code = np.zeros(len(data), dtype=np.int64)
    for k in keys:  # factorised with sorting: the codes order as the values do
        part, uniques = pd.factorize(data[k], sort=True)
        code = code * (len(uniques) + 1) + part
    _, first_row, series = np.unique(code, return_index=True, return_inverse=True)
    n_series = len(first_row)
    when = pd.factorize(data[time], sort=True)[0]
    values = pd.to_numeric(data[score], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    seen = np.flatnonzero(~np.isnan(values))
    order = seen[np.lexsort((when[seen], series[seen]))]
    n = np.bincount(series[order], minlength=n_series)
    end = np.cumsum(n)
    has = n > 0
    pre = np.full(n_series, np.nan)
    post = np.full(n_series, np.nan)
    pre[has] = values[order[end[has] - n[has]]]
    two = n >= 2
    post[two] = values[order[end[two] - 1]]
    _warn_short(int((n == 0).sum()), int((n == 1).sum()))
    out = data[keys].iloc[first_row].reset_index(drop=True)
    return pd.DataFrame(
        {**{k: out[k] for k in keys}, "pre": pre, "post": post}, index=out.index
    )


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
    c = float("nan") if p.cutoff is None else p.cutoff
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


def _criterion_in_use(
    pre: np.ndarray, post: np.ndarray, p: _Params
) -> tuple[ChangeCriterion, str | None]:
    """The criterion deciding both ``rci`` and ``category`` and the SD's provenance."""
    if p.rc_value is not None:
        crit = change_criterion(
            rc_value=p.rc_value, rc_source=p.rc_source or "argument"
        )
        return crit, None  # type: ignore[return-value]
    sd, sd_source = p.sd, p.sd_source
    if sd == "pre":
        usable = pre[~np.isnan(post)]
        sd = float(np.std(usable, ddof=1)) if len(usable) > 1 else 0.0
        if not sd > 0:
            raise DataValidationError(
                "sd='pre' needs at least two series with different pre scores"
            )
        sd_source = f"sample SD of the pre scores (n={len(usable)})"
    crit = change_criterion(
        sd=float(sd),  # type: ignore[arg-type]
        reliability=p.reliability,
        z=p.z,
        sd_source=sd_source or "argument",
        reliability_source=p.reliability_source or "argument",
    )
    assert crit is not None  # _validate guarantees sd and reliability here
    return crit, sd_source


def _labels(
    pre: np.ndarray, post: np.ndarray, crit: ChangeCriterion, p: _Params
) -> np.ndarray:
    better = crit.better(post - pre, p.higher_is_better)
    worse = crit.worse(post - pre, p.higher_is_better)
    if p.cutoff is None:
        warnings.warn(
            "no clinical cut-off available: no series can be 'recovered' or 'harmed'",
            HarmonyBridgeWarning,
            stacklevel=4,
        )
        never = np.zeros(len(pre), dtype=bool)
        recovered = harmed = never
    else:
        clinical_pre, _ = _clinical_sides(pre, p)
        _, functional_post = _clinical_sides(post, p)
        recovered = better & clinical_pre & functional_post
        harmed = worse & ~clinical_pre & ~functional_post
    labels = np.select(
        [recovered, better, harmed, worse],
        ["recovered", "improved", "harmed", "deteriorated"],
        default="unchanged",
    ).astype(object)
    labels[np.isnan(pre) | np.isnan(post)] = None
    return labels


def _classify(frame: pd.DataFrame, keys: list[str], p: _Params) -> pd.DataFrame:
    pre = frame["pre"].to_numpy(dtype="float64")
    post = frame["post"].to_numpy(dtype="float64")
    crit, sd_source = _criterion_in_use(pre, post, p)
    computed = crit.kind == "computed"
    sdiff = float(crit.s_diff) if computed else np.nan  # type: ignore[arg-type]
    with np.errstate(divide="ignore", invalid="ignore"):
        # Where the published value governs, no RCI is reported: it would be a
        # second verdict that can disagree with the category.
        rci = (post - pre) / sdiff if computed else np.full(len(pre), np.nan)
    rel_source = p.reliability_source if computed else None
    n = len(pre)
    keyed = frame[keys].reset_index(drop=True)
    # one frame built at once: a column assigned at a time cost most of a small call
    return pd.DataFrame(
        {
            **{k: keyed[k] for k in keys},
            "pre": pre,
            "post": post,
            "rci": rci,
            "s_diff": np.full(n, sdiff, dtype="float64"),
            "category": pd.Categorical(
                _labels(pre, post, crit, p),
                categories=schema.CHANGE_CATEGORIES,
                ordered=True,
            ),
            "sd_source": pd.Series([sd_source] * n, dtype="object"),
            "reliability_source": pd.Series([rel_source] * n, dtype="object"),
            "criterion": pd.Series([crit.describe()] * n, dtype="object"),
        },
        index=keyed.index,
    )
