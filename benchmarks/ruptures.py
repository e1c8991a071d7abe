"""Benchmark: detect_ruptures on 100,000 engagements x 20 sessions x 2 raters.

Prints the time of the vectorised detector, the time of a straightforward
per-series Python/pandas loop implementing the same prospective rule on a subset
(the in-run baseline; its events are checked against the detector's), the
per-series ratio and peak memory. ``--quick`` runs small sizes (smoke test).
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from alerts import simulate
from harmonybridge.change import detect_ruptures

KEYS = ["engagement_id", "respondent_id", "instrument", "subscale", "rater_role"]


def loop_detect(
    data: pd.DataFrame,
    ref: dict[str, float],
    k_sd: float = 2.0,
    min_abs: float = 0.25,
    k: int = 3,
    min_history: int = 3,
    ext: int = 3,
    window: int = 3,
) -> list[tuple]:
    """Per-series loop: prospective, rolling mean of 3, SD = max(within prior, pooled)."""
    events = []
    for key, g in data.groupby(KEYS, sort=True):
        g = g.dropna(subset=["score"]).sort_values("session")
        a, t = g["score"].tolist(), g["session"].tolist()
        base, thr, sdr = [], [], []
        for j in range(len(a)):
            b = sum(a[j - k : j]) / k if j >= k else math.nan
            within = statistics.stdev(a[:j]) if j >= 2 else math.nan
            sd = max(within, ref[key[-1]]) if not math.isnan(within) else ref[key[-1]]
            base.append(b)
            sdr.append(sd)
            thr.append(max(k_sd * sd, min_abs))
        active, last_end = None, -1
        for j in range(len(a)):
            if active is not None:
                on, b, s, th, nadir, nv, is_ext = active
                if a[j] >= b - 1e-9:
                    v = nadir == on and not is_ext and j == on + 1
                    events.append(
                        (*key, t[on], t[nadir], t[j], "V" if v else "extended")
                    )
                    active, last_end = None, j
                elif a[j] < nv:
                    active = (on, b, s, th, j, a[j], is_ext)
                elif j - nadir >= window:
                    events.append((*key, t[on], t[nadir], None, "unrepaired"))
                    active, last_end = None, j
            if active is not None or j <= last_end:
                continue
            if j >= min_history and base[j] - a[j] >= thr[j] - 1e-9:
                active = (j, base[j], sdr[j], thr[j], j, a[j], False)
                continue
            for ln in range(2, ext + 1):
                s0 = j - ln + 1
                if s0 < 0 or s0 <= last_end or s0 < min_history:
                    break
                steps = all(a[i] <= a[i - 1] for i in range(s0, j + 1))
                if steps and base[s0] - a[j] >= thr[s0] - 1e-9:
                    active = (j, base[s0], sdr[s0], thr[s0], j, a[j], True)
                    break
        if active is not None:
            on, _, _, _, nadir, _, _ = active
            events.append((*key, t[on], t[nadir], None, "censored"))
    return events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = ap.parse_args()
    n, t, n_loop = (2_000, 20, 100) if args.quick else (100_000, 20, 1_000)
    data = simulate(n, t)
    ref = {"client": 0.3, "practitioner": 0.25}
    print(f"{n:,} engagements x {t} sessions x 2 raters = {len(data):,} rows")
    for preset in (None, "strauss2006"):
        t0, c0 = time.perf_counter(), time.process_time()
        kw = {"reference_sd": ref} if preset is None else {"preset": preset}
        ev = detect_ruptures(data, **kw)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"detect_ruptures(preset={preset}): {dt:.2f} s wall, {cpu:.2f} s CPU, {len(ev):,} events"
        )
        if preset is None:
            vec_time, events = dt, ev
    sub = data[data["engagement_id"] < n_loop]
    t0 = time.perf_counter()
    looped = loop_detect(sub, ref)
    loop_time = time.perf_counter() - t0
    vec_sub = events[events["engagement_id"] < n_loop]
    cols = [*KEYS, "onset_session", "nadir_session", "repair_session", "type"]
    vec = {
        tuple(
            None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in r
        )
        for r in vec_sub[cols].itertuples(index=False)
    }
    same = vec == {tuple(r) for r in looped} and len(vec) == len(looped)
    n_series = 2 * n_loop
    per_loop, per_vec = loop_time / n_series, vec_time / (2 * n)
    print(
        f"per-series loop ({n_series:,} series): {loop_time:.2f} s, {len(looped):,} events, same events as detect_ruptures: {same}"
    )
    print(
        f"per series: loop {per_loop * 1e3:.3f} ms, vectorised {per_vec * 1e6:.2f} us, ratio {per_loop / per_vec:,.0f}x"
    )
    print("(wall time exceeds CPU time when other processes share the cores)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
