"""Large, fast score-only series (no items, integer ids) for benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harmonybridge.datasets import _latent
from harmonybridge.datasets._latent import Latent, Plan
from harmonybridge.datasets._specs import SCORE_COLUMNS
from harmonybridge.errors import DataValidationError

SERIES_INSTRUMENTS: tuple[str, ...] = (
    "hb_checkin",
    "hb_checkin_practitioner",
    "phq9",
    "gad7",
    "who5",
)


def _check(
    n_engagements: int, n_sessions: int, missing: float, instruments: Sequence[str]
) -> None:
    for name, value in (("n_engagements", n_engagements), ("n_sessions", n_sessions)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or value < 1
        ):
            raise DataValidationError(f"{name} must be an integer >= 1, got {value!r}")
    if not 0.0 <= float(missing) < 1.0:
        raise DataValidationError(f"missing must be in [0, 1), got {missing!r}")
    unknown = [i for i in instruments if i not in SERIES_INSTRUMENTS]
    if unknown or not instruments:
        raise DataValidationError(
            f"instrument {unknown[0] if unknown else None!r} cannot be simulated as a series; "
            f"allowed: {', '.join(SERIES_INSTRUMENTS)}"
        )


def simulate_series(
    *,
    n_engagements: int = 1000,
    n_sessions: int = 20,
    instruments: Sequence[str] = ("hb_checkin", "hb_checkin_practitioner", "phq9"),
    n_practitioners: int | None = None,
    missing: float = 0.1,
    seed: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Simulate many one-client engagements as a canonical score frame (totals only).

    The same latent model as :func:`simulate_practice` (two-sided alliance with
    ruptures, log-linear symptom change with sudden gains, wellbeing), but scores are
    drawn directly on the instrument's metric without item-level answers, so that a
    benchmark can build 100,000 engagements × 20 sessions in seconds.

    Parameters
    ----------
    n_engagements : int
        Number of engagements (one client each).
    n_sessions : int
        Sessions per engagement (before dropping missed ones).
    instruments : sequence of str
        Any of ``hb_checkin``, ``hb_checkin_practitioner``, ``phq9``, ``gad7``, ``who5``.
    n_practitioners : int, optional
        Defaults to one practitioner per 25 engagements.
    missing : float
        Share of sessions after the first with no rows (missed sessions).
    seed : numpy.random.Generator or int or None
        Random generator or seed.

    Returns
    -------
    pandas.DataFrame
        The canonical score columns; ids are int64 (clients and engagements numbered
        from 1, practitioners from ``n_engagements + 1``, so every respondent id is
        unique); ``rater_role``, ``instrument`` and ``subscale`` (always "") are
        categorical. Sorted by engagement, session, rater role and instrument.

    Raises
    ------
    DataValidationError
        For a count below 1, ``missing`` outside [0, 1) or an unknown instrument.

    Notes
    -----
    Check-in totals are item means of three 1–5 items (multiples of 1/3); PHQ-9,
    GAD-7 and WHO-5 totals are integers (WHO-5 multiples of 4). Reference test:
    ``tests/core/test_datasets.py``.

    References
    ----------
    Tryon, G. S., Blackwell, S. C., & Hammel, E. F. (2007). A meta-analytic
    examination of client–therapist perspectives of the working alliance.
    Psychotherapy Research, 17(6), 629–642.

    Examples
    --------
    >>> frame = simulate_series(n_engagements=5, n_sessions=4, seed=1)
    >>> sorted(frame["instrument"].unique())
    ['hb_checkin', 'hb_checkin_practitioner', 'phq9']
    """
    instruments = tuple(instruments)
    _check(n_engagements, n_sessions, missing, instruments)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_e, n_s = int(n_engagements), int(n_sessions)
    n_p = max(1, n_e // 25) if n_practitioners is None else int(n_practitioners)
    plan = Plan(
        practitioner_ids=[str(i) for i in range(n_p)],
        prac=rng.integers(0, n_p, n_e),
        line=np.zeros(n_e, dtype=int),
        members=np.ones(n_e, dtype=int),
        length=np.full(n_e, n_s),
        active=np.zeros(n_e, dtype=bool),
        start=-(n_s - 1) * 7 - rng.integers(2, 3 * 365, n_e),
        story=np.full(n_e, "", dtype=object),
        as_of=np.datetime64("2026-06-30", "D"),
    )
    lat = _series_latent(rng, plan, n_s)
    observed = rng.random((n_e, n_s)) >= missing
    observed[:, 0] = True
    return _frame(rng, plan, lat, observed, instruments, n_p)


def _series_latent(rng: np.random.Generator, plan: Plan, n_s: int) -> Latent:
    eng = np.arange(plan.n_engagements)
    z_c, a_c, a_p, _ = _latent.alliance(rng, plan, eng, n_s)
    phq, gad = _latent.symptoms(rng, plan, eng, z_c, n_s)
    lat = Latent(
        z_client=z_c,
        alliance_client=a_c,
        alliance_practitioner=a_p,
        rupture_client=np.zeros((0, 0, 3)),
        rupture_practitioner=np.zeros((0, 0, 3)),
        phq9=phq,
        gad7=gad,
        wellbeing=_latent.wellbeing(rng, plan, eng, z_c, n_s),
        goals=np.zeros((0, 0, 3)),
    )
    _series_ruptures(rng, lat, plan.length)
    yes = np.ones(plan.n_engagements, dtype=bool)
    _latent.sudden_shifts(rng, lat.phq9, plan.length, yes, rate=0.12, size=(-8.0, -5.0))
    _latent.sudden_shifts(
        rng, lat.wellbeing, plan.length, yes, rate=0.1, size=(0.9, 1.4)
    )
    return lat


def _series_ruptures(rng: np.random.Generator, lat: Latent, length: np.ndarray) -> None:
    reports = _latent.empty_reports(len(length), lat.alliance_client.shape[1])
    lat.rupture_client = reports
    lat.rupture_practitioner = reports.copy()
    _latent.background_ruptures(rng, lat, length, np.arange(len(length)))


def _draw(
    rng: np.random.Generator, instrument: str, lat: Latent, r: np.ndarray, c: np.ndarray
) -> np.ndarray:
    if instrument.startswith("hb_checkin"):
        level = (
            lat.alliance_client
            if instrument == "hb_checkin"
            else lat.alliance_practitioner
        )
        noisy = level[r, c] + rng.normal(0, 0.2, len(r))
        result: np.ndarray = (np.rint(noisy * 3) / 3).clip(1, 5)
        return result
    if instrument == "who5":
        well = lat.wellbeing[r, c] + rng.normal(0, 0.3, len(r))
        result = np.rint((50 + 15 * well) / 4).clip(0, 25) * 4
        return result
    total = getattr(lat, instrument)[r, c] + rng.normal(0, 1.0, len(r))
    result = np.rint(total).clip(0, 27 if instrument == "phq9" else 21)
    return result


def _frame(
    rng: np.random.Generator,
    plan: Plan,
    lat: Latent,
    observed: np.ndarray,
    instruments: tuple[str, ...],
    n_p: int,
) -> pd.DataFrame:
    n_e = observed.shape[0]
    r, c = np.nonzero(observed)  # already in (engagement, session) order
    k = len(instruments)
    # k consecutive rows per observed session, one per instrument: no sort needed
    codes = np.tile(np.arange(k, dtype=np.int8), len(r))
    eng = np.repeat(r, k)
    slot = np.repeat(c, k)
    score = np.column_stack([_draw(rng, i, lat, r, c) for i in instruments]).ravel()
    is_prac = np.array([i == "hb_checkin_practitioner" for i in instruments])[codes]
    client_id = (eng + 1).astype(np.int64)
    prac_id = (n_e + 1 + plan.prac[eng]).astype(np.int64)
    day = plan.start[eng] + slot * 7
    roles = np.array(["client", "practitioner"])
    return pd.DataFrame(
        {
            "client_id": client_id,
            "engagement_id": client_id,
            "practitioner_id": prac_id,
            "session": (slot + 1).astype(np.int64),
            "date": (plan.as_of + day.astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
            "rater_role": pd.Categorical.from_codes(
                is_prac.astype(np.int8), pd.Index(roles)
            ),
            "respondent_id": np.where(is_prac, prac_id, client_id),
            "instrument": pd.Categorical.from_codes(codes, pd.Index(list(instruments))),
            "subscale": pd.Categorical.from_codes(
                np.zeros(len(eng), np.int8), pd.Index([""])
            ),
            "score": score.astype(float),
        },
        columns=list(SCORE_COLUMNS),
    )
