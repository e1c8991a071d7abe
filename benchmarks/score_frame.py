"""Benchmark: vectorised ``score_frame`` against a naive per-response sum on the same frame.

Scores 1,000,000 completed questionnaires (a mix of PHQ-9, GAD-7, WHO-5, SWLS and
FS, about 7.2 million item rows; ``--quick``: 20,000) and prints the time of full
scoring (reverse keys, subscales, prorating, bands, safety flags), the time of the
naive baseline ``frame.groupby("response_id")["value"].sum()``, their ratio
(target <= 3x) and the peak memory (target < 3 GB). Data generation is not timed.

Run: ``.venv/bin/python benchmarks/score_frame.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from _common import Targets, add_check_flag  # benchmarks/_common.py (sys.path[0])
from harmonybridge.instruments import get, score_frame

MIX = ("phq9", "gad7", "who5", "swls", "fs")


def make_frame(n_responses: int, seed: int = 0, missing: float = 0.01) -> pd.DataFrame:
    """Item-level long frame: response_id int64 sorted, instrument categorical, item int8."""
    rng = np.random.default_rng(seed)
    insts = [get(i) for i in MIX]
    which = rng.integers(0, len(MIX), n_responses)
    n_items = np.array([len(i.items) for i in insts])[which]
    response_id = np.repeat(np.arange(n_responses, dtype=np.int64), n_items)
    starts = np.repeat(np.cumsum(n_items) - n_items, n_items)
    item = (np.arange(len(response_id)) - starts + 1).astype(np.int8)
    row_inst = np.repeat(which, n_items)
    lo = np.zeros((len(MIX), 11))
    hi = np.zeros((len(MIX), 11))
    for k, inst in enumerate(insts):
        for it in inst.items:
            lo[k, it.number] = inst.scales[it.scale].min
            hi[k, it.number] = inst.scales[it.scale].max
    low, high = lo[row_inst, item], hi[row_inst, item]
    value = np.floor(low + rng.random(len(item)) * (high - low + 1))
    value[rng.random(len(value)) < missing] = np.nan
    return pd.DataFrame(
        {
            "response_id": response_id,
            "instrument": pd.Categorical.from_codes(row_inst, categories=list(MIX)),
            "item": item,
            "value": value,
        }
    )


def best_times(funcs, repeat: int) -> list[float]:
    """Fastest of ``repeat`` wall-clock runs of each function, runs interleaved.

    Interleaving keeps a change in machine load from favouring one side.
    """
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(repeat):
        for k, func in enumerate(funcs):
            t0 = time.perf_counter()
            func()
            times[k].append(time.perf_counter() - t0)
    return [min(t) for t in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 questionnaires")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs (best is kept)"
    )
    parser.add_argument("--n", type=int, default=None, help="number of questionnaires")
    add_check_flag(parser)
    args = parser.parse_args()
    targets = Targets()
    n = args.n or (20_000 if args.quick else 1_000_000)

    t0 = time.perf_counter()
    frame = make_frame(n)
    print(
        f"data: {n:,} questionnaires, {len(frame):,} item rows "
        f"(generated in {time.perf_counter() - t0:.2f} s, not timed)"
    )

    naive, full = best_times(
        [
            lambda: frame.groupby("response_id")["value"].sum(),
            lambda: score_frame(frame),
        ],
        args.repeat,
    )
    print(f"naive groupby sum : {naive:8.3f} s")
    print(f"score_frame       : {full:8.3f} s")
    print(f"ratio             : {full / naive:8.2f} x   (target <= 3x)")

    tracemalloc.start()
    scores = score_frame(frame)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    print(f"peak traced memory during score_frame: {peak / 1024**3:.3f} GiB")
    print(f"peak resident memory of the process  : {rss:.3f} GiB   (target < 3 GB)")
    print(
        f"scored rows: {len(scores):,}; prorated {int(scores['prorated'].sum()):,}; "
        f"no total {int(scores['total'].isna().sum()):,}; "
        f"safety flags {int(scores['safety'].sum()):,}"
    )
    # targets of issue 1 (the scoring engine)
    targets.hit("score_frame <= 3x the naive groupby sum", full / naive <= 3)
    targets.hit("peak resident memory < 3 GB", rss < 3)
    return targets.exit_code(args.check)


if __name__ == "__main__":
    raise SystemExit(main())
