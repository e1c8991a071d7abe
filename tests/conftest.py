"""Skips are counted and must be listed: tests fail, they do not skip.

Every skipped test is printed at the end of the run with its reason; a reason not listed
in tests/allowed_skips.txt makes the run fail (exit status 1), so a "not landed yet"
guard cannot hide a broken feature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("pytester",)

ALLOWED_FILE = Path(__file__).with_name("allowed_skips.txt")


def allowed_reasons() -> set[str]:
    lines = ALLOWED_FILE.read_text(encoding="utf-8").splitlines()
    return {
        line.split("  # ", 1)[0].strip()
        for line in lines
        if line.strip() and not line.startswith("#")
    }


def skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return str(reason).removeprefix("Skipped: ")


_skipped: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append((report.nodeid, skip_reason(report)))


def _unlisted() -> list[tuple[str, str]]:
    allowed = allowed_reasons()
    return [(node, why) for node, why in _skipped if why not in allowed]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    unlisted = _unlisted()
    terminalreporter.write_line(
        f"skipped tests: {len(_skipped)} ({len(unlisted)} for a reason not listed "
        f"in tests/{ALLOWED_FILE.name})"
    )
    for node, why in unlisted:
        terminalreporter.write_line(f"  NOT ALLOWED: {node}: {why}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unlisted() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
