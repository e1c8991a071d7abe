"""Building the parser, ``--help`` and ``--version`` load no heavy library.

Each probe runs in a fresh interpreter (the test process has pandas loaded already)
and lists which of the heavy packages ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "scipy", "statsmodels", "django", "numpy", "pyarrow")

_PROBE = """
import contextlib, io, json, sys
import harmonybridge.cli as cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = {call}
    except SystemExit as exc:
        code = exc.code
code = code if isinstance(code, int) else None
heavy = {heavy!r}
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))
print(json.dumps([code, out.getvalue(), loaded]))
"""


def _probe(call: str) -> tuple[object, str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(call=call, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    code, text, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    return code, text, loaded


@pytest.mark.parametrize(
    ("call", "expected_code", "expected_text"),
    [
        ("cli.build_parser()", None, ""),
        ('cli.main(["--version"])', 0, "harmonybridge 0.1"),
        ('cli.main(["--help"])', 0, "sudden-gains"),
        ('cli.main(["sudden-gains", "--help"])', 0, "--cutoff"),
        ('cli.main(["ruptures", "--help"])', 0, "--baseline"),
        ('cli.main(["analyze", "--help"])', 0, "--report"),
        ('cli.main(["instruments", "--help"])', 0, "fhir"),
    ],
)
def test_parser_and_help_import_no_heavy_library(
    call: str, expected_code: object, expected_text: str
) -> None:
    code, text, loaded = _probe(call)
    assert loaded == []
    if expected_code is not None:
        assert code == expected_code
    assert expected_text in text


def test_a_real_command_still_loads_what_it_needs(tmp_path) -> None:
    # the control: the probe does see pandas when a command reads a file
    path = tmp_path / "s.csv"
    path.write_text("client_id,session,score\na,1,20\na,2,10\na,3,9\na,4,8\n")
    code, text, loaded = _probe(
        f'cli.main(["sudden-gains", {str(path)!r}, "--cutoff", "5", "--no-crit3"])'
    )
    assert code == 0
    assert "pandas" in loaded
    assert text.splitlines()[0].startswith("client_id")


def test_sudden_gains_loads_neither_scipy_nor_statsmodels(tmp_path) -> None:
    # issue 14: importing scipy.special for three t quantiles doubled the command's
    # start-up; criterion 3 (on here) uses the closed forms of _sg_core.t_upper
    path = tmp_path / "s.csv"
    rows = [f"a,{s},{v}" for s, v in enumerate([30, 29, 31, 12, 11, 10], start=1)]
    path.write_text("client_id,session,score\n" + "\n".join(rows) + "\n")
    code, text, loaded = _probe(
        f'cli.main(["sudden-gains", {str(path)!r}, "--cutoff", "5"])'
    )
    assert code == 0
    assert text.splitlines()[1].startswith("a,3,4,1,")  # the gain 31 -> 12 is found
    assert not {"scipy", "statsmodels", "django"} & set(loaded)
