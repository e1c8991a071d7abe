"""FHIR R4 Questionnaire / QuestionnaireResponse export and our response validator."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import get, ids, load_wording
from harmonybridge.reports.fhir import (
    answers_from_response,
    check_response,
    questionnaire,
    questionnaire_response,
    validate_response,
)


def full_answers(instrument: str) -> dict[int, int]:
    """Every item answered with its scale maximum (conditional items enabled)."""
    inst = get(instrument)
    return {it.number: inst.scales[it.scale].max for it in inst.items}


@pytest.mark.parametrize("instrument", ids())
def test_questionnaire_validates_and_follows_conventions(instrument):
    q = questionnaire(get(instrument))
    Questionnaire.model_validate(q)  # raises if invalid
    json.dumps(q)
    assert q["id"] == instrument.replace("_", "-")
    assert "_" not in q["id"]
    numbered = [i["linkId"] for i in q["item"] if i["type"] == "choice"]
    assert numbered == [str(n) for n in get(instrument).item_numbers]


@pytest.mark.parametrize("instrument", ids())
def test_complete_response_validates_against_its_questionnaire(instrument):
    inst = get(instrument)
    r = questionnaire_response(inst, full_answers(instrument), subject="Patient/p1")
    QuestionnaireResponse.model_validate(r)
    assert r["status"] == "completed"
    assert validate_response(questionnaire(inst), r) == []


def test_phq9_uses_loinc_codes():
    q = questionnaire(get("phq9"))
    assert {"system": "http://loinc.org", "code": "44249-1"} in q["code"]
    item1 = q["item"][0]
    assert item1["code"] == [{"system": "http://loinc.org", "code": "44250-9"}]
    assert [o["valueCoding"]["code"] for o in item1["answerOption"]] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9",
    ]  # fmt: skip
    total = next(i for i in q["item"] if i["linkId"] == "total")
    assert total["code"][0]["code"] == "44261-6"
    assert total["readOnly"] is True


def test_gad7_total_uses_loinc_and_others_use_local_systems():
    total = next(
        i for i in questionnaire(get("gad7"))["item"] if i["linkId"] == "total"
    )
    assert total["code"][0] == {"system": "http://loinc.org", "code": "70274-6"}
    item = questionnaire(get("swls"))["item"][0]
    assert item["code"] == [{"system": "urn:harmonybridge:item", "code": "swls.1"}]
    assert item["answerOption"][0]["valueCoding"]["system"].startswith(
        "urn:harmonybridge:instrument:swls"
    )


def test_conditional_items_have_enable_when():
    q = questionnaire(get("hb_checkin"))
    item5 = q["item"][4]
    assert item5["enableWhen"] == [{
        "question": "4", "operator": "=",
        "answerCoding": {"system": "urn:harmonybridge:instrument:hb_checkin:yes_no", "code": "1"},
    }]  # fmt: skip


def test_class_c_without_wording_exports_structure_only():
    q = questionnaire(get("wai_sr"))
    assert q["status"] == "draft"
    assert all("text" not in i for i in q["item"] if i["type"] == "choice")
    wording = load_wording({
        "instrument": "wai_sr", "version": "1.0",
        "items": {str(n): {"en": f"Placeholder {n}"} for n in range(1, 13)},
    })  # fmt: skip
    q = questionnaire(get("wai_sr").with_wording(wording))
    assert q["status"] == "active"
    assert q["item"][0]["text"] == "Placeholder 1"


def test_response_carries_scores():
    r = questionnaire_response(
        get("who5"), {1: 3, 2: 3, 3: 3, 4: 3, 5: 1}, authored="2026-01-05"
    )
    total = next(i for i in r["item"] if i["linkId"] == "total")
    assert total["answer"] == [{"valueDecimal": 52.0}]  # raw 13 x 4
    assert r["authored"] == "2026-01-05"
    r = questionnaire_response(get("who5"), {1: 3}, scored=False)
    assert [i["linkId"] for i in r["item"]] == ["1"]
    assert r["status"] == "stopped"  # required items unanswered


def test_response_rejects_bad_answers_and_naive_times():
    with pytest.raises(DataValidationError, match="item 1: value 4"):
        questionnaire_response(get("phq9"), {1: 4})
    with pytest.raises(DataValidationError, match="timezone"):
        questionnaire_response(
            get("phq9"), {1: 1}, authored=dt.datetime(2026, 1, 1, 10)
        )
    aware = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    assert questionnaire_response(get("phq9"), {1: 1}, authored=aware)[
        "authored"
    ].startswith("2026-01-01T10:00:00")


# --- negative tests for our validator ----------------------------------------------------


@pytest.fixture
def phq9_pair():
    inst = get("phq9")
    answers = dict.fromkeys(range(1, 11), 1)
    return questionnaire(inst), questionnaire_response(inst, answers)


def test_wrong_status_is_rejected(phq9_pair):
    q, r = phq9_pair
    r["status"] = "done"
    problems = validate_response(q, r)
    assert any("status 'done'" in p for p in problems)


def test_answer_code_not_in_answer_set_is_rejected(phq9_pair):
    q, r = phq9_pair
    r["item"][1]["answer"][0]["valueCoding"]["code"] = "LA9999-9"
    (problem,) = validate_response(q, r)
    assert "item '2'" in problem
    assert "'LA9999-9'" in problem
    assert "not in the answer set" in problem


def test_missing_required_item_is_rejected(phq9_pair):
    q, r = phq9_pair
    r["item"] = [i for i in r["item"] if i["linkId"] != "3"]
    assert validate_response(q, r) == ["item '3': required but not answered"]
    r["status"] = "in-progress"  # an unfinished response may leave items out
    assert validate_response(q, r) == []


def test_unknown_link_id_is_rejected(phq9_pair):
    q, r = phq9_pair
    r["item"].append({"linkId": "99", "answer": [{"valueDecimal": 1.0}]})
    assert validate_response(q, r) == [
        "item '99': unknown linkId (not in the questionnaire)"
    ]


def test_answer_to_disabled_item_is_rejected():
    inst = get("hb_checkin")
    q = questionnaire(inst)
    r = questionnaire_response(inst, {1: 3, 2: 3, 3: 3, 4: 1, 5: 2, 6: 2})
    no_rupture = copy.deepcopy(r)
    no_rupture["item"][3]["answer"][0]["valueCoding"]["code"] = "0"
    problems = validate_response(q, no_rupture)
    assert problems == [
        "item '5': answered although not enabled (enableWhen)",
        "item '6': answered although not enabled (enableWhen)",
    ]


def test_check_response_raises_with_every_problem(phq9_pair):
    q, r = phq9_pair
    r["status"] = "done"
    r["item"].append({"linkId": "99"})
    with pytest.raises(DataValidationError, match=r"status 'done'.*item '99'"):
        check_response(q, r)


@pytest.mark.parametrize(
    "instrument", ["phq9", "hb_checkin", "wai_sr", "goal_progress"]
)
def test_answers_round_trip_through_a_response(instrument):
    inst = get(instrument)
    answers = full_answers(instrument)
    r = questionnaire_response(inst, answers)
    assert answers_from_response(inst, r) == answers


def test_answers_from_an_invalid_response_are_refused(phq9_pair):
    _, r = phq9_pair
    r["item"][0]["answer"][0]["valueCoding"]["code"] = "LA0000-0"
    with pytest.raises(DataValidationError, match=r"item '1'.*not in the answer set"):
        answers_from_response(get("phq9"), r)
