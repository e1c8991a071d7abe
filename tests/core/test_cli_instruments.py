"""Command line: instruments list|show|fhir and score, with one-line errors and exit 2."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from harmonybridge.cli import main

PHQ9_CSV = (
    "response_id,client_id,item,value\n"
    + "".join(
        f"1,c1,{n},{v}\n"
        for n, v in zip(range(1, 10), [2, 3, 1, "", 0, 1, 1, 1, 1], strict=True)
    )
    + "".join(f"2,c2,{n},0\n" for n in range(1, 10))
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_ids_roles_licence_and_not_validated(capsys):
    code, out, _ = run(capsys, "instruments", "list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert len(lines) == 13  # 12 shipped at first, the PHQ-4 (brief plan) added
    assert lines["phq4"].split()[1:3] == ["client", "A"]
    assert lines["wai_sr"].split()[1:3] == ["client", "C"]
    assert lines["wai_sr_t"].split()[1:3] == ["practitioner", "C"]
    assert "not a validated instrument" in lines["hb_checkin"]
    assert "not a validated instrument" not in lines["phq9"]


def test_list_json(capsys):
    code, out, _ = run(capsys, "instruments", "list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["sai"]["licence_class"] == "C"
    assert rows["hb_checkin_practitioner"]["validated"] is False


def test_show_text_and_json(capsys):
    code, out, _ = run(capsys, "instruments", "show", "phq9")
    assert code == 0
    assert "Little interest or pleasure in doing things" in out
    assert "Safety: item 9 > 0" in out
    code, out, _ = run(capsys, "instruments", "show", "wai_sr", "--json")
    data = json.loads(out)
    assert data["licence"]["class"] == "C"
    assert data["subscales"] == ["goal", "task", "bond"]
    assert all(item["text"] == {} for item in data["items"])


def test_fhir_prints_a_valid_questionnaire(capsys):
    code, out, _ = run(capsys, "instruments", "fhir", "phq9")
    assert code == 0
    Questionnaire.model_validate(json.loads(out))
    assert json.loads(out)["id"] == "phq9"


def test_score_writes_one_row_per_response(capsys, tmp_path):
    path = tmp_path / "phq9.csv"
    path.write_text(PHQ9_CSV, encoding="utf-8")
    code, out, _ = run(capsys, "score", "phq9", str(path))
    assert code == 0
    scores = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert list(scores.columns) == [
        "response_id", "client_id", "instrument", "total", "n_missing", "prorated",
        "band", "clinical", "safety",
    ]  # fmt: skip
    # response 1: 8 answered, sum 2+3+1+0+1+1+1+1 = 10; 10 * 9 / 8 = 11.25
    assert scores.loc[0, "total"] == 11.25
    assert scores.loc[0, ["n_missing", "prorated", "band", "safety"]].tolist() == [
        1, True, "moderate", True,
    ]  # fmt: skip
    assert scores.loc[1, ["total", "band", "safety"]].tolist() == [0, "minimal", False]


def test_score_out_file_and_empty_fields_for_missing(capsys, tmp_path):
    path = tmp_path / "who5.csv"
    path.write_text("response_id,item,value\n1,1,5\n1,2,\n", encoding="utf-8")
    out_path = tmp_path / "scores.csv"
    code, out, _ = run(capsys, "score", "who5", str(path), "--out", str(out_path))
    assert (code, out) == (0, "")
    line = out_path.read_text(encoding="utf-8").splitlines()[1]
    assert line == "1,who5,,4,False,,,False"  # no total: empty total, band, clinical


@pytest.mark.parametrize(
    ("csv", "words"),
    [
        ("response_id,item,value\n1,12,1\n", ["no item 12"]),
        (
            "response_id,item,value\n1,1,4\n",
            ["item 1", "value 4", "allowed: 0, 1, 2, 3"],
        ),
        ("response_id,item,value\n1,1,often\n", ["'value'", "'often'"]),
        ("response_id,item,value\n1,1,1\n1,1,2\n", ["duplicate", "item 1"]),
        ("response_id,question,value\n1,1,1\n", ["no column 'item'"]),
        ("response_id,instrument,item,value\n1,gad7,1,1\n", ["'gad7'", "'phq9'"]),
        ("", ["empty"]),
    ],
)
def test_score_bad_input_is_one_line_and_exit_2(capsys, tmp_path, csv, words):
    path = tmp_path / "bad.csv"
    path.write_text(csv, encoding="utf-8")
    code, out, err = run(capsys, "score", "phq9", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    for word in words:
        assert word in err


def test_unknown_instrument_and_missing_file_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "instruments", "show", "phq8")
    assert code == 2
    assert "unknown instrument 'phq8'" in err
    code, _, err = run(capsys, "score", "phq9", str(tmp_path / "nope.csv"))
    assert code == 2
    assert "no such file" in err


def test_wording_option_for_class_c(capsys, tmp_path):
    wording = tmp_path / "sai_wording.toml"
    wording.write_text(
        'instrument = "sai"\nversion = "1.0"\n[items]\n'
        + "".join(f'{n} = {{ en = "Placeholder {n}" }}\n' for n in range(1, 7))
        + "[scales.agreement]\nmin = 1\nmax = 7\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "instruments", "fhir", "sai", "--wording", str(wording))
    assert code == 0
    assert json.loads(out)["item"][0]["text"] == "Placeholder 1"
    answers = tmp_path / "sai.csv"
    answers.write_text(
        "response_id,item,value\n" + "".join(f"1,{n},7\n" for n in range(1, 7)),
        encoding="utf-8",
    )
    code, _, err = run(capsys, "score", "sai", str(answers))
    assert code == 2  # 7 is off the shipped (unverified) 0-6 scale
    assert "allowed: 0, 1, 2, 3, 4, 5, 6" in err
    code, out, _ = run(capsys, "score", "sai", str(answers), "--wording", str(wording))
    assert code == 0
    assert pd.read_csv(io.StringIO(out))["total"].tolist() == [7.0]  # mean of six 7s
