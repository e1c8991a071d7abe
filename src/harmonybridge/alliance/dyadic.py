"""Dyadic alliance signals: client–practitioner discrepancy, unrecognised ruptures, split and low early alliance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.change.ruptures import check_unique
from harmonybridge.errors import DataValidationError

__all__ = [
    "alliance_norms",
    "alliance_percentiles",
    "dyadic_discrepancy",
    "low_early_alliance",
    "rupture_concordance",
    "split_alliance",
    "unrecognised_ruptures",
]

_E, _S, _R, _P, _I = (
    schema.ENGAGEMENT_ID,
    schema.SESSION,
    schema.RATER_ROLE,
    schema.RESPONDENT_ID,
    schema.INSTRUMENT,
)
_NEED = (_E, _S, _R, _P, _I, schema.SCORE)


def _totals(
    data: pd.DataFrame, name: str = "data", checked: bool = False
) -> pd.DataFrame:
    """Check the canonical columns and keep the total-score rows with a score."""
    if not checked:
        schema.validate_long(
            data, required=_NEED, numeric=[_S, schema.SCORE], name=name
        )
        sub = [schema.SUBSCALE] if schema.SUBSCALE in data else []
        check_unique(data, [_E, _S, _P, _I, *sub], name)
    d = data
    if schema.SUBSCALE in d.columns:
        d = d[d[schema.SUBSCALE].fillna("") == ""]
    return d.loc[d[schema.SCORE].notna(), list(_NEED)]


def alliance_norms(reference: pd.DataFrame) -> pd.DataFrame:
    """Return the mean and SD of alliance totals per instrument and rater role.

    Parameters
    ----------
    reference : pandas.DataFrame
        Canonical score frame of a reference set (e.g. the practice's history
        before today); total rows (``subscale == ""``) are used.

    Returns
    -------
    pandas.DataFrame
        Columns ``instrument``, ``rater_role``, ``mean``, ``sd`` (ddof 1), ``n``.

    References
    ----------
    Tryon, G. S., Blackwell, S. C., & Hammel, E. F. (2007). A meta-analytic
    examination of client–therapist perspectives of the working alliance.
    Psychotherapy Research, 17(6), 629–642 (clients rate higher, d = .63,
    hence standardising each rater role separately). Reference test:
    ``tests/core/test_dyadic.py::test_discrepancy_by_hand``.
    """
    d = _totals(reference, "reference")
    g = d.groupby([_I, _R], sort=True)[schema.SCORE]
    return pd.DataFrame(
        {"mean": g.mean(), "sd": g.std(ddof=1), "n": g.size()}
    ).reset_index()


def _norm_lookup(norms: pd.DataFrame, d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    m = d[[_I, _R]].merge(norms, on=[_I, _R], how="left")
    return m["mean"].to_numpy(float), m["sd"].to_numpy(float)


def dyadic_discrepancy(data: pd.DataFrame, *, norms: pd.DataFrame) -> pd.DataFrame:
    """Return the standardised client–practitioner discrepancy per session.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical score frame of alliance totals (client and practitioner).
    norms : pandas.DataFrame
        Reference means and SDs from :func:`alliance_norms` (never computed
        from ``data``).

    Returns
    -------
    pandas.DataFrame
        One row per engagement, session and client respondent who has a
        practitioner rating of the same session: ``engagement_id``,
        ``session``, ``respondent_id`` (the client), ``practitioner_respondent_id``,
        ``client_instrument``, ``practitioner_instrument``, ``client_score``,
        ``practitioner_score``, ``z_client``, ``z_practitioner`` and
        ``discrepancy`` ``D = z_client − z_practitioner`` (negative: the client
        sees the alliance as weaker than the practitioner does).

    References
    ----------
    Marmarosh, C. L., & Kivlighan, D. M., Jr. (2012). Relationships among
    client and counselor agreement about the working alliance, session
    evaluations, and change in client symptoms using response surface
    analysis. Journal of Counseling Psychology, 59(3), 352–367. Reference
    test: ``tests/core/test_dyadic.py::test_discrepancy_by_hand``.
    """
    return _discrepancy(_totals(data), norms)


def _discrepancy(d: pd.DataFrame, norms: pd.DataFrame) -> pd.DataFrame:
    mean, sd = _norm_lookup(norms, d)
    d = d.assign(z=(d[schema.SCORE].to_numpy(float) - mean) / sd)
    cli = d[d[_R] == "client"]
    pra = d[d[_R] == "practitioner"]
    m = cli.merge(pra, on=[_E, _S], suffixes=("_c", "_p"))
    return pd.DataFrame(
        {
            _E: m[_E].to_numpy(),
            _S: m[_S].to_numpy(),
            _P: m[f"{_P}_c"].to_numpy(),
            "practitioner_respondent_id": m[f"{_P}_p"].to_numpy(),
            "client_instrument": m[f"{_I}_c"].to_numpy(),
            "practitioner_instrument": m[f"{_I}_p"].to_numpy(),
            "client_score": m[f"{schema.SCORE}_c"].to_numpy(float),
            "practitioner_score": m[f"{schema.SCORE}_p"].to_numpy(float),
            "z_client": m["z_c"].to_numpy(float),
            "z_practitioner": m["z_p"].to_numpy(float),
            "discrepancy": (m["z_c"] - m["z_p"]).to_numpy(float),
        }
    ).sort_values([_E, _S, _P], kind="stable", ignore_index=True)


def unrecognised_ruptures(
    data: pd.DataFrame,
    ruptures: pd.DataFrame,
    *,
    baseline_k: int = 3,
    practitioner_drop_min: float = 0.25,
) -> pd.DataFrame:
    """Return client ruptures that the practitioner's own rating does not show.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical score frame (alliance totals and, optionally, the
        ``rupture_present`` self-report rows).
    ruptures : pandas.DataFrame
        Events from :func:`harmonybridge.change.detect_ruptures` on ``data``.
    baseline_k : int
        The practitioner's baseline is the mean of their previous
        ``baseline_k`` observed totals (as the rupture baseline).
    practitioner_drop_min : float
        A practitioner drop (baseline − score) at least this large counts as
        the practitioner noticing (0.25 item-mean points, the rupture
        ``min_abs_drop``).

    Returns
    -------
    pandas.DataFrame
        The client events (statistical or ``client_report``) at whose onset
        session the practitioner rated the session, did not report tension,
        and whose drop was below ``practitioner_drop_min``; columns of the
        events plus ``practitioner_respondent_id``, ``practitioner_score``,
        ``practitioner_baseline`` and ``practitioner_drop`` (NaN without
        enough history, which counts as no drop).

    References
    ----------
    Chen, R., Atzil-Slonim, D., Bar-Kalifa, E., Hasson-Ohayon, I., &
    Refaeli, E. (2018). Therapists' recognition of alliance ruptures as a
    moderator of change in alliance and symptoms. Psychotherapy Research,
    28(4), 560–570. Reference test:
    ``tests/core/test_dyadic.py::test_unrecognised_rupture_by_hand``.
    """
    told = _reported_tension(data)
    return _unrecognised(
        _totals(data), told, ruptures, baseline_k, practitioner_drop_min
    )


def _unrecognised(
    d: pd.DataFrame,
    told: pd.DataFrame,
    ruptures: pd.DataFrame,
    baseline_k: int,
    practitioner_drop_min: float,
) -> pd.DataFrame:
    pra = d[d[_R] == "practitioner"].sort_values([_E, _P, _S], kind="stable")
    g = pra.groupby([_E, _P], sort=False)[schema.SCORE]
    prior = np.zeros(len(pra))
    for i in range(1, baseline_k + 1):
        prior = prior + g.shift(i).to_numpy(float)
    pra = pra.assign(practitioner_baseline=prior / baseline_k)
    pra = pra.assign(practitioner_drop=pra["practitioner_baseline"] - pra[schema.SCORE])
    pra = pra.rename(
        columns={_P: "practitioner_respondent_id", schema.SCORE: "practitioner_score"}
    )
    cev = ruptures[
        (ruptures["rater"] == "client")
        & ruptures["source"].isin(["statistical", "client_report"])
    ]
    m = cev.merge(
        pra[
            [
                _E,
                _S,
                "practitioner_respondent_id",
                "practitioner_score",
                "practitioner_baseline",
                "practitioner_drop",
            ]
        ],
        left_on=[_E, "onset_session"],
        right_on=[_E, _S],
    ).drop(columns=[_S])
    m = m.merge(
        told,
        left_on=[_E, "onset_session", "practitioner_respondent_id"],
        right_on=[_E, _S, _P],
        how="left",
        suffixes=("", "_told"),
    )
    noticed = (m["practitioner_drop"] >= practitioner_drop_min - 1e-9) | m[
        "told"
    ].fillna(False).astype(bool)
    cols = [
        *cev.columns,
        "practitioner_respondent_id",
        "practitioner_score",
        "practitioner_baseline",
        "practitioner_drop",
    ]
    return m.loc[~noticed, cols].reset_index(drop=True)


def _reported_tension(data: pd.DataFrame) -> pd.DataFrame:
    """Return (engagement, session, respondent) rows where a practitioner reported tension."""
    if schema.SUBSCALE not in data.columns:
        return pd.DataFrame({_E: [], _S: [], _P: [], "told": []})
    r = data[
        (data[schema.SUBSCALE] == "rupture_present") & (data[_R] == "practitioner")
    ]
    r = r.loc[r[schema.SCORE] == 1, [_E, _S, _P]].drop_duplicates()
    return r.assign(told=True)


def split_alliance(data: pd.DataFrame, *, min_gap: float = 1.0) -> pd.DataFrame:
    """Return sessions in which client members of one engagement diverge.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical score frame of alliance totals.
    min_gap : float
        Smallest difference between the highest and the lowest client
        member's total that counts as a split (1.0 item-mean point).

    Returns
    -------
    pandas.DataFrame
        ``engagement_id``, ``session``, ``instrument``, ``n_members``,
        ``low_respondent_id``, ``low_score``, ``high_respondent_id``,
        ``high_score``, ``gap`` for sessions with at least two client
        members rating the same instrument and ``gap >= min_gap``.

    References
    ----------
    Friedlander, M. L., Escudero, V., Heatherington, L., & Diamond, G. M.
    (2011). Alliance in couple and family therapy. Psychotherapy, 48(1),
    25–33 (split alliances). Reference test:
    ``tests/core/test_dyadic.py::test_split_alliance_by_hand``.
    """
    return _split(_totals(data), min_gap)


def _split(d: pd.DataFrame, min_gap: float) -> pd.DataFrame:
    d = d[d[_R] == "client"].sort_values([_E, _S, _I, schema.SCORE, _P], kind="stable")
    g = d.groupby([_E, _S, _I], sort=False)
    lo, hi = g.head(1).set_index([_E, _S, _I]), g.tail(1).set_index([_E, _S, _I])
    out = pd.DataFrame(
        {
            "n_members": g.size(),
            "low_respondent_id": lo[_P],
            "low_score": lo[schema.SCORE],
            "high_respondent_id": hi[_P],
            "high_score": hi[schema.SCORE],
        }
    ).reset_index()
    out["gap"] = out["high_score"] - out["low_score"]
    keep = (out["n_members"] >= 2) & (out["gap"] >= min_gap - 1e-9)
    return out[keep].reset_index(drop=True)


def alliance_percentiles(
    reference: pd.DataFrame, *, q: float = 0.25, max_session: int = 5
) -> pd.DataFrame:
    """Return the practice's alliance percentile by instrument, rater role and session.

    Parameters
    ----------
    reference : pandas.DataFrame
        Canonical score frame of a reference set (the practice's history).
    q : float
        The quantile (0.25, project choice: see docs/alert-rules.md).
    max_session : int
        Last session number to tabulate (early alliance: 5).

    Returns
    -------
    pandas.DataFrame
        ``instrument``, ``rater_role``, ``session``, ``quantile``, ``n``
        (linear interpolation, as :meth:`pandas.Series.quantile`).

    References
    ----------
    Crits-Christoph, P., et al. (2011). The dependability of alliance
    assessments: the alliance–outcome correlation is larger than you might
    think. Journal of Consulting and Clinical Psychology, 79(3), 267–278.
    Reference test: ``tests/core/test_dyadic.py::test_low_early_alliance_by_hand``.
    """
    if not 0 < q < 1:
        raise DataValidationError(f"q must be between 0 and 1, got {q!r}")
    d = _totals(reference, "reference")
    d = d[d[_S] <= max_session]
    g = d.groupby([_I, _R, _S], sort=True)[schema.SCORE]
    return pd.DataFrame({"quantile": g.quantile(q), "n": g.size()}).reset_index()


def low_early_alliance(
    data: pd.DataFrame, *, percentiles: pd.DataFrame, min_reference_n: int = 20
) -> pd.DataFrame:
    """Return early sessions whose alliance is below the practice's percentile.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical score frame of alliance totals.
    percentiles : pandas.DataFrame
        From :func:`alliance_percentiles` on a reference set.
    min_reference_n : int
        Reference scores needed at that session number for a comparison (20).

    Returns
    -------
    pandas.DataFrame
        Rows of ``data`` (canonical columns) strictly below the percentile at
        the same instrument, rater role and session number, with
        ``reference_quantile`` and ``reference_n``.

    References
    ----------
    Project choice (no validated universal cut-off exists; relative
    flag below the site's 25th percentile). Reference test:
    ``tests/core/test_dyadic.py::test_low_early_alliance_by_hand``.
    """
    return _low_early(_totals(data), percentiles, min_reference_n)


def _low_early(
    d: pd.DataFrame, percentiles: pd.DataFrame, min_reference_n: int
) -> pd.DataFrame:
    p = percentiles.rename(
        columns={"quantile": "reference_quantile", "n": "reference_n"}
    )
    m = d.merge(p[p["reference_n"] >= min_reference_n], on=[_I, _R, _S])
    return m[m[schema.SCORE] < m["reference_quantile"]].reset_index(drop=True)


def rupture_concordance(
    ruptures: pd.DataFrame,
    *,
    id: str | list[str] = _E,
    window: int = 1,
) -> pd.DataFrame:
    """Return each client rupture with whether the practitioner flagged one nearby.

    Parameters
    ----------
    ruptures : pandas.DataFrame
        Events from :func:`harmonybridge.change.detect_ruptures` (client and
        practitioner streams of the same engagements).
    id : str or list of str
        Columns that pair a client's series with the practitioner's (the
        engagement, default).
    window : int
        Session-number distance that still counts as the same moment (±1).

    Returns
    -------
    pandas.DataFrame
        The client events (statistical and ``client_report``) with
        ``practitioner_flagged`` (bool: a practitioner event, statistical or
        reported, with ``|onset difference| <= window``) and
        ``practitioner_onset_session`` (the nearest such onset, missing if
        none).

    References
    ----------
    Client vs practitioner concordance (Chen et al. 2018, docs/references.md);
    Chen et al. (2018), see :func:`unrecognised_ruptures`. Reference test:
    ``tests/core/test_dyadic.py::test_rupture_concordance_by_hand``.
    """
    keys = schema.as_key_list(id)
    schema.validate_long(
        ruptures, required=[*keys, "rater", "onset_session"], name="ruptures"
    )
    cli = ruptures[ruptures["rater"] == "client"].reset_index(drop=True)
    pra = ruptures.loc[ruptures["rater"] == "practitioner", [*keys, "onset_session"]]
    pairs = (
        cli[[*keys, "onset_session"]]
        .reset_index()
        .merge(pra.rename(columns={"onset_session": "_p"}), on=keys)
    )
    pairs["_d"] = (
        pairs["_p"].astype(float) - pairs["onset_session"].astype(float)
    ).abs()
    near = pairs[pairs["_d"] <= window].sort_values(
        ["index", "_d", "_p"], kind="stable"
    )
    nearest = near.drop_duplicates("index").set_index("index")["_p"]
    out = cli.assign(practitioner_onset_session=nearest.reindex(cli.index).to_numpy())
    out["practitioner_flagged"] = out["practitioner_onset_session"].notna()
    return out
