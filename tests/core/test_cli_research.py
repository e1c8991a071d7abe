"""``harmonybridge export-research``: a research export zip from long CSV files."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from harmonybridge.cli import main
from harmonybridge.datasets import simulate_practice
from harmonybridge.research import CONTENTS


@pytest.fixture(scope="module")
def items_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "long.csv"
    simulate_practice(n_clients=30, n_sessions=10, seed=3).items.to_csv(
        path, index=False
    )
    return path


def _project(tmp_path, k: int = 5) -> str:
    (tmp_path / "key.hex").write_text("ab" * 32)
    path = tmp_path / "project.toml"
    path.write_text(
        'id = "cli-study"\ninstruments = ["phq9", "hb_checkin"]\n'
        f"period_start = 2000-01-01\nperiod_end = 2100-01-01\nk = {k}\n"
        'key_file = "key.hex"\n'
    )
    return str(path)


def test_export_research_writes_the_zip(items_csv, tmp_path, capsys) -> None:
    out = tmp_path / "x.zip"
    code = main(["export-research", str(items_csv), "--project", _project(tmp_path),
                 "--out", str(out), "--left-out", "no research consent=2"])  # fmt: skip
    assert code == 0
    assert sorted(zipfile.ZipFile(out).namelist()) == sorted(n for n, _ in CONTENTS)
    with zipfile.ZipFile(out) as zf:
        readme = zf.read("README.md").decode()
        scores = pd.read_csv(zf.open("scores.csv"), keep_default_na=False)
    assert "no research consent: 2" in readme
    assert set(scores["instrument"]) == {"phq9", "hb_checkin"}
    assert {"", "goal", "rupture_present"} <= set(scores["subscale"])
    assert "clients:" in capsys.readouterr().out


def test_export_research_error_is_one_line_exit_2(items_csv, tmp_path, capsys) -> None:
    code = main(["export-research", str(items_csv), "--project", _project(tmp_path, k=500),
                 "--out", str(tmp_path / "x.zip")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "fewer than the project's minimum cell size k = 500" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.zip").exists()


def test_export_research_bad_left_out(items_csv, tmp_path, capsys) -> None:
    code = main(["export-research", str(items_csv), "--project", _project(tmp_path),
                 "--out", str(tmp_path / "x.zip"), "--left-out", "three"])  # fmt: skip
    assert code == 2
    assert "give REASON=N" in capsys.readouterr().err
