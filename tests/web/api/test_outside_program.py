"""The whole measurement loop as an outside program runs it: HTTP only, from the published
OpenAPI document (paths and methods looked up by operationId) and the FHIR server's own
Questionnaire. Nothing here imports the API's code."""

from __future__ import annotations

import httpx
import pytest
from django.core.management import call_command

from harmonybridge.web.api import tokens
from tests.web import factories

pytestmark = pytest.mark.django_db(transaction=True)


class Program:
    """A minimal client that knows only the OpenAPI document."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        schema = self.http.get("/api/v1/openapi.json").raise_for_status().json()
        self.ops = {
            op["operationId"]: (method.upper(), path)
            for path, item in schema["paths"].items()
            for method, op in item.items()
        }

    def call(
        self, operation_id: str, *, expect: int = 200, json=None, params=None, **path
    ):
        method, template = self.ops[operation_id]
        r = self.http.request(method, template.format(**path), json=json, params=params)
        assert r.status_code == expect, (operation_id, r.status_code, r.text)
        return r.json()


def _fhir_answers(questionnaire: dict, pick) -> list[dict]:
    """Answer every item with the answer option chosen by ``pick`` (first or last)."""
    return [
        {"linkId": item["linkId"], "answer": [{"valueCoding": pick(item["answerOption"])["valueCoding"]}]}
        for item in questionnaire["item"]
        if item.get("answerOption") and not item.get("readOnly")
    ]  # fmt: skip


def test_measurement_loop_from_the_published_schema(live_server, settings):
    practitioner = factories.make_practitioner()
    _t, plain = tokens.issue(practitioner, "outside program", ["read", "write"], 30)
    p = Program(live_server.url, plain)

    client = p.call("create_client", json={"care_consent": True}, expect=201)
    engagement = p.call(
        "create_engagement", json={"client_ids": [client["id"]]}, expect=201
    )
    plan = p.call("get_plan", engagement_id=engagement["id"])
    client_instruments = [
        e["instrument_id"] for e in plan if e["rater_role"] == "client"
    ]
    assert "phq9" in client_instruments

    # session 1: every client instrument through the JSON API, lowest answers
    s1 = p.call("create_session", engagement_id=engagement["id"], json={}, expect=201)
    phq9 = p.http.get("/fhir/Questionnaire/phq9").raise_for_status().json()
    lowest = {str(i): 0 for i in range(1, 10)}
    stored = p.call(
        "submit_responses", session_id=s1["id"], expect=201,
        json={"rater_role": "client", "client_id": client["id"], "answers": {"phq9": lowest}},
    )  # fmt: skip
    assert stored[0]["scores"][0]["value"] == 0

    # session 2: PHQ-9 through FHIR, highest answers (total 27)
    s2 = p.call("create_session", engagement_id=engagement["id"], json={}, expect=201)
    resource = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": phq9["url"],
        "status": "completed",
        "subject": {"reference": f"Patient/{client['code']}"},
        "encounter": {"reference": f"Encounter/{s2['id']}"},
        "item": _fhir_answers(phq9, lambda options: options[-1]),
    }
    r = p.http.post("/fhir/QuestionnaireResponse", json=resource)
    assert r.status_code == 201, r.text

    # read the scores back
    page = p.call("list_responses", params={"engagement_id": engagement["id"]})
    totals = sorted(
        s["value"] for x in page["items"] if x["instrument_id"] == "phq9"
        for s in x["scores"] if s["subscale"] == ""
    )  # fmt: skip
    assert totals == [0.0, 27.0]

    # PHQ-9 0 -> 27 (the whole range) is a reliable deterioration under any criterion:
    # the storage path queues the alert evaluation, so an alert is open
    alerts = p.call(
        "list_alerts", params={"engagement_id": engagement["id"], "status": "open"}
    )
    assert alerts["items"], "no open alert after a 27-point PHQ-9 rise"
    first = alerts["items"][0]
    done = p.call("acknowledge_alert", alert_id=first["id"], json={})
    assert done["status"] == "acknowledged"

    # the Insights figures: a task worker fits them (as in production), so the first
    # request is a 202 with a status URL to poll; the figures come once it is done
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    method, path = p.ops["get_alliance_insights"]
    first = p.http.request(method, path)
    assert first.status_code == 202, first.text
    status = p.http.get(first.headers["Location"]).raise_for_status().json()
    assert status["state"] in ("queued", "running")
    call_command(
        "db_worker", "--batch", verbosity=0
    )  # the server's worker runs the fit
    status = p.http.get(first.headers["Location"]).raise_for_status().json()
    assert status["state"] == "done"
    figures = p.http.get(status["result_url"])
    assert figures.status_code == 200, figures.text
    assert figures.json()["n_engagements"] == 1
    assert "the analyses need at least 5" in figures.json()["notes"][0]
