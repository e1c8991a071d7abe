"""Tests of the ``harmonybridge ruptures`` command line."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from harmonybridge.cli import main


def _write(tmp_path, seqs, name="data.csv"):
    rows = [
        {"client_id": cid, "session": i, "score": v, "rater_role": "client"}
        for cid, seq in seqs.items()
        for i, v in enumerate(seq, start=1)
    ]
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_cli_writes_events_csv(tmp_path, capsys):
    # V-shaped case of test_ruptures: onset 4, repaired at 5, baseline 4.1.
    path = _write(tmp_path, {"007": [4.0, 4.2, 4.1, 3.0, 4.1, 4.2], "b": [3.0, 3.0]})
    rc = main(["ruptures", str(path), "--id", "client_id", "--reference-sd", "0.3"])
    assert rc == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"client_id": str})
    assert list(out["client_id"]) == ["007"]  # the key keeps its leading zeros
    assert (out.loc[0, "onset_session"], out.loc[0, "repair_session"]) == (4, 5)
    assert out.loc[0, "type"] == "V"


def test_cli_options_reach_the_function(tmp_path, capsys):
    # Same series, Strauss-like preset (1 SD, retrospective): see test_ruptures.
    path = _write(tmp_path, {"a": [3.6, 4.4, 3.6, 4.4, 3.4, 4.4]})
    out_path = tmp_path / "events.csv"
    rc = main(
        [
            "ruptures",
            str(path),
            "--id",
            "client_id",
            "--preset",
            "strauss2006",
            "--out",
            str(out_path),
        ]
    )
    assert rc == 0
    out = pd.read_csv(out_path)
    assert list(out["onset_session"]) == [5]
    rc = main(["ruptures", str(path), "--id", "client_id", "--preset", "stiles2004"])
    assert rc == 0
    assert pd.read_csv(io.StringIO(capsys.readouterr().out)).empty


def test_cli_censored_has_empty_repair(tmp_path, capsys):
    path = _write(tmp_path, {"a": [4.0, 4.2, 4.1, 3.0, 3.1]})
    main(["ruptures", str(path), "--id", "client_id", "--reference-sd", "0.3"])
    lines = capsys.readouterr().out.strip().splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    assert row[header.index("repair_session")] == ""
    assert row[header.index("type")] == "censored"


def test_cli_reference_file(tmp_path, capsys):
    path = _write(tmp_path, {"a": [4.0, 4.2, 4.1, 3.0, 4.1]})
    ref = _write(tmp_path, {"r1": [1, 2, 3], "r2": [2, 4]}, name="ref.csv")
    rc = main(
        [
            "ruptures",
            str(path),
            "--id",
            "client_id",
            "--reference",
            str(ref),
            "--sd-source",
            "pooled",
        ]
    )
    assert rc == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    # pooled SD sqrt(4/3) = 1.1547 -> threshold 2.309 > drop 1.1: no event.
    assert out.empty


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--id", "nope"], "nope"),
        (["--id", "client_id", "--sd-source", "pooled"], "reference_sd"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, needle):
    path = _write(tmp_path, {"a": [4.0, 4.2, 4.1, 3.0]})
    assert main(["ruptures", str(path), *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert len(err.strip().splitlines()) == 1
