"""Skips are counted and must be listed: tests fail, they do not skip.

Every skipped test is printed at the end of the run with its reason; a reason not listed
in tests/allowed_skips.txt makes the run fail (exit status 1), so a "not landed yet"
guard cannot hide a broken feature.

``--database-tests-only`` (the PostgreSQL pass of ``make test``) runs only the tests that
use the test database; the others do not depend on it and ran in the SQLite pass.
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

# Fixtures that give a test the test database (pytest-django's, and so every fixture
# built on them: ``item.fixturenames`` is the closure).
_DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "live_server", "django_db_reset_sequences",
     "django_db_serialized_rollback"}
)  # fmt: skip


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the test database (the second database's "
        "pass: a test without it, e.g. one whose child process runs on its own SQLite "
        "file, would only repeat the first pass)",
    )


def uses_test_database(item: pytest.Item) -> bool:
    return bool(
        item.get_closest_marker("django_db")
        or item.get_closest_marker("postgres")
        or _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("--database-tests-only"):
        return
    other = [item for item in items if not uses_test_database(item)]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if uses_test_database(item)]


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
