"""Benchmark: command-line start-up and ``sudden-gains`` on a 2M-row long CSV, end to end.

Times, each in a fresh process (best and median of ``--repeat`` runs):

* ``harmonybridge --version`` and ``--help``, against the bare interpreter
  (``python -c pass``) and against importing what the parser used to import
  (``pandas, scipy.stats``) as in-run baselines;
* ``harmonybridge sudden-gains FILE --cutoff 7 --out OUT`` for both engines on 100,000
  clients x 20 sessions (``--quick``: 10,000), against two in-run baselines: importing
  numpy, pandas and pyarrow (the floor of any command that reads with pyarrow into
  pandas) and that plus reading the file. The stages (read, engine with validation and
  reshape, write) are also timed in this process.

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
#: Child processes cache bytecode, as an installed package has it (pip compiles on
#: install); an editable checkout run with PYTHONDONTWRITEBYTECODE=1 would compile every
#: harmonybridge module at each start (~0.1 s). The cache goes to a temporary directory.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], repeat: int) -> tuple[float, float, float]:
    """Best wall, best CPU (user + system) and median wall seconds of ``cmd``, ``repeat`` runs.

    The best run is the one least disturbed by whatever else the machine is doing.
    """
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)  # warm-up
    walls, cpus = [], []
    for _ in range(repeat):
        before = os.times()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
        walls.append(time.perf_counter() - t0)
        after = os.times()
        cpus.append(
            after.children_user
            - before.children_user
            + after.children_system
            - before.children_system
        )
    return min(walls), min(cpus), statistics.median(walls)


def line(label: str, wall: float, cpu: float, extra: str = "") -> None:
    print(f"  {label:<46} {wall:6.3f} s wall  {cpu:6.3f} s CPU  {extra}")


def stages(path: Path, out: Path, engine: str) -> None:
    """Read, engine (validation and reshape included) and write, timed in this process."""
    import warnings

    from harmonybridge._csv import read_csv, write_csv
    from harmonybridge.change import sudden_gains
    from harmonybridge.errors import HarmonyBridgeWarning

    parts = []
    c0, t0 = time.process_time(), time.perf_counter()
    frame = read_csv(str(path))
    parts.append(("read", time.perf_counter() - t0, time.process_time() - c0))
    c0, t0 = time.process_time(), time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        gains = sudden_gains(frame, id="client_id", cutoff=7, engine=engine)
    parts.append(("engine", time.perf_counter() - t0, time.process_time() - c0))
    c0, t0 = time.process_time(), time.perf_counter()
    write_csv(gains, str(out))
    parts.append(("write", time.perf_counter() - t0, time.process_time() - c0))
    shown = " | ".join(
        f"{name} {wall:.3f} s ({cpu:.3f} CPU)" for name, wall, cpu in parts
    )
    print(f"  stages in-process, {engine:<13} {shown}  [{len(gains):,} gains]")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 clients")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hb-cli-bench-pyc-") as pyc:
        ENV["PYTHONPYCACHEPREFIX"] = pyc
        return run(args)


def run(args: argparse.Namespace) -> int:
    hb = str(BIN / "harmonybridge")
    py = sys.executable
    print(
        f"best of {args.repeat} runs after a warm-up (wall and CPU each the best; "
        "median wall last); CPU = user + system of the child"
    )

    print("start-up (issue 14: today 2.05 s; target < 0.3 s)")
    base_wall, base_cpu, base_med = timed([py, "-c", "pass"], args.repeat)
    line("baseline: python -c pass", base_wall, base_cpu, f"median {base_med:.3f} s")
    old_wall, old_cpu, old_med = timed(
        [py, "-c", "import pandas, scipy.stats"], args.repeat
    )
    line(
        "baseline: import pandas, scipy.stats",
        old_wall,
        old_cpu,
        f"median {old_med:.3f} s",
    )
    for flag in ("--version", "--help"):
        wall, cpu, med = timed([hb, flag], args.repeat)
        verdict = "met" if wall < 0.3 else "MISSED"
        line(
            f"harmonybridge {flag}",
            wall,
            cpu,
            f"median {med:.3f} s; {wall / old_wall:.2f}x the old imports; "
            f"target < 0.3 s: {verdict}",
        )

    n_clients = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory(prefix="hb-cli-bench-") as tmp:
        path, out = Path(tmp) / "long.csv", Path(tmp) / "gains.csv"
        simulate(n_clients).to_csv(path, index=False)
        n_rows = n_clients * 20
        print(
            f"sudden-gains, {n_clients:,} clients, {n_rows:,} rows "
            "(issue 14: today 2.8 s end to end, engine 0.3 s; target < 1.2 s)"
        )
        floor = [py, "-c", "import numpy, pandas, pyarrow.csv"]
        fl_wall, fl_cpu, fl_med = timed(floor, args.repeat)
        line("baseline: import numpy, pandas, pyarrow.csv", fl_wall, fl_cpu,
             f"median {fl_med:.3f} s")  # fmt: skip
        read_only = [
            py,
            "-c",
            "import sys, pandas; from pyarrow import csv; "
            "csv.read_csv(sys.argv[1]).to_pandas()",
            str(path),
        ]
        rd_wall, rd_cpu, rd_med = timed(read_only, args.repeat)
        line("baseline: those imports + pyarrow reads the file", rd_wall, rd_cpu,
             f"median {rd_med:.3f} s")  # fmt: skip
        for engine in ("tang-derubeis", "suddengains"):
            stages(path, out, engine)
        for engine in ("tang-derubeis", "suddengains"):
            cmd = [hb, "sudden-gains", str(path), "--cutoff", "7", "--out", str(out)]
            wall, cpu, med = timed([*cmd, "--engine", engine], args.repeat)
            verdict = "met" if wall < 1.2 else "MISSED"
            line(
                f"harmonybridge sudden-gains --engine {engine}",
                wall,
                cpu,
                f"median {med:.3f} s; {wall / rd_wall:.2f}x the read-only process "
                f"({cpu / rd_cpu:.2f}x its CPU); today 2.8 s, target < 1.2 s: {verdict}",
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
