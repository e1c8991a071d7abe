"""Writes of issue 16 beyond check-ins: rupture records and measurement plans go through
the pages' own forms and services (same validation, same audit), need the ``write``
scope and the policy's change rights; practitioner ratings arrive through FHIR."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from harmonybridge import fhir as hbfhir
from harmonybridge import instruments
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins.models import Response
from harmonybridge.web.practice.models import PlanEntry, ServiceKind
from harmonybridge.web.repairs.models import RepairRecord
from tests.web import factories

pytestmark = pytest.mark.django_db

RECORD = {
    "markers": ["denial", "complaint_practitioner"],
    "strategies": ["clarify"],
    "resolved": "partly",
    "note": "We spoke about the homework.",
}


def _errors(r, status, field):
    assert r.status_code == status, r.content
    body = r.json()
    assert body[0]["field"] == field, body
    return body[0]


# --- rupture records ------------------------------------------------------------------


def test_create_then_record_the_repair(api, session, practitioner):
    r = api.post(f"/api/v1/sessions/{session.pk}/rupture-record", RECORD)
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["markers"] == ["denial", "complaint_practitioner"]
    assert created["resolved"] == "partly"
    assert "note" not in created  # stored encrypted, never served back
    stored = RepairRecord.objects.get()
    assert stored.note == "We spoke about the homework."
    assert stored.recorded_by == practitioner
    # the record page's own audit event, plus the API call's
    assert AuditEvent.objects.filter(action="repair.create").count() == 1
    assert AuditEvent.objects.filter(action="api.rupture_record.save").count() == 1

    repaired = {
        **RECORD,
        "strategies": ["clarify", "give_rationale"],
        "resolved": "yes",
    }
    r = api.put(f"/api/v1/rupture-records/{created['id']}", repaired)
    assert r.status_code == 200, r.content
    assert r.json()["resolved"] == "yes"
    assert RepairRecord.objects.get().strategies == ["clarify", "give_rationale"]
    assert AuditEvent.objects.filter(action="repair.update").count() == 1
    assert api.get(f"/api/v1/rupture-records/{created['id']}").json()["resolved"] == (
        "yes"
    )


def test_one_record_a_session_is_a_409(api, session):
    first = api.post(f"/api/v1/sessions/{session.pk}/rupture-record", RECORD)
    assert first.status_code == 201
    r = api.post(f"/api/v1/sessions/{session.pk}/rupture-record", RECORD)
    assert _errors(r, 409, "session_id")["code"] == "exists"
    assert RepairRecord.objects.count() == 1


def test_the_record_forms_validation_names_the_field(api, session):
    # the page's rule: a marker or a note
    r = api.post(
        f"/api/v1/sessions/{session.pk}/rupture-record",
        {"markers": [], "resolved": "no"},
    )
    assert "marker" in _errors(r, 422, "markers")["message"]
    r = api.post(
        f"/api/v1/sessions/{session.pk}/rupture-record",
        {**RECORD, "strategies": ["shout"]},
    )
    _errors(r, 422, "strategies")
    r = api.post(
        f"/api/v1/sessions/{session.pk}/rupture-record",
        {**RECORD, "resolved": "maybe"},
    )
    _errors(r, 422, "resolved")
    assert RepairRecord.objects.count() == 0


def test_rupture_records_of_another_practice_are_404_and_read_tokens_403(
    api, other_practitioner, practitioner, make_token, session
):
    theirs = factories.make_session(factories.make_engagement(other_practitioner))
    r = api.post(f"/api/v1/sessions/{theirs.pk}/rupture-record", RECORD)
    _errors(r, 404, "session_id")
    their_record = RepairRecord.objects.create(
        session=theirs,
        markers=["denial"],
        resolved="no",
        recorded_by=other_practitioner,
    )
    _errors(
        api.put(f"/api/v1/rupture-records/{their_record.pk}", RECORD), 404, "record_id"
    )
    _errors(api.get(f"/api/v1/rupture-records/{their_record.pk}"), 404, "record_id")
    read_only = make_token(practitioner, scopes=("read",))
    r = api.post(
        f"/api/v1/sessions/{session.pk}/rupture-record", RECORD, token=read_only
    )
    assert _errors(r, 403, "Authorization")["code"] == "missing_scope"


# --- measurement plans ----------------------------------------------------------------


def test_plan_entries_are_added_changed_and_removed(api, engagement):
    url = f"/api/v1/engagements/{engagement.pk}/plan"
    before = {e["instrument_id"] for e in api.get(url).json()}
    assert "wai_sr" not in before
    r = api.post(
        f"{url}/entries",
        {"instrument_id": "swls", "rater_role": "client", "every_n": 4},
    )
    if "swls" in before:  # the coaching default plan may hold it already
        assert _errors(r, 409, "instrument_id")["code"] == "duplicate"
        entry = PlanEntry.objects.get(plan__engagement=engagement, instrument_id="swls")
    else:
        assert r.status_code == 201, r.content
        entry = PlanEntry.objects.get(pk=r.json()["id"])
        assert entry.every_n == 4
        assert AuditEvent.objects.filter(action="plan.add").count() == 1
    r = api.put(
        f"{url}/entries/{entry.pk}",
        {"instrument_id": "swls", "rater_role": "client", "every_n": 2,
         "starting_session": 3},
    )  # fmt: skip
    assert r.status_code == 200, r.content
    entry.refresh_from_db()
    assert (entry.every_n, entry.starting_session) == (2, 3)
    assert AuditEvent.objects.filter(action="plan.update").count() == 1
    r = api.delete(f"{url}/entries/{entry.pk}")
    assert r.status_code == 204, r.content
    assert not PlanEntry.objects.filter(pk=entry.pk).exists()
    assert AuditEvent.objects.filter(action="plan.remove").count() == 1
    assert api.put(f"{url}/brief", {"brief": True}).json() == {"brief": True}
    engagement.plan.refresh_from_db()
    assert engagement.plan.brief is True


def test_plan_entries_use_the_plan_forms_validation(api, engagement):
    url = f"/api/v1/engagements/{engagement.pk}/plan/entries"
    # the rater must be the instrument's own rater (the form's rule)
    r = api.post(url, {"instrument_id": "phq9", "rater_role": "practitioner"})
    assert "client" in _errors(r, 422, "rater_role")["message"]
    r = api.post(url, {"instrument_id": "nothing", "rater_role": "client"})
    _errors(r, 422, "instrument_id")
    r = api.post(url, {"instrument_id": "phq9", "rater_role": "client", "every_n": 0})
    _errors(r, 422, "every_n")
    r = api.post(url, {"instrument_id": "phq9", "rater_role": "client", "every_n": "2"})
    _errors(r, 422, "every_n")  # strictly typed: "2" is not 2


def test_plan_of_another_practice_is_404(api, other_practitioner):
    theirs = factories.make_engagement(other_practitioner)
    r = api.post(
        f"/api/v1/engagements/{theirs.pk}/plan/entries",
        {"instrument_id": "phq9", "rater_role": "client"},
    )
    _errors(r, 404, "engagement_id")
    entry = PlanEntry.objects.filter(plan__engagement=theirs).first()
    mine = factories.make_engagement(
        factories.make_practitioner(practice=other_practitioner.practice)
    )
    r = api.delete(f"/api/v1/engagements/{mine.pk}/plan/entries/{entry.pk}")
    _errors(r, 404, "engagement_id")


# --- practitioner ratings through FHIR ------------------------------------------------

PRACTITIONER_ANSWERS = {1: 5, 2: 4, 3: 3, 4: 0}


def _practitioner_qr(session, author, instrument="hb_checkin_practitioner"):
    resource = hbfhir.questionnaire_response(
        instruments.get(instrument),
        PRACTITIONER_ANSWERS,
        scored=False,
        subject=f"Patient/{session.engagement.clients.first().code}",
    )
    resource["encounter"] = {"reference": f"Encounter/{session.pk}"}
    if author is not None:
        resource["author"] = {"reference": author}
    return resource


@pytest.fixture
def therapy(practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    return factories.make_session(engagement)


def test_a_practitioner_rating_posted_through_fhir_is_stored_as_theirs(
    api, therapy, practitioner
):
    resource = _practitioner_qr(therapy, f"Practitioner/{practitioner.pk}")
    r = api.post("/fhir/QuestionnaireResponse", resource)
    assert r.status_code == 201, r.content
    created = r.json()
    QuestionnaireResponse.model_validate(created)
    assert created["author"] == {"reference": f"Practitioner/{practitioner.pk}"}
    stored = Response.objects.get()
    assert stored.rater_role == "practitioner"
    assert stored.respondent_user == practitioner
    assert stored.respondent_client is None
    # the storage path's own scoring: (5 + 4 + 3) / 3 = 4.0 (item 4 is not scored)
    assert stored.scores.get(subscale="").value == pytest.approx(4.0)
    again = api.post("/fhir/QuestionnaireResponse", resource)
    assert again.status_code == 409  # rated once per session, as on the pages


@pytest.mark.parametrize(
    ("instrument", "author", "says"),
    [
        ("hb_checkin_practitioner", None, "rated by the practitioner"),
        ("hb_checkin_practitioner", "Patient/{code}", "rated by the practitioner"),
        ("hb_checkin_practitioner", "Practitioner/999999", "token's owner"),
        ("phq9", "Practitioner/{me}", "answered by the client"),
    ],
)
def test_a_rating_by_the_wrong_rater_is_an_operation_outcome(
    api, therapy, practitioner, instrument, author, says
):
    code = therapy.engagement.clients.first().code
    if instrument == "phq9":
        resource = hbfhir.questionnaire_response(
            instruments.get("phq9"), dict.fromkeys(range(1, 10), 1), scored=False,
            subject=f"Patient/{code}",
        )  # fmt: skip
        resource["encounter"] = {"reference": f"Encounter/{therapy.pk}"}
        resource["author"] = {"reference": author.format(me=practitioner.pk)}
    else:
        resource = _practitioner_qr(
            therapy, author.format(code=code) if author else None, instrument
        )
    r = api.post("/fhir/QuestionnaireResponse", resource)
    assert r.status_code == 422, r.content
    outcome = r.json()
    OperationOutcome.model_validate(outcome)
    assert says in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == ["QuestionnaireResponse.author"]
    assert Response.objects.count() == 0
