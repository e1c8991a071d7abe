"""Write the seeded synthetic data sets that ``fit_lme4.R`` fits (run once; outputs are committed).

    python tests/core/reference/alliance/make_data.py

Only synthetic data.  ``balanced.csv``: 40 clients x 8 sessions, 8 practitioners.
``unbalanced.csv``: 70 clients with 2-12 sessions, about 15 % of sessions missing, 12
practitioners of unequal size, a time-varying alliance and a client-level covariate.
``wide.csv``: 80 engagements x 3-10 sessions, 10 practitioners, outcome ``who5``
and client- and practitioner-rated alliance (the shape ``by_session`` returns), for the
association, lagged, ICC and agreement analyses (``analyses_lme4.R``).
``boundary.csv``: no practitioner effect and a tiny client-slope variance, so that the
practitioner variance estimate sits on its bound of 0 (near-zero components).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def simulate(
    seed: int,
    n_clients: int,
    n_prac: int,
    max_sessions: int,
    min_sessions: int,
    p_missing: float,
    sd_prac: float,
    sd_slope: float,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prac = np.sort(rng.integers(0, n_prac, n_clients))
    prac[:n_prac] = np.arange(n_prac)  # every practitioner has a client
    u_p = rng.normal(0, sd_prac, n_prac)
    rows = []
    for c in range(n_clients):
        n_s = int(rng.integers(min_sessions, max_sessions + 1))
        b0 = rng.normal(0, 3.0)
        b1 = 0.4 * b0 / 3.0 * sd_slope + rng.normal(0, sd_slope)
        base = rng.normal(50, 8)
        a_mean = rng.normal(0, 1)
        for s in range(1, n_s + 1):
            if s > 1 and rng.random() < p_missing:
                continue
            alliance = 40 + 3 * a_mean + 0.2 * s + rng.normal(0, 2)
            y = (
                10
                + 0.5 * s
                + 0.3 * (alliance - 40)
                + 0.05 * (base - 50)
                + b0
                + b1 * s
                + u_p[prac[c]]
                + rng.normal(0, 2.0)
            )
            rows.append(
                {
                    "client_id": f"c{c:03d}",
                    "practitioner_id": f"p{prac[c]:02d}",
                    "session": s,
                    "alliance": round(alliance, 4),
                    "baseline": round(base, 4),
                    "outcome": round(y, 4),
                }
            )
    return pd.DataFrame(rows)


def simulate_wide(seed: int, n_units: int, n_prac: int) -> pd.DataFrame:
    """One row per engagement x session with client and practitioner alliance (by_session shape)."""
    rng = np.random.default_rng(seed)
    prac = rng.integers(0, n_prac, n_units)
    prac[:n_prac] = np.arange(n_prac)
    u_p = rng.normal(0, 1.0, n_prac)
    a_p = rng.normal(0, 0.3, n_prac)
    rows = []
    for e in range(n_units):
        n_s = int(rng.integers(3, 11))
        trait = rng.normal(0, 0.5)
        level = rng.normal(0, 3.0)
        y_prev = 12 + level + u_p[prac[e]]
        for s in range(1, n_s + 1):
            ac = 3.8 + trait + a_p[prac[e]] + rng.normal(0, 0.4)
            ap = 3.4 + 0.6 * trait + a_p[prac[e]] + rng.normal(0, 0.4)
            y = (
                0.6 * y_prev
                + 0.4 * (12 + level + u_p[prac[e]])
                + 0.4 * s
                + 1.5 * (ac - 3.8)
            )
            y += rng.normal(0, 1.5)
            y_prev = y
            if s > 1 and rng.random() < 0.1:
                continue
            rows.append(
                {
                    "engagement_id": f"e{e:03d}",
                    "practitioner_id": f"p{prac[e]:02d}",
                    "session": s,
                    "who5": round(y, 4),
                    "alliance_client": round(min(ac, 5.0), 4),
                    "alliance_practitioner": round(min(ap, 5.0), 4),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    simulate(13, 40, 8, 8, 8, 0.0, 1.5, 0.3).to_csv(HERE / "balanced.csv", index=False)
    simulate(1313, 70, 12, 12, 2, 0.15, 1.0, 0.4).to_csv(
        HERE / "unbalanced.csv", index=False
    )
    simulate(7, 30, 6, 6, 3, 0.1, 0.0, 0.05).to_csv(HERE / "boundary.csv", index=False)
    simulate_wide(2018, 80, 10).to_csv(HERE / "wide.csv", index=False)


if __name__ == "__main__":
    main()
