"""The ``sudden-gains`` and ``reliable-change`` subcommands (through ``cli.main``)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from harmonybridge.cli import main

SGDATA = Path(__file__).parent / "reference" / "sudden_gains" / "sgdata.csv"


@pytest.fixture
def sg_csv(tmp_path):
    """sgdata clients 1-5, BDI sessions 1..12, long, missing scores as empty fields."""
    wide = pd.read_csv(SGDATA, na_values="NA").head(5)
    columns = [f"bdi_s{s}" for s in range(1, 13)]
    long = wide.melt(
        id_vars="id", value_vars=columns, var_name="column", value_name="bdi"
    )
    long["visit"] = long["column"].str.removeprefix("bdi_s").astype(int)
    path = tmp_path / "sg.csv"
    long.rename(columns={"id": "pid"})[["pid", "visit", "bdi"]].to_csv(
        path, index=False
    )
    return path


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


SG_ARGS = ["--id", "pid", "--time", "visit", "--score", "bdi", "--cutoff", "7"]


def test_sudden_gains_csv(capsys, sg_csv):
    code, out, _err = _run(
        capsys, ["sudden-gains", str(sg_csv), *SG_ARGS, "--engine", "suddengains"]
    )
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    # R create_bysg expectations for ids 1-5 (reference/sudden_gains/r_create_bysg_expected.csv)
    assert table[["pid", "pregain_session"]].values.tolist() == [
        [1, 3],
        [1, 7],
        [3, 8],
        [4, 3],
        [5, 3],
        [5, 8],
    ]
    assert table.columns[0] == "pid"
    # client 3, gain 8->9: score_n_minus1 (session 7) is missing -> empty field
    line = next(ln for ln in out.splitlines() if ln.startswith("3,8,"))
    assert ",," in line


def test_sudden_gains_byperson_and_intervals(capsys, sg_csv):
    code, out, _ = _run(
        capsys, ["sudden-gains", str(sg_csv), *SG_ARGS, "--byperson", "largest"]
    )
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert table["pid"].tolist() == [1, 2, 3, 4, 5]
    assert table["n_gains"].tolist() == [2, 0, 1, 1, 2]
    # client 2 has no gain: empty fields
    assert out.splitlines()[2].startswith("2,,,0,,")
    code, out, _ = _run(capsys, ["sudden-gains", str(sg_csv), *SG_ARGS, "--intervals"])
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert len(table) == 5 * 9  # 12 sessions -> intervals 2->3 ... 10->11
    assert list(table.columns)[3:6] == ["crit1", "crit2", "crit3"]


def test_sudden_gains_options_and_out_file(capsys, sg_csv, tmp_path):
    target = tmp_path / "out.csv"
    argv = [
        "sudden-gains", str(sg_csv), *SG_ARGS[:-2], "--cutoff", "-7", "--losses",
        "--engine", "suddengains", "--no-crit3", "--pct", "0.25", "--tx-start", "2",
        "--tx-end", "11", "--out", str(target),
    ]  # fmt: skip
    code, out, _err = _run(capsys, argv)
    assert code == 0
    assert out == ""
    table = pd.read_csv(target)
    assert list(table.columns)[:2] == ["pid", "pregain_session"]


def test_sudden_gains_no_gains_warns_one_line(capsys, tmp_path):
    path = tmp_path / "flat.csv"
    pd.DataFrame({"client_id": 1, "session": range(1, 6), "score": 10}).to_csv(
        path, index=False
    )
    code, out, err = _run(capsys, ["sudden-gains", str(path), "--cutoff", "7"])
    assert code == 0
    assert err.strip() == "harmonybridge: warning: No sudden gains were identified."
    assert out.strip().split(",")[0] == "client_id"  # header only


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--cutoff", "-7"], "positive size"),
        (["--cutoff", "7", "--score", "nope"], "'nope'"),
        (["--cutoff", "7", "--tx-start", "x"], "--tx-start"),
        (["--cutoff", "7", "--engine", "suddengains", "--losses"], "negative"),
    ],
)
def test_sudden_gains_bad_input_exit_2_one_line(capsys, sg_csv, extra, match):
    argv = [
        "sudden-gains",
        str(sg_csv),
        "--id",
        "pid",
        "--time",
        "visit",
        "--score",
        "bdi",
        *extra,
    ]
    code, _out, err = _run(capsys, argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert match in err


def test_bad_files_exit_2(capsys, tmp_path):
    code, _, err = _run(
        capsys, ["sudden-gains", str(tmp_path / "missing.csv"), "--cutoff", "7"]
    )
    assert code == 2
    assert "no such file" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = _run(capsys, ["reliable-change", str(empty), "--rc-value", "6"])
    assert code == 2
    assert len(err.strip().splitlines()) == 1


def test_mutually_exclusive_tables(capsys, sg_csv):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "sudden-gains",
                str(sg_csv),
                *SG_ARGS,
                "--byperson",
                "first",
                "--intervals",
            ]
        )
    assert exc.value.code == 2


@pytest.fixture
def rc_csv(tmp_path):
    path = tmp_path / "rc.csv"
    rows = [(1, 1, 20), (1, 2, 5), (2, 1, 12), (2, 2, 15), (3, 1, 7), (3, 2, None)]
    pd.DataFrame(rows, columns=["client_id", "session", "score"]).to_csv(
        path, index=False
    )
    return path


def test_reliable_change_csv(capsys, rc_csv):
    # sd 1, reliability .5 -> S_diff 1, RCI = post - pre; lower is better, cut-off 10:
    # 20 -> 5 recovered; 12 -> 15 (RCI 3, clinical before and after) deteriorated;
    # client 3 has one score: missing category, reported with a warning.
    argv = ["reliable-change", str(rc_csv), "--sd", "1", "--reliability", "0.5",
            "--cutoff", "10", "--lower-is-better"]  # fmt: skip
    code, out, err = _run(capsys, argv)
    assert code == 0
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert table["category"].tolist() == ["recovered", "deteriorated", ""]
    assert list(table.columns) == [
        "client_id", "pre", "post", "rci", "s_diff", "category", "sd_source",
        "reliability_source", "criterion",
    ]  # fmt: skip
    assert err.startswith(
        "harmonybridge: warning: 0 series have no observed score and 1"
    )


def test_reliable_change_rc_value_and_z(capsys, rc_csv):
    argv = ["reliable-change", str(rc_csv), "--rc-value", "6", "--cutoff", "10",
            "--lower-is-better", "--z", "2"]  # fmt: skip
    code, out, _ = _run(capsys, argv)
    assert code == 0
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    # drop of 15 >= 6 recovered; rise of 3 < 6 unchanged
    assert table["category"].tolist()[:2] == ["recovered", "unchanged"]
    assert table["rci"].tolist()[:2] == ["", ""]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--sd", "1", "--reliability", "0.5", "--cutoff", "10"], "higher_is_better"),
        (["--sd", "big", "--reliability", "0.5"], "--sd"),
        (["--rc-value", "6", "--lower-is-better"], "cutoff is required"),
    ],
)
def test_reliable_change_bad_input(capsys, rc_csv, extra, match):
    code, _, err = _run(capsys, ["reliable-change", str(rc_csv), *extra])
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert match in err


def test_a_key_column_named_twice_is_a_one_line_error(capsys, sg_csv):
    """``--id pid,pid`` ended in a pandas traceback ("Cannot create duplicate column
    labels")."""
    args = ["--id", "pid,pid", "--time", "visit", "--score", "bdi", "--cutoff", "7"]
    code, out, err = _run(capsys, ["sudden-gains", str(sg_csv), *args])
    assert code == 2
    assert out == ""
    assert "--id names 'pid' more than once" in err
    assert "Traceback" not in err


def test_an_unexpected_fault_is_one_line_not_a_traceback(capsys, sg_csv, monkeypatch):
    """Nothing ever shows a traceback to a user: a fault nobody foresaw is reported in one
    line with the way to see the details (HB_DEBUG=1), exit status 70 (EX_SOFTWARE)."""
    from harmonybridge import _cli_change

    def broken(args):
        raise ValueError("something inside went wrong")

    monkeypatch.setattr(_cli_change, "_sudden_gains", broken)
    monkeypatch.delenv("HB_DEBUG", raising=False)
    code, _out, err = _run(capsys, ["sudden-gains", str(sg_csv), *SG_ARGS])
    assert code == 70
    assert err.count("\n") == 1
    assert "internal error (ValueError: something inside went wrong)" in err
    assert "HB_DEBUG=1" in err
    assert "Traceback" not in err
    monkeypatch.setenv("HB_DEBUG", "1")
    with pytest.raises(ValueError, match="something inside"):
        main(["sudden-gains", str(sg_csv), *SG_ARGS])
