"""The research export zip: pseudonymised, allow-listed, every format readable back."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import zipfile
from pathlib import Path

import frictionless
import numpy as np
import pandas as pd
import pyreadstat
import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from harmonybridge.datasets import simulate_practice
from harmonybridge.fhir import questionnaire, validate_response
from harmonybridge.instruments import _loader, get
from harmonybridge.instruments._model import Item
from harmonybridge.research import (
    CONTENTS,
    ITEM_COLUMNS,
    POOLED,
    SCORE_COLUMNS,
    ResearchExportError,
    ResearchProject,
    load_project,
    pseudonym,
    write_research_export,
)

KEY = b"research-test-key-0123456789abcd"
INSTRUMENTS = ("phq9", "gad7", "hb_checkin", "hb_checkin_practitioner", "wai_sr")
PLANTED = ("Zelda Plantagenet", "confidential note: moved house", "zelda@example.org")


def _wai_rows(items: pd.DataFrame) -> pd.DataFrame:
    """WAI-SR (licence class C) answers for the first client's sessions."""
    first = items[(items["rater_role"] == "client") & (items["instrument"] == "phq9")]
    first = first.drop_duplicates(["engagement_id", "session", "respondent_id"]).head(6)
    rows = []
    for k, (_, row) in enumerate(first.iterrows()):
        for number in range(1, 13):
            rows.append(row.to_dict() | {"instrument": "wai_sr", "item": number,
                                         "value": float(1 + (k + number) % 5),
                                         "response_id": 10_000_000 + k})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def practice():
    sim = simulate_practice(n_clients=40, n_sessions=12, seed=1)
    items = pd.concat([sim.items, _wai_rows(sim.items)], ignore_index=True)
    names = sim.clients.set_index("client_id")["display_name"]
    # identifying columns a careless caller might pass along: none may leave
    items["display_name"] = items["client_id"].map(names).fillna(PLANTED[0])
    items["note"] = PLANTED[1]
    scores = sim.scores.assign(email=PLANTED[2])
    return sim, items, scores


