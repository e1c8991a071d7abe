"""Practice-level figures: practitioners' predictions, aggregated reliable change, rupture–repair and modality.

Reference tests with hand calculations: ``tests/core/test_alliance_practice.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonybridge import schema
from harmonybridge.alliance.frames import ALLIANCE_COLUMNS, MODALITY
from harmonybridge.alliance.outcomes import _pearson, fisher_ci
from harmonybridge.change.reliable_change import reliable_change
from harmonybridge.errors import DataValidationError

__all__ = [
    "PREDICTION",
    "alliance_by_modality",
    "prediction_accuracy",
    "reliable_change_summary",
    "rupture_outcome",
]

_E, _S, _R, _I, _P, _SUB, _SC = (
    schema.ENGAGEMENT_ID,
    schema.SESSION,
    schema.RATER_ROLE,
    schema.INSTRUMENT,
    schema.PRACTITIONER_ID,
    schema.SUBSCALE,
    schema.SCORE,
)
#: Derived score of the practitioner check-in's item 7 (not part of their alliance total).
PREDICTION = "predicted_client_rating"
_CLIENT_FORM, _PRAC_FORM = "hb_checkin", "hb_checkin_practitioner"


def _rows(long: pd.DataFrame, instrument: str, subscale: str, role: str) -> pd.Series:
    d = long[(long[_I] == instrument) & (long[_R] == role)]
    sub = d[_SUB].fillna("").astype(str) if _SUB in d else pd.Series("", index=d.index)
    d = d[(sub == subscale) & d[_SC].notna()]
    return d.groupby([_E, _S])[_SC].mean()


def _check_long(long: pd.DataFrame, what: str) -> None:
    schema.validate_long(
        long, required=[_E, _P, _S, _R, _I, _SC], numeric=[_S, _SC], name=what
    )


def prediction_accuracy(
    long: pd.DataFrame,
    *,
    anticipate_at: float = 3.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """How well each practitioner predicts the client's rating of the session.

    Pairs every session where the practitioner answered item 7 of their check-in
    (``predicted_client_rating``) with the client's check-in total (mean over the
    engagement's client respondents).  Per practitioner: ``n_sessions``, ``n_units``,
    ``bias`` (mean of prediction − client rating; positive: the practitioner expects a
    better rating than the client gives), ``r`` with a Fisher-z CI, and for the sessions
    where the client reported a rupture (``rupture_present`` = 1 on the client's form):
    ``n_client_ruptures``, ``n_anticipated`` — the practitioner reported a rupture
    themselves or predicted a rating of ``anticipate_at`` ("Somewhat") or lower — and
    ``sensitivity`` = n_anticipated / n_client_ruptures.

    These figures are private to the practitioner and the practice admin; the caller
    must filter the rows before showing them to anyone else.
    """
    _check_long(long, "scores")
    pred = _rows(long, _PRAC_FORM, PREDICTION, "practitioner").rename("pred")
    if pred.empty:
        raise DataValidationError(
            "no practitioner predictions (item 7 of hb_checkin_practitioner, derived score "
            f"{PREDICTION!r}) in the data"
        )
    client = _rows(long, _CLIENT_FORM, "", "client").rename("client")
    c_rupt = _rows(long, _CLIENT_FORM, "rupture_present", "client").rename("c_rupt")
    p_rupt = _rows(long, _PRAC_FORM, "rupture_present", "practitioner").rename("p_rupt")
    prac = long.groupby(_E)[_P].first()
    m = pd.concat([pred, client, c_rupt, p_rupt], axis=1).dropna(subset=["pred"])
    m = m.reset_index()
    m[_P] = m[_E].map(prac)
    rows = []
    for pid, g in m.groupby(_P, sort=True):
        both = g.dropna(subset=["client"])
        r = _pearson(both["pred"].to_numpy(float), both["client"].to_numpy(float))
        lo, hi = fisher_ci(r, len(both), level)
        rupt = g[g["c_rupt"] >= 1]
        anticipated = (rupt["p_rupt"].fillna(0) >= 1) | (rupt["pred"] <= anticipate_at)
        rows.append(
            {
                _P: pid,
                "n_sessions": len(both),
                "n_units": both[_E].nunique(),
                "bias": float((both["pred"] - both["client"]).mean())
                if len(both)
                else np.nan,
                "r": r,
                "ci_low": lo,
                "ci_high": hi,
                "n_client_ruptures": len(rupt),
                "n_anticipated": int(anticipated.sum()),
                "sensitivity": float(anticipated.mean()) if len(rupt) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def reliable_change_summary(
    long: pd.DataFrame,
    *,
    instrument: str,
    service_line: pd.Series | None = None,
    prior_n: float = 10.0,
    convention: str | None = None,
) -> pd.DataFrame:
    """Reliable-change categories counted per practice, service line and practitioner.

    Each engagement's client-rated series of ``instrument`` (total score) is classified
    by :func:`harmonybridge.change.reliable_change` with the instrument's own norms
    (the pair of its caseness ``convention``; None: the definition's default).
    ``service_line`` maps engagement ids to service lines (optional).

    Returns
    -------
    pandas.DataFrame
        ``level`` (``practice``, ``service_line``, ``practitioner``), ``group``,
        ``category`` (the five categories of ``schema.CHANGE_CATEGORIES``), ``n`` (series
        in the category), ``n_series`` (classified series in the group), ``proportion``
        and, for practitioners, ``shrunken``: the proportion pulled toward the practice's
        proportion with the weight of ``prior_n`` series, (k + prior_n·p_practice) /
        (n + prior_n) — a beta-binomial posterior mean with a Beta(prior_n·p,
        prior_n·(1 − p)) prior, so that a practitioner with few clients is not shown an
        extreme figure.  No ranking is implied by the row order (sorted by group id).
    """
    _check_long(long, "scores")
    d = long[(long[_I] == instrument) & (long[_R] == "client")]
    if _SUB in d:
        d = d[d[_SUB].fillna("").astype(str) == ""]
    d = d[d[_SC].notna()]
    if d.empty:
        raise DataValidationError(f"no client-rated {instrument!r} totals in the data")
    key = [_E, schema.RESPONDENT_ID] if schema.RESPONDENT_ID in d else [_E]
    rc = reliable_change(
        d, id=key, time=_S, score=_SC, instrument=instrument, convention=convention
    )
    rc = rc[rc["category"].notna()].copy()
    rc[_P] = rc[_E].map(long.groupby(_E)[_P].first())
    cats = list(schema.CHANGE_CATEGORIES)
    out = []

    def counts(level: str, group: str, sub: pd.DataFrame) -> pd.DataFrame:
        n = sub["category"].astype(str).value_counts().reindex(cats, fill_value=0)
        total = int(n.sum())
        return pd.DataFrame(
            {
                "level": level,
                "group": group,
                "category": cats,
                "n": n.to_numpy(),
                "n_series": total,
                "proportion": n.to_numpy() / total if total else np.nan,
            }
        )

    practice = counts("practice", "all", rc)
    out.append(practice)
    if service_line is not None:
        rc["service_line"] = rc[_E].map(service_line)
        for sl, sub in rc.dropna(subset=["service_line"]).groupby(
            "service_line", sort=True
        ):
            out.append(counts("service_line", str(sl), sub))
    p_mean = practice.set_index("category")["proportion"]
    for pid, sub in rc.groupby(_P, sort=True):
        c = counts("practitioner", str(pid), sub)
        c["shrunken"] = (c["n"] + prior_n * c["category"].map(p_mean).to_numpy()) / (
            c["n_series"] + prior_n
        )
        out.append(c)
    res = pd.concat(out, ignore_index=True)
    if "shrunken" not in res:
        res["shrunken"] = np.nan
    return res


def rupture_outcome(
    long: pd.DataFrame,
    wide: pd.DataFrame,
    *,
    outcome: str,
    repaired_at: float = 4.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Outcome change in engagements with repaired, unrepaired and no client-reported ruptures.

    An engagement's ruptures are the sessions where the client's check-in says
    ``rupture_present`` = 1; it is *repaired* when every one of them was rated
    ``rupture_resolution`` ≥ ``repaired_at`` ("Mostly resolved") by the client, else
    *unrepaired*; *no rupture* when none was reported.  Outcome change = last − first
    outcome in ``wide`` (from :func:`by_session`), engagements with two or more outcome
    sessions.  Returns ``group``, ``n_units``, ``mean_change``, ``sd``, ``ci_low``,
    ``ci_high`` (t interval).  (Eubanks, Muran & Safran 2018, Alliance rupture repair: A
    meta-analysis, Psychotherapy 55(4), 508–519, report repair–outcome r = .29.)
    """
    _check_long(long, "scores")
    if outcome not in wide or _E not in wide:
        raise DataValidationError(
            f"rupture outcome: wide frame needs {_E!r} and {outcome!r}"
        )
    present = _rows(long, _CLIENT_FORM, "rupture_present", "client")
    resolution = _rows(long, _CLIENT_FORM, "rupture_resolution", "client")
    r = pd.concat([present.rename("p"), resolution.rename("res")], axis=1)
    r = r[r["p"] >= 1].reset_index()
    status = r.groupby(_E)["res"].apply(
        lambda s: (
            "repaired" if (s.fillna(-np.inf) >= repaired_at).all() else "unrepaired"
        )
    )
    o = wide.loc[wide[outcome].notna(), [_E, _S, outcome]].sort_values([_E, _S])
    g = o.groupby(_E)[outcome]
    change = (g.last() - g.first())[g.size() >= 2]
    grp = change.index.map(lambda e: status.get(e, "no rupture"))
    rows = []
    for name in ("no rupture", "repaired", "unrepaired"):
        v = change[grp == name].to_numpy(float)
        n = len(v)
        m = float(v.mean()) if n else np.nan
        sd = float(v.std(ddof=1)) if n > 1 else np.nan
        half = (
            stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        )
        rows.append(
            {
                "group": name,
                "n_units": n,
                "mean_change": m,
                "sd": sd,
                "ci_low": m - half,
                "ci_high": m + half,
            }
        )
    return pd.DataFrame(rows)


def alliance_by_modality(
    wide: pd.DataFrame,
    *,
    alliance: Sequence[str] = ALLIANCE_COLUMNS[:2],
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean alliance per session modality (in person, video, phone, ...), with a t CI and n.

    ``wide`` is :func:`by_session`'s frame of a long frame with a ``modality`` column.
    Sessions are treated as independent (the CI is too narrow when a unit has many).
    """
    alliance = [alliance] if isinstance(alliance, str) else list(alliance)
    if MODALITY not in wide:
        raise DataValidationError(
            "alliance by modality needs a 'modality' column (in_person, video, phone, chat) "
            "in the scores"
        )
    rows = []
    for col in alliance:
        d = wide.dropna(subset=[col, MODALITY])
        for mod, g in d.groupby(MODALITY, sort=True):
            v = g[col].to_numpy(float)
            n = len(v)
            m = float(v.mean())
            sd = float(v.std(ddof=1)) if n > 1 else np.nan
            half = (
                stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)
                if n > 1
                else np.nan
            )
            rows.append(
                {
                    "alliance": col,
                    MODALITY: mod,
                    "n_sessions": n,
                    "n_units": g[_E].nunique() if _E in g else np.nan,
                    "mean": m,
                    "sd": sd,
                    "ci_low": m - half,
                    "ci_high": m + half,
                }
            )
    return pd.DataFrame(rows)
