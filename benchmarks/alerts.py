"""Benchmark: evaluate_alerts_frame on 100,000 engagements x 20 sessions x 2 raters.

Prints the time of the vectorised frame evaluation, the time of a per-engagement
loop over ``evaluate_alerts`` on a subset (the in-run baseline), the per-engagement
ratio and peak memory. ``--quick`` runs small sizes (smoke test).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from _common import Targets, add_check_flag  # benchmarks/_common.py (sys.path[0])
from harmonybridge.alerts import AlertContext, evaluate_alerts, evaluate_alerts_frame


def simulate(
    n_engagements: int, n_sessions: int, seed: int = 0, outcome: bool = False
) -> pd.DataFrame:
    """Two raters per engagement (client hb_checkin, practitioner hb_checkin_practitioner)."""
    rng = np.random.default_rng(seed)
    n = n_engagements
    level = 4 + rng.normal(0, 0.35, (n, 1))
    client = (
        level
        + rng.normal(0, 0.3, (n, n_sessions))
        - (rng.random((n, n_sessions)) < 0.05) * 1.2
    )
    pract = level - 0.2 + rng.normal(0, 0.25, (n, n_sessions))
    frames = []
    for role, inst, resp, vals in (
        ("client", "hb_checkin", "c", client),
        ("practitioner", "hb_checkin_practitioner", "p", pract),
    ):
        frames.append(_long(n, n_sessions, role, inst, resp, np.clip(vals, 1, 5)))
    if outcome:
        phq = np.clip(
            np.round(15 + np.cumsum(rng.normal(-0.6, 2.5, (n, n_sessions)), axis=1)),
            0,
            27,
        )
        frames.append(_long(n, n_sessions, "client", "phq9", "c", phq))
    return pd.concat(frames, ignore_index=True)


def _long(
    n: int, t: int, role: str, inst: str, resp: str, vals: np.ndarray
) -> pd.DataFrame:
    eng = np.repeat(np.arange(n), t)
    return pd.DataFrame(
        {
            "engagement_id": eng,
            "session": np.tile(np.arange(1, t + 1), n),
            "rater_role": role,
            "respondent_id": np.char.add(resp, eng.astype(str)),
            "instrument": inst,
            "subscale": "",
            "score": vals.ravel(),
        }
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument(
        "--outcome", action="store_true", help="add a PHQ-9 series per engagement"
    )
    add_check_flag(ap)
    args = ap.parse_args()
    n, t, n_loop = (2_000, 20, 50) if args.quick else (100_000, 20, 200)
    data = simulate(n, t, outcome=args.outcome)
    ctx = AlertContext(pooled_sd={"client": 0.3, "practitioner": 0.25})
    print(f"{n:,} engagements x {t} sessions x 2 raters = {len(data):,} rows")
    for at in ("current", "all"):
        t0, c0 = time.perf_counter(), time.process_time()
        alerts = evaluate_alerts_frame(data, context=ctx, at=at)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"evaluate_alerts_frame(at={at!r}): {dt:.2f} s wall, {cpu:.2f} s CPU, {len(alerts):,} alerts"
        )
        if at == "current":
            frame_time = dt
    sub = data[data["engagement_id"] < n_loop]
    groups = [h for _, h in sub.groupby("engagement_id", sort=False)]
    t0 = time.perf_counter()
    looped = sum(len(evaluate_alerts(h, context=ctx)) for h in groups)
    loop_time = time.perf_counter() - t0
    per_loop, per_frame = loop_time / n_loop, frame_time / n
    print(
        f"per-engagement loop over evaluate_alerts ({n_loop} engagements): {loop_time:.2f} s, {looped} alerts"
    )
    print(
        f"per engagement: loop {per_loop * 1e3:.2f} ms, frame {per_frame * 1e6:.2f} us, ratio {per_loop / per_frame:,.0f}x"
    )
    print("(wall time exceeds CPU time when other processes share the cores)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:,.0f} MB")
    targets = Targets()
    targets.hit("frame faster per engagement than the loop", per_loop > per_frame)
    return targets.exit_code(args.check)


if __name__ == "__main__":
    raise SystemExit(main())
