"""tests/conftest.py: a skip for a reason not listed in tests/allowed_skips.txt fails the run."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest((TESTS / "conftest.py").read_text(encoding="utf-8"))
    (pytester.path / "allowed_skips.txt").write_text(
        (TESTS / "allowed_skips.txt").read_text(encoding="utf-8")
    )
    return pytester


def test_an_unlisted_skip_fails_the_run(inner):
    # the planted test skips for a reason that tests/allowed_skips.txt does not list
    reason = "a reason nobody listed"
    inner.makepyfile(
        f"import pytest\ndef test_planted():\n    pytest.skip({reason!r})\n"
    )
    result = inner.runpytest_subprocess("-p", "no:randomly", "-p", "no:django")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["skipped tests: 1 (1 for a reason not listed*", "*NOT ALLOWED*nobody listed"]
    )


def test_a_listed_skip_is_counted_and_passes(inner):
    inner.makepyfile(
        "import pytest\n"
        "def test_browser():\n"
        "    pytest.skip('chromium not installed')\n"
        "def test_ok():\n"
        "    assert True\n"
    )
    result = inner.runpytest_subprocess("-p", "no:randomly", "-p", "no:django")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["skipped tests: 1 (0 for a reason not listed*"])


def test_database_tests_only_keeps_exactly_the_tests_that_use_the_database(inner):
    """The PostgreSQL pass (``--database-tests-only``) runs every test that uses the test
    database (marker, fixture or a fixture built on one) and leaves out only the rest."""
    inner.makepyfile(
        "import pytest\n"
        "@pytest.fixture\n"
        "def db():\n"
        "    return 'the test database'\n"
        "@pytest.fixture\n"
        "def practitioner(db):\n"
        "    return db\n"
        "@pytest.mark.django_db\n"
        "def test_marked():\n"
        "    pass\n"
        "def test_with_db(db):\n"
        "    pass\n"
        "def test_through_a_fixture(practitioner):\n"
        "    pass\n"
        "def test_pure():\n"
        "    pass\n"
    )
    inner.makeini("[pytest]\nmarkers =\n  django_db: test database\n  postgres: pg\n")
    result = inner.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:django", "-v", "--database-tests-only"
    )
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3, deselected=1)
    result.stdout.fnmatch_lines(["*test_marked PASSED*"])
    result.stdout.no_fnmatch_line("*test_pure*")
    everything = inner.runpytest_subprocess("-p", "no:randomly", "-p", "no:django")
    everything.assert_outcomes(passed=4)
