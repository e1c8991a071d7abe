"""Benchmark: command-line start-up and ``sudden-gains`` on a 2M-row long CSV, end to end.

Times, each in a fresh process (median of ``--repeat`` runs):

* ``harmonybridge --version`` and ``--help``, against the bare interpreter
  (``python -c pass``) and against importing what the parser used to import
  (``pandas, scipy.stats``) as in-run baselines;
* ``harmonybridge sudden-gains FILE --cutoff 7 --out OUT`` on 100,000 clients x 20
  sessions (``--quick``: 10,000), against the engine alone in this process (data already
  in memory) and pandas' own ``read_csv`` of the same file.

Issue 14, "today" on the 2-core build machine: ``--version``/``--help`` 2.05 s, target
< 0.3 s; ``sudden-gains`` 2.8 s end to end (engine 0.3 s), target < 1.2 s. Wall time on a
shared machine moves with its load, so CPU time (user + system) is printed beside it.

Run: ``.venv/bin/python benchmarks/cli.py [--quick]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sudden_gains import simulate  # the same data as the engine benchmark

BIN = Path(sys.executable).parent


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``cmd`` run ``repeat`` times."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = os.times()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        after = os.times()
        cpus.append(
            after.children_user
            - before.children_user
            + after.children_system
            - before.children_system
        )
    return statistics.median(walls), statistics.median(cpus)


def line(label: str, wall: float, cpu: float, extra: str = "") -> None:
    print(f"  {label:<44} {wall:6.3f} s wall  {cpu:6.3f} s CPU  {extra}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 clients")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    hb = str(BIN / "harmonybridge")
    py = sys.executable

    print("start-up (today 2.05 s; target < 0.3 s)")
    base_wall, base_cpu = timed([py, "-c", "pass"], args.repeat)
    line("baseline: python -c pass", base_wall, base_cpu)
    old_wall, old_cpu = timed([py, "-c", "import pandas, scipy.stats"], args.repeat)
    line("baseline: import pandas, scipy.stats", old_wall, old_cpu)
    for flag in ("--version", "--help"):
        wall, cpu = timed([hb, flag], args.repeat)
        verdict = "met" if wall < 0.3 else "MISSED"
        line(
            f"harmonybridge {flag}",
            wall,
            cpu,
            f"{wall / old_wall:.2f}x the old imports; target < 0.3 s: {verdict}",
        )

    n_clients = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory(prefix="hb-cli-bench-") as tmp:
        path, out = Path(tmp) / "long.csv", Path(tmp) / "gains.csv"
        simulate(n_clients).to_csv(path, index=False)
        n_rows = n_clients * 20
        print(
            f"sudden-gains, {n_clients:,} clients, {n_rows:,} rows "
            "(today 2.8 s, engine 0.3 s; target < 1.2 s)"
        )
        import pandas as pd

        from harmonybridge.change import sudden_gains

        c0, t0 = time.process_time(), time.perf_counter()
        frame = pd.read_csv(path)
        line("baseline: pandas.read_csv in-process", time.perf_counter() - t0,
             time.process_time() - c0)  # fmt: skip
        c0, t0 = time.process_time(), time.perf_counter()
        gains = sudden_gains(frame, id="client_id", cutoff=7)
        engine = time.perf_counter() - t0
        line("baseline: the engine alone in-process", engine,
             time.process_time() - c0, f"({len(gains):,} gains)")  # fmt: skip
        wall, cpu = timed(
            [hb, "sudden-gains", str(path), "--cutoff", "7", "--out", str(out)],
            max(1, args.repeat // 2),
        )
        verdict = "met" if wall < 1.2 else "MISSED"
        line(
            "harmonybridge sudden-gains, end to end",
            wall,
            cpu,
            f"{wall / engine:.1f}x the engine; target < 1.2 s: {verdict}",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
