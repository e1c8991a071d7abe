"""Bulk FHIR builders: NDJSON lines that validate with fhir.resources and match the single builders."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from harmonybridge.errors import DataValidationError
from harmonybridge.fhir import (
    Issue,
    observation_lines,
    operation_outcome,
    patient_lines,
    questionnaire,
    questionnaire_response,
    questionnaire_response_lines,
    searchset_bundle,
    validate_response,
)
from harmonybridge.instruments import get


def _scores(**overrides: object) -> pd.DataFrame:
    rows = {
        "id": ["o1", "o2", "o3"],
        "subject": ["c1", "c1", "c2"],
        "performer": ["Patient/c1", "Patient/c1", "Practitioner/p1"],
        "instrument": ["phq9", "gad7", "hb_checkin_practitioner"],
        "subscale": ["", "", "bond"],
        "score": [13.0, 12.0, 4.5],
        "effective": ["2000-01-01T00:00:00+00:00"] * 3,
    }
    rows.update(overrides)
    return pd.DataFrame(rows)


def test_observations_validate_and_use_loinc_for_phq9_and_gad7_totals() -> None:
    lines = observation_lines(_scores())
    docs = [json.loads(line) for line in lines]
    for doc in docs:
        Observation.model_validate(doc)
    # LOINC 44261-6 = PHQ-9 total score, 70274-6 = GAD-7 total score (the issue's codes)
    assert docs[0]["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "44261-6",
    }
    assert docs[1]["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "70274-6",
    }
    assert docs[2]["code"]["coding"] == [
        {"system": "urn:harmonybridge:item", "code": "hb_checkin_practitioner.bond"}
    ]
    assert docs[2]["valueQuantity"]["value"] == 4.5
    assert docs[2]["performer"] == [{"reference": "Practitioner/p1"}]
    assert docs[0]["subject"] == {"reference": "Patient/c1"}


def test_observation_links_the_response_it_was_derived_from() -> None:
    doc = json.loads(observation_lines(_scores(derived_from=["r1", "r2", "r3"]))[0])
    assert doc["derivedFrom"] == [{"reference": "QuestionnaireResponse/r1"}]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("id", "has space", "not a valid FHIR id"),
        ("performer", "Device/x", "not a valid FHIR reference"),
        ("effective", "yesterday", "not a valid FHIR dateTime"),
        ("instrument", "nope", "unknown instrument 'nope'"),
        ("subscale", "mood", "has no score 'mood'"),
    ],
)
def test_observation_bad_value_names_column(
    column: str, value: str, message: str
) -> None:
    frame = _scores()
    frame.loc[0, column] = value
    with pytest.raises(DataValidationError, match=message):
        observation_lines(frame)


def test_observation_without_score_is_refused() -> None:
    with pytest.raises(DataValidationError, match="column 'score'"):
        observation_lines(_scores(score=[1.0, None, 2.0]))


def test_patients_are_pseudonymous_and_tagged() -> None:
    docs = [json.loads(x) for x in patient_lines(["a1", "b2"], pseudonymised=True,
                                                  identifier_system="urn:x")]  # fmt: skip
    for doc in docs:
        Patient.model_validate(doc)
    assert docs[0]["meta"]["security"][0]["code"] == "PSEUDED"
    assert docs[1]["identifier"] == [{"system": "urn:x", "value": "b2"}]
    assert set(docs[0]) == {"resourceType", "id", "meta", "identifier"}


def _answers_frame(responses: dict[str, tuple[str, dict[int, int]]]) -> pd.DataFrame:
    rows = []
    for rid, (instrument, answers) in responses.items():
        for item, value in answers.items():
            rows.append({"id": rid, "instrument": instrument, "item": item, "value": value,
                         "subject": "c1", "author": "Patient/c1",
                         "authored": "2000-01-08T00:00:00+00:00"})  # fmt: skip
    return pd.DataFrame(rows).sample(frac=1, random_state=3)  # any row order


def test_bulk_responses_match_the_single_builder_and_validate() -> None:
    phq = dict.fromkeys(range(1, 10), 1)
    phq_skipped = {k: v for k, v in phq.items() if k != 9}
    checkin_rupture = {1: 4, 2: 4, 3: 5, 4: 1, 5: 3, 6: 4}
    checkin_short = {1: 4, 2: 4, 3: 5, 4: 1}  # condition met, items 5-6 missing
    responses = {
        "r1": ("phq9", phq),
        "r2": ("phq9", phq_skipped),
        "r3": ("hb_checkin", checkin_rupture),
        "r4": ("hb_checkin", checkin_short),
    }
    lines = questionnaire_response_lines(_answers_frame(responses))
    assert len(lines) == len(responses)
    by_id = {json.loads(x)["id"]: json.loads(x) for x in lines}
    for rid, (instrument, answers) in responses.items():
        inst = get(instrument)
        doc = by_id[rid]
        QuestionnaireResponse.model_validate(doc)
        assert validate_response(questionnaire(inst), doc) == []
        single = questionnaire_response(inst, answers, scored=False)
        assert doc["item"] == single["item"]
        assert doc["status"] == single["status"]
        assert doc["questionnaire"] == single["questionnaire"]
    assert by_id["r2"]["status"] == "stopped"  # PHQ-9 item 9 is required
    assert by_id["r4"]["status"] == "stopped"  # rupture follow-ups required once shown


def test_response_value_off_the_scale_is_refused() -> None:
    frame = _answers_frame({"r1": ("phq9", {1: 4})})
    with pytest.raises(DataValidationError, match="item 1 has no answer 4"):
        questionnaire_response_lines(frame)


def test_response_mixing_instruments_is_refused() -> None:
    frame = pd.concat([_answers_frame({"r1": ("phq9", {1: 1})}),
                       _answers_frame({"r1": ("gad7", {1: 1})})])  # fmt: skip
    with pytest.raises(DataValidationError, match="mixes instruments"):
        questionnaire_response_lines(frame)


def test_searchset_bundle_pages_with_next_link() -> None:
    pats = [json.loads(x) for x in patient_lines(["a1", "b2"])]
    bundle = searchset_bundle(pats, base_url="https://h/fhir/", total=5,
                              self_url="https://h/fhir/Patient?_count=2",
                              next_url="https://h/fhir/Patient?_count=2&cursor=b2")  # fmt: skip
    Bundle.model_validate(bundle)
    assert bundle["link"][1] == {"relation": "next",
                                 "url": "https://h/fhir/Patient?_count=2&cursor=b2"}  # fmt: skip
    assert bundle["entry"][1]["fullUrl"] == "https://h/fhir/Patient/b2"
    assert bundle["total"] == 5
    last = searchset_bundle(
        pats, base_url="https://h/fhir", self_url="https://h/fhir/x"
    )
    assert [link["relation"] for link in last["link"]] == ["self"]


def test_operation_outcome_names_the_item() -> None:
    where = "QuestionnaireResponse.item.where(linkId='9')"
    outcome = operation_outcome([Issue("item '9': required but not answered",
                                       code="required", expression=(where,))])  # fmt: skip
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["expression"] == [where]
    with pytest.raises(DataValidationError, match="at least one issue"):
        operation_outcome([])
    with pytest.raises(DataValidationError, match="severity 'bad'"):
        operation_outcome([Issue("x", severity="bad")])
