"""Benchmark: the whole research export zip against a plain ``DataFrame.to_csv``.

Simulates a practice of about 10,000 engagements x 20 sessions with
``harmonybridge.datasets.simulate_practice`` (item and score frames; generation
is not timed), then, each in its own child process so that each peak memory is
its own, (a) writes the item-level long frame with plain ``DataFrame.to_csv``
and (b) writes the whole research export zip (CSV, Parquet, SPSS, codebook,
FHIR NDJSON) with ``write_research_export``. Prints both wall and CPU times,
their ratios (target < 6x) and the export's peak memory (target < 2 GB; the
child's peak resident set after loading its input, input frames included).
About 3.5 million item rows: the simulated practice misses sessions and gives
each client only the instruments of their service line.

Run: ``.venv/bin/python benchmarks/research_export.py [--quick]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harmonybridge.datasets import simulate_practice
from harmonybridge.research import ResearchProject, write_research_export

INSTRUMENTS = ("phq9", "gad7", "who5", "swls", "fs", "goal_progress", "hb_checkin",
               "hb_checkin_practitioner")  # fmt: skip


def _child(mode: str, work: Path) -> None:
    with open(work / "frames.pkl", "rb") as fh:
        items, scores = pickle.load(fh)
    loaded = _status("VmRSS")
    # unpickling briefly holds two copies; start the peak count after it (Linux
    # resets VmHWM, the peak resident set, when 5 is written to clear_refs)
    Path("/proc/self/clear_refs").write_text("5")
    start, cpu = time.perf_counter(), time.process_time()
    if mode == "to_csv":
        items.to_csv(work / "plain.csv", index=False)
    else:
        project = ResearchProject(
            id="bench", key=b"benchmark-key-0123456789abcdef", instruments=INSTRUMENTS,
            period=(dt.date(2000, 1, 1), dt.date(2100, 1, 1)), k=5,
        )  # fmt: skip
        write_research_export(items, scores, project, work / "export.zip")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _status("VmHWM")
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak": peak, "loaded": loaded}))


def _status(field: str) -> int:
    """A memory figure of this process in bytes (``VmRSS`` now, ``VmHWM`` peak; Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def _run(mode: str, work: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(work)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 500 engagements")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return
    n_clients = 700 if args.quick else 14_500
    practice = simulate_practice(n_practitioners=60, n_clients=n_clients, n_sessions=20,
                                 seed=7, stories=False)  # fmt: skip
    items, scores = practice.items, practice.scores
    print(f"{len(practice.engagements):,} engagements, {items['response_id'].nunique():,} "
          f"responses, {len(items):,} item rows, {len(scores):,} score rows")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hb-bench-") as tmp:
        work = Path(tmp)
        with open(work / "frames.pkl", "wb") as fh:
            pickle.dump((items, scores), fh, protocol=pickle.HIGHEST_PROTOCOL)
        del practice, items, scores
        plain = _run("to_csv", work)
        export = _run("export", work)
        size = (work / "export.zip").stat().st_size
    gb = 2**30
    for name, run in (("plain DataFrame.to_csv of the item frame", plain),
                      (f"research export zip ({size / 2**20:,.0f} MB)", export)):  # fmt: skip
        print(
            f"{name}: {run['seconds']:.1f} s wall, {run['cpu']:.1f} s CPU, peak "
            f"{run['peak'] / gb:.2f} GB (input frames loaded: {run['loaded'] / gb:.2f} GB)"
        )
    # CPU time is the fairer ratio on a shared machine: other processes stretch the
    # wall time of whichever run they overlap
    print(
        f"ratio: {export['seconds'] / plain['seconds']:.2f}x wall, "
        f"{export['cpu'] / plain['cpu']:.2f}x CPU (target < 6x)"
    )
    print(
        f"peak memory of the export: {export['peak'] / gb:.2f} GB (target < 2 GB), "
        f"{(export['peak'] - export['loaded']) / gb:.2f} GB above its input frames"
    )


if __name__ == "__main__":
    main()
