"""The JSON API's rules: tokens only, scopes, the access policy, one error shape, audit."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from harmonybridge.web.alerts.models import AlertStatus, StoredAlert
from harmonybridge.web.api.models import ApiToken, IdempotencyRecord
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins.models import CheckIn, Response
from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories

pytestmark = pytest.mark.django_db

PHQ9 = {str(i): 1 for i in range(1, 10)}
GAD7 = {str(i): 2 for i in range(1, 8)}


@pytest.fixture
def therapy(practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    return factories.make_session(engagement)


def _is_error_list(body, field):
    assert isinstance(body, list)
    assert body
    for e in body:
        assert set(e) == {"field", "message", "code"}
    assert body[0]["field"] == field, body


def test_no_token_is_401_with_the_error_shape(client):
    r = client.get("/api/v1/clients")
    assert r.status_code == 401
    _is_error_list(r.json(), "Authorization")


def test_a_session_cookie_is_not_enough(owner_client):
    r = owner_client.get("/api/v1/clients")
    assert r.status_code == 401


def test_expired_and_revoked_tokens_get_401(api, practitioner):
    token = ApiToken.objects.get(user=practitioner)
    assert api.get("/api/v1/clients").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert api.get("/api/v1/clients").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=1), revoked_at=timezone.now()
    )
    assert api.get("/api/v1/clients").status_code == 401


def test_a_read_token_cannot_write(api, practitioner, make_token):
    read_only = make_token(practitioner, scopes=("read",))
    r = api.post("/api/v1/clients", {}, token=read_only)
    assert r.status_code == 403
    _is_error_list(r.json(), "Authorization")
    assert r.json()[0]["code"] == "missing_scope"


def test_token_of_practice_a_never_reaches_practice_b(
    api, other_practitioner, practitioner
):
    theirs = factories.make_engagement(other_practitioner)
    their_client = theirs.clients.first()
    r = api.get(f"/api/v1/clients/{their_client.pk}")
    assert r.status_code == 404
    _is_error_list(r.json(), "client_id")
    assert api.get(f"/api/v1/engagements/{theirs.pk}").status_code == 404
    listed = api.get("/api/v1/clients").json()["items"]
    assert their_client.pk not in {c["id"] for c in listed}


def test_names_only_with_the_identify_scope(api, practitioner, make_token):
    c = factories.make_client(practitioner, name="Ada Example")
    assert api.get(f"/api/v1/clients/{c.pk}").json()["name"] is None
    ident = make_token(practitioner, scopes=("read", "identify"))
    assert (
        api.get(f"/api/v1/clients/{c.pk}", token=ident).json()["name"] == "Ada Example"
    )


def test_every_call_is_audited_with_the_client_code(api, practitioner):
    c = factories.make_client(practitioner)
    api.get(f"/api/v1/clients/{c.pk}")
    event = AuditEvent.objects.get(action="api.client.view")
    assert event.actor == practitioner
    assert event.client_code == c.code
    assert event.detail["token"] == ApiToken.objects.get(user=practitioner).pk


def test_malformed_json_is_400_and_wrong_types_are_422(api, therapy):
    r = api.post(f"/api/v1/sessions/{therapy.pk}/responses", raw="{not json")
    assert r.status_code == 400
    _is_error_list(r.json(), "body")
    client_id = therapy.engagement.clients.first().pk
    r = api.post(
        f"/api/v1/sessions/{therapy.pk}/responses",
        {
            "rater_role": "client",
            "client_id": str(client_id),
            "answers": {"phq9": PHQ9},
        },
    )
    assert r.status_code == 422
    _is_error_list(r.json(), "client_id")
    r = api.post(
        f"/api/v1/sessions/{therapy.pk}/responses",
        {
            "rater_role": "client",
            "client_id": client_id,
            "answers": {"phq9": {"1": False}},
        },
    )
    assert r.status_code == 422
    assert r.json()[0]["field"].startswith("answers.phq9.1")


def test_query_parameters_are_validated(api):
    r = api.get("/api/v1/engagements?status=nonsense")
    assert r.status_code == 422
    _is_error_list(r.json(), "status")
    r = api.get("/api/v1/engagements?cursor=%%%")
    assert r.status_code == 422
    _is_error_list(r.json(), "cursor")


def test_cursor_pagination_walks_every_client_once(api, practitioner):
    made = {factories.make_client(practitioner).pk for _ in range(7)}
    seen, url = [], "/api/v1/clients?limit=3"
    while url:
        page = api.get(url).json()
        seen += [c["id"] for c in page["items"]]
        url = (
            f"/api/v1/clients?limit=3&cursor={page['next_cursor']}"
            if page["next_cursor"]
            else None
        )
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_submit_goes_through_the_checkin_storage_path(api, therapy):
    client_id = therapy.engagement.clients.first().pk
    r = api.post(
        f"/api/v1/sessions/{therapy.pk}/responses",
        {
            "rater_role": "client",
            "client_id": client_id,
            "answers": {"phq9": PHQ9, "gad7": GAD7},
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    totals = {x["instrument_id"]: x["scores"][0] for x in body}
    # PHQ-9: nine items answered 1 -> total 9 ("mild", 5-9); GAD-7: seven items 2 -> 14.
    assert totals["phq9"]["value"] == 9
    assert totals["gad7"]["value"] == 14
    checkin = CheckIn.objects.get(session=therapy)
    assert checkin.submitted_at is not None
    assert checkin.channel == "api"
    assert set(Response.objects.values_list("channel", flat=True)) == {"api"}
    assert AuditEvent.objects.filter(action="checkin.submit").count() == 1
    # a second submission for the same client and session is a conflict, nothing stored
    r = api.post(
        f"/api/v1/sessions/{therapy.pk}/responses",
        {"rater_role": "client", "client_id": client_id, "answers": {"phq9": PHQ9}},
    )
    assert r.status_code == 409
    assert Response.objects.count() == 2


def test_an_item_outside_the_answer_set_names_the_item(api, therapy):
    client_id = therapy.engagement.clients.first().pk
    r = api.post(
        f"/api/v1/sessions/{therapy.pk}/responses",
        {
            "rater_role": "client",
            "client_id": client_id,
            "answers": {"phq9": {**PHQ9, "4": 7}},
        },
    )
    assert r.status_code == 422
    assert r.json()[0]["field"] == "answers.phq9.4"
    r = api.post(
        f"/api/v1/sessions/{therapy.pk}/responses",
        {"rater_role": "client", "client_id": client_id, "answers": {"wai_sr": PHQ9}},
    )
    assert r.status_code == 422
    assert r.json()[0]["field"] == "answers.wai_sr"
    assert Response.objects.count() == 0


def test_idempotency_key_returns_the_first_result_and_refuses_another_body(
    api, therapy
):
    client_id = therapy.engagement.clients.first().pk
    url = f"/api/v1/sessions/{therapy.pk}/responses"
    body = {"rater_role": "client", "client_id": client_id, "answers": {"phq9": PHQ9}}
    first = api.post(url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Response.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    other = {**body, "answers": {"phq9": {**PHQ9, "1": 0}}}
    r = api.post(url, other, HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 409
    _is_error_list(r.json(), "Idempotency-Key")


def test_idempotency_key_expires_after_24_hours(api, therapy, practitioner):
    client_id = therapy.engagement.clients.first().pk
    url = f"/api/v1/sessions/{therapy.pk}/responses"
    body = {"rater_role": "client", "client_id": client_id, "answers": {"phq9": PHQ9}}
    assert api.post(url, body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    # the key is forgotten: the same body now runs again and meets the stored check-in
    assert api.post(url, body, HTTP_IDEMPOTENCY_KEY="k").status_code == 409


def test_acknowledge_and_resolve_an_alert(api, engagement, practitioner):
    alert = StoredAlert.objects.create(
        engagement=engagement, rule_id="alliance.low", rule_version="1",
        severity="warning", message="Low alliance",
    )  # fmt: skip
    listed = api.get("/api/v1/alerts?status=open").json()["items"]
    assert [a["id"] for a in listed] == [alert.pk]
    r = api.post(f"/api/v1/alerts/{alert.pk}/acknowledge", {})
    assert r.status_code == 200
    assert r.json()["status"] == "acknowledged"
    assert api.post(f"/api/v1/alerts/{alert.pk}/acknowledge", {}).status_code == 409
    r = api.post(f"/api/v1/alerts/{alert.pk}/resolve", {"note": ""})
    assert r.status_code == 422
    assert r.json()[0]["field"] == "note"
    r = api.post(f"/api/v1/alerts/{alert.pk}/resolve", {"note": "talked it through"})
    assert r.json()["status"] == AlertStatus.RESOLVED


def test_openapi_schema_declares_404_and_error_shape(client):
    schema = client.get("/api/v1/openapi.json").json()
    op = schema["paths"]["/api/v1/clients/{client_id}"]["get"]
    assert "404" in op["responses"]
    assert "401" in op["responses"]
    assert json.dumps(schema).count("ErrorOut") > 10


def test_openapi_document_has_no_repeated_key(client):
    """The docs page parses the schema as YAML, where a repeated key is an error (a
    202 declared once by ninja and once as "202" in openapi_extra broke the page)."""
    repeated: list[str] = []

    def pairs(items):
        keys = [k for k, _ in items]
        repeated.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(items)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=pairs)
    assert repeated == []


def test_docs_page_is_served_from_our_static_files_under_csp(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "script-src 'self'" in r["Content-Security-Policy"]


def test_a_safety_answer_makes_a_safety_card_the_api_can_close(api, therapy):
    client_id = therapy.engagement.clients.first().pk
    api.post(
        f"/api/v1/sessions/{therapy.pk}/responses",
        {"rater_role": "client", "client_id": client_id, "answers": {"phq9": PHQ9}},
    )  # PHQ-9 item 9 answered 1 ("several days") is the safety item
    (card,) = api.get("/api/v1/safety-cards").json()
    assert card["client_id"] == client_id
    notice = card["notices"][0]
    assert (notice["instrument"], notice["item_number"], notice["answer"]) == (
        "phq9",
        9,
        1,
    )
    r = api.post(
        f"/api/v1/safety-notices/{notice['id']}/action", {"action": "nonsense"}
    )
    assert r.status_code == 422
    assert r.json()[0]["field"] == "action"
    r = api.post(
        f"/api/v1/safety-notices/{notice['id']}/action", {"action": "contacted"}
    )
    assert r.json() == {"closed": 1}
    assert api.get("/api/v1/safety-cards").json() == []
    r = api.post(
        f"/api/v1/safety-notices/{notice['id']}/action", {"action": "contacted"}
    )
    assert r.status_code == 404


def test_rupture_records_are_listed_without_notes(api, session, practitioner):
    from harmonybridge.web.repairs.models import RepairRecord

    RepairRecord.objects.create(
        session=session, markers=["withdrawal"], resolved="partly", note="private words"
    )
    items = api.get("/api/v1/rupture-records").json()["items"]
    assert items[0]["markers"] == ["withdrawal"]
    assert "private words" not in json.dumps(items)


def test_path_ids_that_are_not_numbers_are_422_naming_the_field(api):
    r = api.get("/api/v1/clients/abc")
    assert r.status_code == 422
    assert r.json()[0]["field"] == "client_id"
    r = api.get(f"/api/v1/clients/{2**70}")
    assert r.status_code == 422


def test_a_wrong_method_answers_in_the_error_shape(api):
    r = api.get("/api/v1/alerts/1/acknowledge")
    assert r.status_code == 405
    _is_error_list(r.json(), "method")


def test_a_client_named_twice_is_422_not_a_server_error(api, practitioner):
    # found by schemathesis (.ci/api_fuzz.py): {"client_ids": [1, 1]} was a 500
    c = factories.make_client(practitioner)
    r = api.post("/api/v1/engagements", {"client_ids": [c.pk, c.pk]})
    assert r.status_code == 422
    assert r.json()[0]["field"] == "client_ids.1"
