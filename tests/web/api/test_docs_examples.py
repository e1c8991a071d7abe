"""docs/api.md: the Python example runs against a live server as its own process; the R
example parses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harmonybridge.web.api import tokens
from harmonybridge.web.checkins.models import Response
from tests.web import factories

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def _block(language: str) -> str:
    (code,) = re.findall(
        rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S
    )
    return code


@pytest.mark.django_db(transaction=True)
def test_python_example_runs(live_server, tmp_path):
    practitioner = factories.make_practitioner()
    _t, plain = tokens.issue(practitioner, "docs", ["read", "write"], 30)
    script = tmp_path / "example.py"
    script.write_text(_block("python"), encoding="utf-8")
    env = {**os.environ, "HB_URL": live_server.url, "HB_TOKEN": plain}
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "PHQ-9 total: 9.0" in done.stdout
    # the example's session is in person, so its video filter selects no engagement
    assert "Insights: 0 engagements with scores, 0 practitioners." in done.stdout
    assert Response.objects.filter(channel="api", instrument_id="phq9").count() == 1


def test_r_example_parses(tmp_path):
    script = tmp_path / "example.R"
    script.write_text(_block("r"), encoding="utf-8")
    done = subprocess.run(
        ["Rscript", "-e", f"invisible(parse(file = '{script}'))"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
