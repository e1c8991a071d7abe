"""Benchmark: vectorised sudden gains (both engines, all three tables) against a per-client loop.

Simulates 100,000 clients x 20 sessions (``--quick``: 5,000) of a BDI-like score with
gradual improvement, occasional sudden drops and 5 % missing sessions, then times
``sudden_gains``, ``sudden_gains_byperson`` and ``sudden_gain_intervals`` for the
``tang-derubeis`` and ``suddengains`` engines (validation and long-to-wide pivot included;
data generation not timed; the first call is reported separately as the cold start). In the same run a straightforward per-client pandas loop (one
``groupby`` group at a time, one interval at a time, ``suddengains`` rules) is timed on 2,000
clients (``--quick``: 200) and checked to find the same gains. Prints the per-client ratio
against that loop and against the R package's ~24 ms per client, and the peak memory.
Targets (issue 3): per-gain table < 2 s per engine, the other tables < 2 s more each,
> 1,000x faster per client than R, peak memory < 2 GB.

Run: ``.venv/bin/python benchmarks/sudden_gains.py [--quick]``
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from _common import Targets, add_check_flag  # benchmarks/_common.py (sys.path[0])
from harmonybridge.change import (
    sudden_gain_intervals,
    sudden_gains,
    sudden_gains_byperson,
)
from harmonybridge.errors import HarmonyBridgeWarning

# Outside figure: the R package suddengains' time per client. Where it comes from: the
# estimate written with this benchmark (issue 3); the measurement behind it (R version,
# machine, call) was not recorded, so the "x the R package" ratio printed below is
# indicative only. Re-measure with suddengains::select_cases + identify_sg on the same
# simulated data and replace this figure with the source.
R_MS_PER_CLIENT = 24.0
R_SOURCE = "unrecorded estimate from issue 3; see R_MS_PER_CLIENT in this file"


def simulate(n_clients: int, n_sessions: int = 20, seed: int = 0) -> pd.DataFrame:
    """Long frame client_id, session, score (float, NaN for 5 % missed sessions)."""
    rng = np.random.default_rng(seed)
    start = rng.normal(28, 6, n_clients)[:, None]
    slope = rng.normal(-0.6, 0.4, n_clients)[:, None]
    sessions = np.arange(1, n_sessions + 1)
    score = start + slope * sessions + rng.normal(0, 2.5, (n_clients, n_sessions))
    has_jump = rng.random(n_clients) < 0.3
    at = rng.integers(3, n_sessions - 3, n_clients)
    jump = np.where(has_jump, rng.uniform(7, 14, n_clients), 0.0)
    score -= jump[:, None] * (sessions[None, :] > at[:, None])
    score = np.clip(np.round(score), 0, 63)
    score[rng.random(score.shape) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "client_id": np.repeat(np.arange(n_clients), n_sessions),
            "session": np.tile(sessions, n_clients),
            "score": score.ravel(),
        }
    )


def loop_baseline(
    data: pd.DataFrame, cutoff: float = 7.0, pct: float = 0.25
) -> pd.DataFrame:
    """Per-client, per-interval pandas implementation of the suddengains gain rules."""
    grid = np.sort(data["session"].unique())
    n = len(grid)
    rows = []
    for cid, group in data.groupby("client_id"):
        x = group.set_index("session")["score"].reindex(grid)
        for j in range(1, n - 2):  # pre-gain position (0-based)
            pre, post = x.iloc[j], x.iloc[j + 1]
            before = x.iloc[max(0, j - 2) : j + 1].dropna()
            after = x.iloc[j + 1 : j + 4].dropna()
            c1 = None if pd.isna(pre) or pd.isna(post) else pre - post >= cutoff
            c2 = None if c1 is None else pre - post >= pct * pre
            c3 = None
            if len(before) >= 2 and len(after) >= 2:
                df = len(before) + len(after) - 2
                sp = np.sqrt(
                    ((len(before) - 1) * before.var() + (len(after) - 1) * after.var())
                    / df
                )
                c3 = before.mean() - after.mean() > stats.t.ppf(0.975, df) * sp
            if c1 and c2 and c3:
                rows.append((cid, grid[j], pre - post))
    return pd.DataFrame(rows, columns=["client_id", "pregain_session", "magnitude"])


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    add_check_flag(parser)
    args = parser.parse_args()
    targets = Targets()
    n_clients, n_loop = (5_000, 200) if args.quick else (100_000, 2_000)
    data = simulate(n_clients)
    print(f"data: {n_clients:,} clients x 20 sessions = {len(data):,} rows")

    _, cold = timed(sudden_gains, data, cutoff=7)
    print(
        f"first call (cold: fresh memory pages, lazy imports; not counted below): {cold:.3f} s"
    )
    per_client = {}
    for engine in ("tang-derubeis", "suddengains"):
        gains, t_gains = timed(sudden_gains, data, cutoff=7, engine=engine)
        byperson, t_byp = timed(sudden_gains_byperson, data, cutoff=7, engine=engine)
        intervals, t_int = timed(sudden_gain_intervals, data, cutoff=7, engine=engine)
        per_client[engine] = t_gains / n_clients
        targets.hit(f"{engine} per-gain table < 2 s", t_gains < 2)
        targets.hit(f"{engine} other tables < 2 s more each", max(t_byp, t_int) < 2)
        print(
            f"{engine:>14}: per-gain {t_gains:6.3f} s ({len(gains):,} gains) | "
            f"per-person {t_byp:6.3f} s ({len(byperson):,} rows) | "
            f"intervals {t_int:6.3f} s ({len(intervals):,} rows)"
        )

    sample = data[data["client_id"] < n_loop]
    baseline, t_loop = timed(loop_baseline, sample)
    loop_per_client = t_loop / n_loop
    check = sudden_gains(sample, cutoff=7, engine="suddengains")
    agree = (
        check[["client_id", "pregain_session", "magnitude"]]
        .reset_index(drop=True)
        .equals(
            baseline.astype(check[["client_id", "pregain_session", "magnitude"]].dtypes)
        )
    )
    print(
        f"per-client loop baseline: {t_loop:.2f} s on {n_loop:,} clients = "
        f"{loop_per_client * 1e3:.3f} ms/client (same gains as the vectorised engine: {agree})"
    )
    for engine, seconds in per_client.items():
        print(
            f"{engine:>14}: {seconds * 1e6:.2f} us/client (per-gain table) -> "
            f"{loop_per_client / seconds:,.0f}x the per-client loop, "
            f"{R_MS_PER_CLIENT * 1e-3 / seconds:,.0f}x the R package (~{R_MS_PER_CLIENT:.0f} "
            f"ms/client: {R_SOURCE})"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of the whole run): {peak_mb:,.0f} MB")
    for engine, seconds in per_client.items():
        targets.hit(
            f"{engine} > 1,000x faster per client than R (figure above)",
            R_MS_PER_CLIENT * 1e-3 / seconds > 1000,
        )
    targets.hit("peak memory < 2 GB", peak_mb < 2048)
    return targets.exit_code(args.check)


if __name__ == "__main__":
    raise SystemExit(main())