def _project(**overrides: object) -> ResearchProject:
    args: dict[str, object] = {
        "id": "study-1", "key": KEY, "instruments": INSTRUMENTS,
        "period": (dt.date(2000, 1, 1), dt.date(2100, 1, 1)), "k": 5,
        "title": "Alliance and outcome", "purpose": "Does the alliance predict outcome?",
    }  # fmt: skip
    args.update(overrides)
    return ResearchProject(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def export(practice, tmp_path_factory):
    _, items, scores = practice
    out = tmp_path_factory.mktemp("export") / "study.zip"
    summary = write_research_export(items, scores, _project(), out,
                                    left_out={"no research consent": 3,
                                              "research consent withdrawn": 1},
                                    created=dt.datetime(1999, 1, 1, tzinfo=dt.UTC),
                                    chunk_rows=1000)  # small chunks: several per file  # fmt: skip
    return summary, zipfile.ZipFile(out)


def _read_csv(zf: zipfile.ZipFile, name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(zf.read(name)), keep_default_na=False,
                       na_values={"value": [""], "score": [""], "response_id": [""]})  # fmt: skip


def test_zip_holds_every_format(export) -> None:
    summary, zf = export
    assert sorted(zf.namelist()) == sorted(name for name, _ in CONTENTS)
    assert summary.path.exists()
    assert not [p for p in summary.path.parent.iterdir() if p != summary.path]


def test_csv_and_parquet_read_back_alike(export, practice) -> None:
    _, zf = export
    _, items, _ = practice
    for stem, columns in (("items", ITEM_COLUMNS), ("scores", SCORE_COLUMNS)):
        csv = _read_csv(zf, f"{stem}.csv")
        parquet = pd.read_parquet(io.BytesIO(zf.read(f"{stem}.parquet")))
        assert list(csv.columns) == list(columns) == list(parquet.columns)
        assert len(csv) == len(parquet) > 0
        for col in columns:
            left = csv[col].astype(str).replace("nan", "")
            right = parquet[col].astype(object).where(parquet[col].notna(), "")
            assert (left.to_numpy() == right.astype(str).to_numpy()).all(), col
    exported = pd.read_parquet(io.BytesIO(zf.read("items.parquet")))
    wanted = items[items["instrument"].isin(INSTRUMENTS)]
    assert len(exported) == len(wanted)
    assert exported["value"].sum() == wanted["value"].sum()


def test_ids_are_hmac_sha256_pseudonyms(export, practice) -> None:
    _, zf = export

    items = pd.read_parquet(io.BytesIO(zf.read("items.parquet")))
    # hand computation: HMAC-SHA-256(key, "person" 0x1F "C0001"), first 16 hex digits
    expected = hmac.new(KEY, b"person\x1fC0001", hashlib.sha256).hexdigest()[:16]
    assert pseudonym("C0001", key=KEY, domain="person") == expected
    assert expected in set(items["client_id"])
    engagement = hmac.new(KEY, b"engagement\x1fE0001", hashlib.sha256).hexdigest()[:16]
    assert engagement in set(items["engagement_id"])
    clients = items[items["rater_role"] == "client"]
    assert (
        clients["client_id"].astype(str) == clients["respondent_id"].astype(str)
    ).all()


def test_same_project_same_pseudonyms_other_project_unlinkable(
    practice, tmp_path
) -> None:
    _, items, scores = practice
    ids = []
    for name, key in (
        ("a", KEY),
        ("b", KEY),
        ("c", b"another-project-key-0123456789ab"),
    ):
        out = tmp_path / f"{name}.zip"
        write_research_export(items, scores, _project(key=key), out)
        frame = pd.read_parquet(io.BytesIO(zipfile.ZipFile(out).read("items.parquet")))
        ids.append(set(frame["client_id"]) | set(frame["engagement_id"]))
    assert ids[0] == ids[1]
    assert not ids[0] & ids[2]


def test_no_name_note_contact_or_raw_id_leaves(export, practice) -> None:
    _, zf = export
    sim, _, _ = practice
    raw_ids = [*sim.clients["client_id"], *sim.engagements["engagement_id"],
               *sim.practitioners["practitioner_id"]]  # fmt: skip
    forbidden = [*PLANTED, *sim.clients["display_name"], *sim.practitioners["name"],
                 *sim.goals["text"], *raw_ids, "display_name", "2026-"]  # the data's dates are in 2026  # fmt: skip
    for name in zf.namelist():
        data = zf.read(name)
        text = data.decode("utf-8", errors="ignore")
        found = [f for f in forbidden if f in text
                 and not (name in ("export-log.txt", "README.md") and f == "display_name")]  # fmt: skip
        assert found == [], (name, found[:3])
    log = zf.read("export-log.txt").decode()
    assert "display_name, email, note" in log  # column names only, never values


def test_day_counts_from_the_engagements_first_session(export, practice) -> None:
    _, zf = export
    _, items, _ = practice
    raw = items[items["engagement_id"] == "E0005"]
    start = pd.to_datetime(raw["date"]).min()
    expected = {(int(s), int((pd.Timestamp(d) - start).days))
                for s, d in zip(raw["session"], raw["date"], strict=True)}  # fmt: skip
    frame = pd.read_parquet(io.BytesIO(zf.read("items.parquet")))
    ours = frame[
        frame["engagement_id"] == pseudonym("E0005", key=KEY, domain="engagement")
    ]
    assert set(zip(ours["session"], ours["day"], strict=True)) == expected
    assert min(d for _, d in expected) == 0


def test_practitioners_below_k_are_pooled_with_rows_kept(practice, tmp_path) -> None:
    _, items, scores = practice
    items, scores = items.copy(), scores.copy()
    small = ["E0001", "E0002"]  # two one-client engagements move to a new practitioner
    for frame in (items, scores):
        mask = frame["engagement_id"].isin(small)
        frame.loc[mask, "practitioner_id"] = "P99"
        frame.loc[mask & (frame["rater_role"] == "practitioner"), "respondent_id"] = (
            "P99"
        )
    out = tmp_path / "pooled.zip"
    summary = write_research_export(items, scores, _project(), out)
    zf = zipfile.ZipFile(out)
    frame = pd.read_parquet(io.BytesIO(zf.read("items.parquet")))
    pooled = frame[frame["practitioner_id"] == POOLED]
    wanted = items[
        items["engagement_id"].isin(small) & items["instrument"].isin(INSTRUMENTS)
    ]
    assert len(pooled) >= len(wanted)  # rows kept
    assert pooled["client_id"].nunique() >= 5  # the pool itself reaches k
    hidden = pseudonym("P99", key=KEY, domain="person")
    for name in zf.namelist():
        assert hidden.encode() not in zf.read(name), name
    practitioner_rows = pooled[pooled["rater_role"] == "practitioner"]
    assert set(practitioner_rows["respondent_id"]) == {POOLED}
    assert summary.counts["practitioners pooled as 'other'"] >= 1


@pytest.fixture
def private_prediction(monkeypatch):
    """hb_checkin_practitioner with a private item 7 ("prediction") and its derived score."""
    base = get("hb_checkin_practitioner")
    item = Item(number=7, text={"en": "I predict the client's next score."},
                scale="agreement", scored=False, private=True, required=False)  # fmt: skip
    inst = base.replace(items=(*base.items, item),
                        derived_items={**base.derived_items, "prediction": 7})  # fmt: skip
    registry = dict(_loader._registry()) | {inst.id: inst}
    monkeypatch.setattr(_loader, "_registry", lambda: registry)
    return inst


def test_private_item_is_never_exported(practice, private_prediction, tmp_path) -> None:
    assert private_prediction.private_items == {7}
    assert private_prediction.private_scores == {"prediction"}
    _, items, scores = practice
    prac = items[items["instrument"] == "hb_checkin_practitioner"].drop_duplicates(
        "response_id"
    )
    items = pd.concat([items, prac.assign(item=7, value=5.0)], ignore_index=True)
    score_rows = scores[
        (scores["instrument"] == "hb_checkin_practitioner") & (scores["subscale"] == "")
    ]
    scores = pd.concat([scores, score_rows.assign(subscale="prediction", score=5.0)])
    out = tmp_path / "private.zip"
    write_research_export(items, scores, _project(), out)
    zf = zipfile.ZipFile(out)
    frame = pd.read_parquet(io.BytesIO(zf.read("items.parquet")))
    prac_rows = frame[frame["instrument"] == "hb_checkin_practitioner"]
    assert len(prac_rows)
    assert 7 not in set(prac_rows["item"])
    score_frame = pd.read_parquet(io.BytesIO(zf.read("scores.parquet")))
    assert "prediction" not in set(score_frame["subscale"])
    for name in ("wide.sav", "data_dictionary.csv", "datapackage.json",
                 "fhir/QuestionnaireResponse.ndjson", "fhir/Observation.ndjson"):  # fmt: skip
        data = zf.read(name)
        assert b"hb_checkin_practitioner_7" not in data, name
        assert b"prediction" not in data, name
        assert b"hb_checkin_practitioner.prediction" not in data, name
    for line in zf.read("fhir/QuestionnaireResponse.ndjson").splitlines():
        doc = json.loads(line)
        if "hb_checkin_practitioner" in doc["questionnaire"]:
            assert "7" not in {i["linkId"] for i in doc["item"]}
    log = zf.read("export-log.txt").decode()
    assert f"items rows of private items (never exported): {len(prac)}" in log
    assert f"scores rows of private items (never exported): {len(score_rows)}" in log


def test_private_flag_is_read_from_the_definition() -> None:
    import tomllib

    from harmonybridge.instruments import build_instrument
    from harmonybridge.instruments._loader import DEFINITIONS_DIR

    data = tomllib.loads((DEFINITIONS_DIR / "hb_checkin_practitioner.toml").read_text())
    data["items"].append({"number": 7, "text": {"en": "My prediction."},
                          "scale": "agreement", "scored": False, "private": True})  # fmt: skip
    inst = build_instrument(data)
    assert inst.private_items == {7}
    assert get("phq9").private_items == frozenset()


def test_sav_reads_back_wide_with_labels(export) -> None:
    _, zf = export
    with _tmp_file(zf, "wide.sav") as path:
        frame, meta = pyreadstat.read_sav(str(path))
    assert not frame.duplicated(["engagement_id", "session", "respondent_id"]).any()
    labels = meta.column_names_to_labels
    # PHQ-9 (licence class A): wording in the label and answer labels
    assert labels["phq9_1"].startswith("PHQ-9 item 1: ")
    assert "interest or pleasure" in labels["phq9_1"].lower()
    assert meta.variable_value_labels["phq9_1"][0] == "Not at all"
    # WAI-SR (class C): item numbers only, no wording, no answer labels
    assert labels["wai_sr_3"] == "WAI-SR item 3"
    assert "wai_sr_3" not in meta.variable_value_labels
    assert labels["phq9_total"] == "PHQ-9 total score"
    long = pd.read_parquet(io.BytesIO(zf.read("items.parquet")))
    row = long[(long["instrument"] == "gad7") & (long["item"] == 4)].iloc[0]
    match = frame[(frame["engagement_id"] == row["engagement_id"]) & (frame["session"] == row["session"])
                  & (frame["respondent_id"] == row["respondent_id"])]  # fmt: skip
    assert match["gad7_4"].item() == row["value"]
    assert match["day"].item() == row["day"]
    scores = pd.read_parquet(io.BytesIO(zf.read("scores.parquet")))
    total = scores[
        (scores["instrument"] == "hb_checkin") & (scores["subscale"] == "bond")
    ].iloc[-1]
    match = frame[(frame["engagement_id"] == total["engagement_id"])
                  & (frame["session"] == total["session"])
                  & (frame["respondent_id"] == total["respondent_id"])]  # fmt: skip
    assert match["hb_checkin_bond"].item() == total["score"]
    # a client's row has no practitioner check-in: missing, not the -999 code
    assert match["hb_checkin_practitioner_1"].isna().all()
    assert (frame.select_dtypes("number") != -999).all().all()


class _tmp_file:
    """Extract one zip member to a temporary path (pyreadstat reads paths)."""

    def __init__(self, zf: zipfile.ZipFile, name: str) -> None:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        self.path = Path(zf.extract(name, self._dir.name))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()


def test_datapackage_validates_with_frictionless(export, tmp_path) -> None:
    _, zf = export
    zf.extractall(tmp_path)
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    package = json.loads((tmp_path / "datapackage.json").read_text())
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert fields["day"]["unit"] == "day"
    assert fields["day"]["type"] == "integer"
    assert fields["value"]["constraints"] == {"minimum": 0, "maximum": 5}
    assert fields["rater_role"]["constraints"]["enum"] == ["client", "practitioner"]
    versions = {i["id"]: i["version"] for i in package["harmonybridge"]["instruments"]}
    assert versions["phq9"] == get("phq9").version
    assert package["harmonybridge"]["instruments"][0]["items"]["1"] == [0, 1, 2, 3]


def test_data_dictionary_is_redcap_shaped(export) -> None:
    _, zf = export
    dictionary = pd.read_csv(io.BytesIO(zf.read("data_dictionary.csv")), dtype=str,
                             keep_default_na=False).set_index("Variable / Field Name")  # fmt: skip
    assert dictionary.columns[0] == "Form Name"
    phq = dictionary.loc["phq9_1"]
    assert phq["Field Type"] == "radio"
    assert phq["Choices, Calculations, OR Slider Labels"].startswith(
        "0, Not at all | 1, "
    )
    assert f"version {get('phq9').version}" in phq["Field Note"]
    assert dictionary.loc["wai_sr_1", "Choices, Calculations, OR Slider Labels"] == (
        "1, 1 | 2, 2 | 3, 3 | 4, 4 | 5, 5"
    )
    assert (
        dictionary.loc["gad7_total", "Text Validation Type OR Show Slider Number"]
        == "number"
    )


def _lines(zf: zipfile.ZipFile, name: str) -> list[dict]:
    return [json.loads(x) for x in zf.read(name).splitlines()]


def test_fhir_sample_validates_with_shifted_times(export) -> None:
    _, zf = export
    patients = _lines(zf, "fhir/Patient.ndjson")
    responses = _lines(zf, "fhir/QuestionnaireResponse.ndjson")
    observations = _lines(zf, "fhir/Observation.ndjson")
    rng = np.random.default_rng(0)
    for doc in rng.choice(patients, 5):
        Patient.model_validate(doc)
    for doc in rng.choice(responses, 20):
        QuestionnaireResponse.model_validate(doc)
        inst = get(doc["questionnaire"].split(":")[-1].split("|")[0])
        assert validate_response(questionnaire(inst), doc) == []
    for doc in rng.choice(observations, 20):
        Observation.model_validate(doc)
    response_ids = {r["id"] for r in responses}
    derived = [o["derivedFrom"][0]["reference"] for o in observations]
    assert {d.removeprefix("QuestionnaireResponse/") for d in derived} <= response_ids
    codes = {c["code"] for o in observations for c in o["code"]["coding"]}
    assert {"44261-6", "70274-6", "hb_checkin.bond"} <= codes
    items = pd.read_parquet(io.BytesIO(zf.read("items.parquet")))
    first = items[items["day"] == 0].iloc[0]
    by_id = {r["id"]: r for r in responses}
    assert by_id[first["response_id"]]["authored"] == "2000-01-01T00:00:00+00:00"
    later = items[items["day"] == 14].iloc[0]
    assert by_id[later["response_id"]]["authored"] == "2000-01-15T00:00:00+00:00"
    assert {p["id"] for p in patients} == set(items["client_id"])


def test_scores_without_their_answers_still_become_observations(
    practice, tmp_path
) -> None:
    _, items, scores = practice
    lost = (
        items["response_id"]
        == items.loc[items["instrument"] == "phq9", "response_id"].iloc[0]
    )
    out = tmp_path / "x.zip"
    write_research_export(items[~lost], scores, _project(), out)
    zf = zipfile.ZipFile(out)
    observations = _lines(zf, "fhir/Observation.ndjson")
    orphans = [o for o in observations if "derivedFrom" not in o]
    assert len(orphans) == 1
    assert orphans[0]["code"]["coding"][0]["code"] == "44261-6"
    Observation.model_validate(orphans[0])
    assert len({o["id"] for o in observations}) == len(observations)


def test_readme_states_consent_pseudonymisation_versions_and_counts(export) -> None:
    _, zf = export
    readme = zf.read("README.md").decode()
    for text in ("no research consent: 3", "research consent withdrawn: 1",
                 "HMAC-SHA-256", "k = 5", "2000-01-01T00:00:00+00:00", "How to cite",
                 f"`phq9` Patient Health Questionnaire-9 (PHQ-9), definition version "
                 f"{get('phq9').version}", "Does the alliance predict outcome?"):  # fmt: skip
        assert text in readme, text


@pytest.mark.parametrize(
    ("change", "reason", "message"),
    [
        ("no_clients", "no_consented_clients", "no consented client"),
        ("no_swls", "instrument_without_data", "instrument 'swls' has no data"),
        (
            "three_clients",
            "too_few_clients",
            "clients, fewer than the project's minimum cell size k = 5",
        ),
        ("bad_date", "invalid_data", "column 'date' has 'soon'"),
    ],
)
def test_bad_input_is_a_clear_error_and_leaves_nothing(
    practice, tmp_path, change: str, reason: str, message: str
) -> None:
    _, items, scores = practice
    instruments = INSTRUMENTS
    if change == "no_clients":
        items, scores = items.iloc[:0], scores.iloc[:0]
    elif change == "no_swls":
        instruments = (*INSTRUMENTS, "swls")
        items = items[items["instrument"] != "swls"]
        scores = scores[scores["instrument"] != "swls"]
    elif change == "three_clients":
        keep = ["C0001", "C0002", "C0003"]
        items = items[items["client_id"].isin(keep)]
        scores = scores[scores["client_id"].isin(keep)]
        instruments = ("phq9",)
    else:
        items = items.astype({"date": object})
        items.loc[items.index[0], "date"] = "soon"
    with pytest.raises(ResearchExportError, match=message) as info:
        write_research_export(items, scores, _project(instruments=instruments),
                              tmp_path / "x.zip")  # fmt: skip
    assert info.value.reason == reason
    assert list(tmp_path.iterdir()) == []


def test_progress_reports_every_step(practice, tmp_path) -> None:
    _, items, scores = practice
    seen: list[tuple[str, int, int]] = []
    write_research_export(items, scores, _project(), tmp_path / "x.zip",
                          progress=lambda *step: seen.append(step))  # fmt: skip
    assert [s[0] for s in seen] == ["prepare", "tables", "spss", "codebook", "fhir",
                                    "readme", "done"]  # fmt: skip
    assert seen[-1] == ("done", 6, 6)


def test_failure_while_writing_leaves_nothing(practice, tmp_path, monkeypatch) -> None:
    from harmonybridge.research import _writer

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_writer, "write_fhir", broken)
    _, items, scores = practice
    with pytest.raises(OSError, match="disk full"):
        write_research_export(items, scores, _project(), tmp_path / "x.zip")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"k": 4}, "k must be an integer >= 5"),
        ({"key": b"short"}, "at least 16 random bytes"),
        ({"instruments": ("phq10",)}, "unknown instrument 'phq10'"),
        ({"epoch": dt.datetime(2000, 1, 1)}, "time-zone-aware"),
        ({"period": (dt.date(2026, 2, 1), dt.date(2026, 1, 1))}, "first <= last"),
        ({"id": "a b"}, "letters, digits"),
    ],
)
def test_invalid_project_is_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ResearchExportError, match=message) as info:
        _project(**overrides)
    assert info.value.reason == "invalid_project"


def test_project_loads_from_toml(tmp_path) -> None:
    (tmp_path / "key.hex").write_text(KEY.hex())
    (tmp_path / "project.toml").write_text(
        'id = "study-1"\ninstruments = ["phq9"]\nperiod_start = 2026-01-01\n'
        'period_end = 2026-06-30\nk = 7\nkey_file = "key.hex"\n'
        "epoch = 1990-01-01T00:00:00Z\n"
    )
    project = load_project(tmp_path / "project.toml")
    assert project.key == KEY
    assert project.k == 7
    assert project.period == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert project.epoch == dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
    (tmp_path / "bad.toml").write_text('id = "x"\n')
    with pytest.raises(ResearchExportError, match="key 'instruments' is missing"):
        load_project(tmp_path / "bad.toml")
