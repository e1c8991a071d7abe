"""A web process is warmed when it starts, so the first dashboard does not pay for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

_PROBE = """
import json, logging, sys, time
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
t0 = time.perf_counter()
import harmonybridge.web.wsgi  # what gunicorn imports
loaded = sorted(
    m for m in ("pandas", "scipy.stats", "statsmodels", "harmonybridge.change.ruptures",
                "harmonybridge.change.trajectories", "harmonybridge.web.insights.panel",
                "harmonybridge.reports.charts")
    if m in sys.modules
)
print(json.dumps(loaded))
"""


def _run(tmp_path, **env: str) -> tuple[list[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "HB_MODE": "demo",
            "HB_DATA_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "harmonybridge.web.settings",
            **env,
        },
    )
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_the_wsgi_process_is_warmed_before_it_serves(tmp_path) -> None:
    loaded, log = _run(tmp_path)
    assert loaded == sorted(
        [
            "pandas",
            "scipy.stats",
            "harmonybridge.change.ruptures",
            "harmonybridge.change.trajectories",
            "harmonybridge.web.insights.panel",
            "harmonybridge.reports.charts",
        ]
    )
    assert "process warmed in" in log
    assert "warm-up of the analyses failed" not in log


def test_warm_up_can_be_switched_off(tmp_path) -> None:
    loaded, log = _run(tmp_path, HB_WARMUP="0")
    assert "harmonybridge.change.ruptures" not in loaded
    assert "process warmed in" not in log
