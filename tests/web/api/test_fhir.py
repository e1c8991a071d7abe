"""FHIR R4 endpoints: resources validate with fhir.resources, searches page, POST submits."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire

from harmonybridge import fhir as hbfhir
from harmonybridge import instruments
from harmonybridge.web.checkins.models import CheckIn, Response
from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories

pytestmark = pytest.mark.django_db

PHQ9 = {str(i): 1 for i in range(1, 10)}


@pytest.fixture
def therapy(practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    return factories.make_session(engagement)


def _submit(api, session, answers=PHQ9):
    client_id = session.engagement.clients.first().pk
    r = api.post(
        f"/api/v1/sessions/{session.pk}/responses",
        {"rater_role": "client", "client_id": client_id, "answers": {"phq9": answers}},
    )
    assert r.status_code == 201, r.content


def _qr(session, answers, **over):
    inst = instruments.get("phq9")
    resource = hbfhir.questionnaire_response(
        inst,
        answers,
        scored=False,
        subject=f"Patient/{session.engagement.clients.first().code}",
    )
    resource["encounter"] = {"reference": f"Encounter/{session.pk}"}
    resource.update(over)
    return resource


def test_capability_statement_validates(client):
    r = client.get("/fhir/metadata")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/fhir+json")
    CapabilityStatement.model_validate(r.json())


def test_questionnaire_search_and_read(api):
    bundle = api.get("/fhir/Questionnaire?name=phq").json()
    Bundle.model_validate(bundle)
    # FHIR string search matches the start of the name: the PHQ-4 and the PHQ-9
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["phq4", "phq9"]
    q = api.get("/fhir/Questionnaire/wai-sr")
    # WAI-SR wording is licensed (class C): not usable without the practice's wording
    assert q.status_code == 404
    OperationOutcome.model_validate(q.json())
    Questionnaire.model_validate(api.get("/fhir/Questionnaire/phq9").json())


def test_observation_search_pages_with_next_links(api, therapy, practitioner):
    _submit(api, therapy)
    second = factories.make_session(therapy.engagement)
    _submit(api, second, {**PHQ9, "1": 3})
    code = therapy.engagement.clients.first().code
    url = f"/fhir/Observation?subject=Patient/{code}&code=http://loinc.org|44261-6&_count=1"
    values = []
    while url:
        bundle = api.get(url).json()
        Bundle.model_validate(bundle)
        for e in bundle["entry"]:
            Observation.model_validate(e["resource"])
            values.append(e["resource"]["valueQuantity"]["value"])
        nxt = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    # totals: nine items of 1 = 9; then item 1 raised to 3 = 11
    assert values == [9.0, 11.0]


def test_patient_is_pseudonymous(api, therapy):
    code = therapy.engagement.clients.first().code
    patient = api.get(f"/fhir/Patient/{code}").json()
    Patient.model_validate(patient)
    assert patient["id"] == code
    assert "name" not in patient
    assert patient["meta"]["security"][0]["code"] == "PSEUDED"


def test_search_without_subject_needs_the_export_scope(api, practitioner, make_token):
    r = api.get("/fhir/QuestionnaireResponse")
    assert r.status_code == 403
    OperationOutcome.model_validate(r.json())
    export = make_token(practitioner, scopes=("read", "export"))
    assert api.get("/fhir/QuestionnaireResponse", token=export).status_code == 200


def test_post_questionnaire_response_is_a_checkin_submission(api, therapy):
    resource = _qr(therapy, dict.fromkeys(range(1, 10), 2))
    r = api.post("/fhir/QuestionnaireResponse", resource)
    assert r.status_code == 201, r.content
    assert r["Location"].endswith(f"/fhir/QuestionnaireResponse/{r.json()['id']}")
    stored = Response.objects.get()
    assert stored.channel == "api"
    assert stored.scores.get(subscale="").value == 18  # nine items of 2
    assert CheckIn.objects.get().submitted_at is not None
    read = api.get(f"/fhir/QuestionnaireResponse/{stored.pk}").json()
    assert read["encounter"]["reference"] == f"Encounter/{therapy.pk}"


def test_post_with_a_value_outside_the_answer_set_names_the_item(api, therapy):
    resource = _qr(therapy, dict.fromkeys(range(1, 10), 1))
    resource["item"][3]["answer"][0]["valueCoding"]["code"] = "7"
    r = api.post("/fhir/QuestionnaireResponse", resource)
    assert r.status_code == 422
    outcome = r.json()
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["expression"] == [
        "QuestionnaireResponse.item.where(linkId='4')"
    ]
    assert Response.objects.count() == 0


def test_post_with_a_missing_required_answer_names_the_item(api, therapy):
    resource = _qr(therapy, dict.fromkeys(range(1, 10), 1))
    resource["item"] = [i for i in resource["item"] if i["linkId"] != "2"]
    r = api.post("/fhir/QuestionnaireResponse", resource)
    assert r.status_code == 422
    assert "linkId='2'" in json.dumps(r.json())
    assert r.json()["issue"][0]["code"] == "required"


def test_post_with_a_wrong_questionnaire_is_refused(api, therapy):
    resource = _qr(
        therapy, dict.fromkeys(range(1, 10), 1), questionnaire="urn:x:nothing"
    )
    r = api.post("/fhir/QuestionnaireResponse", resource)
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["QuestionnaireResponse.questionnaire"]
    # a questionnaire not due at this session (GAD-7 is due, WHO-5 is not)
    who5 = hbfhir.questionnaire_response(
        instruments.get("who5"), dict.fromkeys(range(1, 6), 3), scored=False,
        subject=f"Patient/{therapy.engagement.clients.first().code}",
    )  # fmt: skip
    who5["encounter"] = {"reference": f"Encounter/{therapy.pk}"}
    r = api.post("/fhir/QuestionnaireResponse", who5)
    assert r.status_code == 422
    OperationOutcome.model_validate(r.json())


def test_fhir_hides_other_practices(api, other_practitioner):
    theirs = factories.make_engagement(other_practitioner)
    code = theirs.clients.first().code
    assert api.get(f"/fhir/Patient/{code}").status_code == 404
    bundle = api.get(f"/fhir/Observation?subject=Patient/{code}").json()
    assert bundle["entry"] == []
