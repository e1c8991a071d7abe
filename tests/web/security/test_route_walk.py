"""Every URL the app defines is either login-protected or on an explicit public allow-list.

After the 18F Tock pattern: the URLconf is walked, every route must appear in ROUTES
(a new route missing from the table fails the suite), anonymous requests to protected
routes go to the sign-in page, and every object route is tried by staff who must not
see the object (another practice; another practitioner of the same practice): 404 and
no row of any table changed.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice.models import PlanEntry
from tests.web.security.support import (
    give_totp,
    make_client_world,
    make_practice,
    make_staff,
)

PUBLIC = "public"  # anyone, no client data
CHECKIN = "checkin"  # clients, by token or the check-in cookie only; no staff data
STAFF = "staff"  # sign-in required
RESEARCH = "research"  # sign-in required; no identifiable client (researchers allowed)
TOKEN = "token"  # a personal access token only (the JSON API and FHIR); never a session

#: Route name -> (access, {url kwarg: which object of make_client_world() fills it}).
ROUTES: dict[str, tuple[str, dict[str, str]]] = {
    "home": (STAFF, {}),
    "healthz": (PUBLIC, {}),
    "favicon": (PUBLIC, {}),
    # allauth: sign-in, password reset and two-factor steps
    "account_login": (PUBLIC, {}),
    "account_logout": (PUBLIC, {}),
    "account_inactive": (PUBLIC, {}),
    "account_signup": (PUBLIC, {}),  # closed: renders "no self sign-up"
    "account_reauthenticate": (STAFF, {}),
    "account_request_reauthentication_code": (STAFF, {}),
    "account_confirm_reauthentication_code": (STAFF, {}),
    "account_email": (STAFF, {}),
    "account_email_verification_sent": (PUBLIC, {}),
    "account_change_password": (STAFF, {}),
    "account_set_password": (STAFF, {}),
    "account_reset_password": (PUBLIC, {}),
    "account_confirm_login_code": (PUBLIC, {}),
    "account_confirm_email": (PUBLIC, {"key": "text"}),
    "account_reset_password_from_key_done": (PUBLIC, {}),
    "account_reset_password_from_key": (PUBLIC, {"uidb36": "text", "key": "text"}),
    "account_reset_password_done": (PUBLIC, {}),
    "mfa_index": (STAFF, {}),
    "mfa_authenticate": (PUBLIC, {}),  # the second step of a sign-in in progress
    "mfa_reauthenticate": (STAFF, {}),
    "mfa_activate_totp": (STAFF, {}),
    "mfa_deactivate_totp": (STAFF, {}),
    "mfa_view_recovery_codes": (STAFF, {}),
    "mfa_generate_recovery_codes": (STAFF, {}),
    "mfa_download_recovery_codes": (STAFF, {}),
    # practice app
    "insights:engagements": (STAFF, {}),
    "practice:client_create": (STAFF, {}),
    "practice:client": (STAFF, {"pk": "client"}),
    "practice:client_edit": (STAFF, {"pk": "client"}),
    "practice:engagement_create": (STAFF, {"client_pk": "client"}),
    "practice:engagement": (STAFF, {"pk": "engagement"}),
    "practice:engagement_edit": (STAFF, {"pk": "engagement"}),
    "practice:plan_add": (STAFF, {"pk": "engagement"}),
    "practice:plan_brief": (STAFF, {"pk": "engagement"}),
    "practice:plan_remove": (STAFF, {"pk": "engagement", "entry_pk": "plan_entry"}),
    "practice:session_create": (STAFF, {"pk": "engagement"}),
    "practice:session": (STAFF, {"pk": "session"}),
    "practice:session_rate": (STAFF, {"pk": "session"}),
    "practice:session_rating_correct": (
        STAFF,
        {"pk": "session", "response_pk": "practitioner_rating"},
    ),
    "practice:checkin_links": (STAFF, {"pk": "session"}),
    "practice:admin": (STAFF, {}),
    "practice:add_service_line": (STAFF, {}),
    "practice:add_person": (STAFF, {}),
    "practice:save_wording": (STAFF, {}),
    "practice:save_practice": (STAFF, {}),
    "practice:save_conventions": (STAFF, {}),
    # client check-in (token, then a signed cookie)
    "checkins:step": (CHECKIN, {}),
    "checkins:submit": (CHECKIN, {}),
    "checkins:done": (CHECKIN, {}),
    "checkins:draft": (CHECKIN, {}),
    "checkins:start": (CHECKIN, {"token": "text"}),
    # alerts
    "insights:alerts": (STAFF, {}),
    "alerts:safety_cards": (STAFF, {}),
    "alerts:safety_action": (STAFF, {"pk": "safety_notice"}),
    "insights:alert_act": (STAFF, {"pk": "stored_alert", "action": "=acknowledge"}),
    # insights (dashboards, reports) and the rupture-repair record
    "insights:caseload": (STAFF, {}),
    "insights:guide": (STAFF, {}),
    "insights:alliance": (STAFF, {}),
    "insights:dashboard": (STAFF, {"pk": "engagement"}),
    "insights:goals": (STAFF, {"pk": "engagement"}),
    "insights:client_view": (STAFF, {"pk": "engagement"}),
    "insights:report": (STAFF, {"pk": "engagement"}),
    "insights:report_html": (STAFF, {"pk": "engagement"}),
    "insights:report_pdf": (STAFF, {"pk": "engagement"}),
    "insights:answers": (STAFF, {"pk": "session"}),
    "insights:curves": (STAFF, {}),  # practice admin only
    "insights:curve_accept": (STAFF, {"pk": "curve_set"}),
    "insights:my_progress": (CHECKIN, {}),  # the client's own view, by check-in cookie
    "repairs:record": (STAFF, {"engagement_pk": "engagement", "session_pk": "session"}),
    "repairs:episodes": (STAFF, {"engagement_pk": "engagement"}),
    # audit and privacy
    "audit:log": (STAFF, {}),
    "privacy:export": (STAFF, {"pk": "client"}),
    "privacy:export_bundle": (STAFF, {"pk": "client"}),
    "privacy:erase": (STAFF, {"pk": "client"}),
    # research mode: export projects (admin, researcher) and consent (client pages)
    "research:projects": (RESEARCH, {}),
    "research:project_create": (RESEARCH, {}),
    "research:project": (RESEARCH, {"pk": "export_project"}),
    "research:project_run": (RESEARCH, {"pk": "export_project"}),
    "research:run_download": (
        RESEARCH,
        {"pk": "export_project", "run_pk": "export_run"},
    ),
    "research:sheets": (RESEARCH, {}),
    "research:client_consent": (STAFF, {"pk": "client"}),
    # the JSON API and FHIR (personal access tokens; docs and metadata hold no data)
    "api-v1:api-root": (PUBLIC, {}),
    "api-v1:openapi-json": (PUBLIC, {}),
    "api-v1:openapi-view": (PUBLIC, {}),
    "api-v1:list_clients": (TOKEN, {}),
    "api-v1:create_client": (TOKEN, {}),
    "api-v1:get_client": (TOKEN, {"client_id": "=1"}),
    "api-v1:list_engagements": (TOKEN, {}),
    "api-v1:create_engagement_": (TOKEN, {}),
    "api-v1:get_engagement": (TOKEN, {"engagement_id": "=1"}),
    "api-v1:get_plan": (TOKEN, {"engagement_id": "=1"}),
    "api-v1:add_plan_entry": (TOKEN, {"engagement_id": "=1"}),
    "api-v1:update_plan_entry": (TOKEN, {"engagement_id": "=1", "entry_id": "=1"}),
    "api-v1:remove_plan_entry": (TOKEN, {"engagement_id": "=1", "entry_id": "=1"}),
    "api-v1:set_brief_plan": (TOKEN, {"engagement_id": "=1"}),
    "api-v1:create_session": (TOKEN, {"engagement_id": "=1"}),
    "api-v1:list_sessions": (TOKEN, {}),
    "api-v1:get_session": (TOKEN, {"session_id": "=1"}),
    "api-v1:create_checkin_link": (TOKEN, {"session_id": "=1"}),
    "api-v1:revoke_checkin_link": (TOKEN, {"checkin_id": "=1"}),
    "api-v1:submit_responses": (TOKEN, {"session_id": "=1"}),
    "api-v1:list_responses": (TOKEN, {}),
    "api-v1:list_alerts": (TOKEN, {}),
    "api-v1:get_alert": (TOKEN, {"alert_id": "=1"}),
    "api-v1:acknowledge_alert": (TOKEN, {"alert_id": "=1"}),
    "api-v1:resolve_alert": (TOKEN, {"alert_id": "=1"}),
    "api-v1:list_safety_cards": (TOKEN, {}),
    "api-v1:record_safety_action": (TOKEN, {"notice_id": "=1"}),
    "api-v1:list_rupture_records": (TOKEN, {}),
    "api-v1:get_rupture_record": (TOKEN, {"record_id": "=1"}),
    "api-v1:update_rupture_record": (TOKEN, {"record_id": "=1"}),
    "api-v1:create_rupture_record": (TOKEN, {"session_id": "=1"}),
    "api-v1:get_alliance_insights": (TOKEN, {}),
    "api-v1:get_insights_status": (TOKEN, {"status_id": "text"}),
    "api-v1:list_service_lines": (TOKEN, {}),
    "fhir:api-root": (PUBLIC, {}),
    "fhir:openapi-json": (PUBLIC, {}),
    "fhir:metadata": (PUBLIC, {}),
    "fhir:search_questionnaires": (TOKEN, {}),
    "fhir:read_questionnaire": (TOKEN, {"rid": "text"}),
    "fhir:search_questionnaire_responses": (TOKEN, {}),
    "fhir:create_questionnaire_response": (TOKEN, {}),
    "fhir:read_questionnaire_response": (TOKEN, {"rid": "=1"}),
    "fhir:search_observations": (TOKEN, {}),
    "fhir:read_observation": (TOKEN, {"rid": "=1"}),
    "fhir:read_patient": (TOKEN, {"rid": "text"}),
    "api_tokens:list": (STAFF, {}),
    "api_tokens:revoke": (STAFF, {}),  # POST only, the person's own tokens
}

#: Tables whose rows may change on any request (bookkeeping, never client data).
VOLATILE_TABLES = {
    "audit_auditevent",
    "django_session",
    "account_emailaddress",  # allauth mirrors a staff member's own address on first visit
    # derived results kept like a cache, keyed by the data version they come from: a
    # dashboard that finds them missing or stale computes and keeps them (issue 14 §3)
    "insights_engagementsummary",
}
VOLATILE_PREFIXES = ("axes_",)


def _walk(
    patterns: list[Any], namespace: str | None = None
) -> list[tuple[str, list[str]]]:
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            child_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            found += _walk(p.url_patterns, child_ns)
        elif isinstance(p, URLPattern):
            name = p.name or f"<unnamed {p.pattern}>"
            full = f"{namespace}:{name}" if namespace else name
            found.append((full, sorted(p.pattern.regex.groupindex)))
    return found


def all_routes() -> dict[str, list[str]]:
    return dict(_walk(get_resolver().url_patterns))


def test_every_route_is_in_the_table():
    routes = all_routes()
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, f"add these routes to ROUTES with their access rule: {missing}"


def test_table_has_no_stale_entries():
    stale = sorted(set(ROUTES) - set(all_routes()))
    assert not stale, f"these routes no longer exist: {stale}"


@pytest.mark.parametrize("name", sorted(all_routes()))
def test_table_names_every_url_kwarg(name):
    if name not in ROUTES:
        pytest.fail(f"{name} is not in ROUTES")
    assert sorted(ROUTES[name][1]) == all_routes()[name]


def _url(name: str, world: dict[str, Any] | None = None) -> str:
    kwargs = {}
    for kwarg, kind in ROUTES[name][1].items():
        if kind == "text":
            kwargs[kwarg] = "abc123"
        elif kind.startswith("="):
            kwargs[kwarg] = kind[1:]
        else:
            kwargs[kwarg] = world[kind].pk if world else 1
    return reverse(name, kwargs=kwargs)


#: The object routes that answer only POST, with a valid payload for the admin.
POST_ONLY: dict[str, dict[str, str]] = {
    "practice:plan_add": {
        "instrument_id": "gad7",
        "rater_role": "client",
        "every_n": "1",
        "starting_session": "1",
    },
    "practice:plan_remove": {},
    "practice:plan_brief": {"brief": "1"},
    "practice:session_rate": {
        "instrument": "hb_checkin_practitioner",
        # the answers of tests/web/practice/test_session_pages.py::RATING
        **{f"hb_checkin_practitioner-i{i}": v for i, v in enumerate("435124", 1)},
    },
    "practice:session_rating_correct": {
        f"hb_checkin_practitioner-i{i}": v for i, v in enumerate("435124", 1)
    },
    "practice:checkin_links": {"channel": "link"},
    "insights:alert_act": {"note": ""},
    "alerts:safety_action": {"action": "contacted", "note": ""},
    "insights:goals": {"goal_1": "synthetic goal"},
    "insights:client_view": {"show_alliance": "on"},
    "insights:curve_accept": {},
}

STAFF_ROUTES = sorted(
    n for n, (access, _) in ROUTES.items() if access in (STAFF, RESEARCH)
)
OBJECT_ROUTES = sorted(
    n
    for n, (access, kw) in ROUTES.items()
    if access == STAFF and any(k != "text" for k in kw.values())
)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", STAFF_ROUTES)
def test_anonymous_is_sent_to_login(name, method):
    response = getattr(Client(), method)(_url(name))
    if response.status_code == 405:
        return  # the method is refused before anything else happens
    assert response.status_code == 302, (name, response.status_code)
    assert response["Location"].startswith("/accounts/login/"), (
        name,
        response["Location"],
    )


TOKEN_ROUTES = sorted(n for n, (access, _) in ROUTES.items() if access == TOKEN)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", TOKEN_ROUTES)
def test_token_routes_refuse_a_session(name, method):
    """Without a token the API answers 401, whether or not a signed-in session comes along."""
    world = make_client_world()
    admin = make_staff(world["practice"], "admin")
    give_totp(admin)
    anonymous, signed_in = Client(), Client()
    signed_in.force_login(admin)
    for client in (anonymous, signed_in):
        if method == "get":
            response = client.get(_url(name))
        else:
            response = client.post(_url(name), "{}", content_type="application/json")
        if response.status_code == 405:
            return  # the method is refused before anything else happens
        assert response.status_code == 401, (name, method, response.status_code)
        assert response["Content-Type"].split(";")[0].endswith("json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", sorted(n for n, (a, _) in ROUTES.items() if a in (PUBLIC, CHECKIN))
)
def test_public_routes_answer_without_error(name):
    response = Client().get(_url(name))
    assert response.status_code < 500, name


def _table_fingerprint() -> dict[str, str]:
    """A hash of every row of every model table, volatile bookkeeping tables excepted."""
    fingerprint = {}
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table in VOLATILE_TABLES or table.startswith(VOLATILE_PREFIXES):
                continue
            cursor.execute(f"SELECT * FROM {qn(table)} ORDER BY 1")
            digest = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
            fingerprint[table] = digest
    return fingerprint


def _intruder(kind: str, world: dict[str, Any]):
    if kind == "other_practice_admin":
        user = make_staff(make_practice(), "admin")
    elif kind == "other_practice_practitioner":
        user = make_staff(make_practice(), "practitioner")
    elif kind == "same_practice_colleague":
        user = make_staff(world["practice"], "practitioner")
    else:  # a researcher of the same practice sees no identifiable page
        user = make_staff(world["practice"], "researcher")
    give_totp(user)
    return user


INTRUDERS = [
    "other_practice_admin",
    "other_practice_practitioner",
    "same_practice_colleague",
    "same_practice_researcher",
]


@pytest.mark.django_db
@pytest.mark.parametrize("intruder", INTRUDERS)
@pytest.mark.parametrize("name", OBJECT_ROUTES)
def test_object_routes_are_404_for_those_who_may_not_see(name, intruder, settings):
    settings.HB_REQUIRE_MFA = True  # production behaviour; the intruder has TOTP
    world = make_client_world()
    client = Client()
    client.force_login(_intruder(intruder, world))
    url = _url(name, world)
    before = _table_fingerprint()
    payload = {"confirm": "yes", "code": world["client"].code}
    for method in ("get", "post", "put", "patch", "delete"):
        data = payload if method in ("get", "post") else "confirm=yes"
        response = getattr(client, method)(url, data)
        assert response.status_code in (404, 405), (name, method, response.status_code)
    assert _table_fingerprint() == before, name


RESEARCH_OBJECT_ROUTES = sorted(
    n for n, (access, kw) in ROUTES.items() if access == RESEARCH and kw
)


@pytest.mark.django_db
@pytest.mark.parametrize("intruder", INTRUDERS[:3])
@pytest.mark.parametrize("name", RESEARCH_OBJECT_ROUTES)
def test_export_project_routes_are_404_outside_admin_and_researchers(
    name, intruder, settings
):
    """Export projects: another practice, or a practitioner of this one, gets 404."""
    world = make_client_world()
    client = Client()
    client.force_login(_intruder(intruder, world))
    url = _url(name, world)
    before = _table_fingerprint()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (404, 405), (name, method, response.status_code)
    assert _table_fingerprint() == before, name


@pytest.mark.django_db
@pytest.mark.parametrize("name", OBJECT_ROUTES)
def test_object_routes_open_for_the_practice_admin(name, settings):
    """The positive control: the same URLs work for someone who may see the object."""
    world = make_client_world()
    admin = make_staff(world["practice"], "admin")
    client = Client()
    client.force_login(admin)
    response = client.get(_url(name, world))
    assert response.status_code in (200, 302, 405), (name, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("name", OBJECT_ROUTES)
def test_every_view_of_client_data_is_audited(name):
    """Every object route (a page showing one client's data, or a POST changing it)
    leaves an audit event naming the admin and the practice."""
    world = make_client_world()
    admin = make_staff(world["practice"], "admin")
    if name == "practice:session_rating_correct":  # only one's own rating (else 404)
        admin = world["practitioner"]
    client = Client()
    client.force_login(admin)
    before = AuditEvent.objects.exclude(action="login").count()
    if name == "practice:session_rate":  # the practitioner's own rating is due
        PlanEntry.objects.create(
            plan=world["plan_entry"].plan,
            instrument_id="hb_checkin_practitioner",
            rater_role="practitioner",
        )
    if name in POST_ONLY:  # these refuse GET: walk them with the POST they answer
        response = client.post(_url(name, world), POST_ONLY[name])
        assert client.get(_url(name, world)).status_code == 405, name
    else:
        response = client.get(_url(name, world))
    assert response.status_code in (200, 302), (name, response.status_code)
    events = AuditEvent.objects.exclude(action="login").order_by("-id")
    assert events.count() > before, f"{name} showed client data without an audit event"
    newest = events.first()
    assert newest.actor == admin
    assert newest.practice_id_ref == world["practice"].pk


_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I
)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"", re.I)
_INLINE_HANDLER = re.compile(r"\son(?:click|load|change|submit|input)=", re.I)


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF_ROUTES)
def test_pages_render_and_pass_the_strict_csp(name, settings):
    """Every staff page renders for a signed-in admin with two-factor set up, with no
    inline script, inline style or event-handler attribute (the CSP would block them)."""
    settings.HB_REQUIRE_MFA = True
    world = make_client_world()
    admin = make_staff(world["practice"], "admin")
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    response = client.get(_url(name, world), follow=True)
    assert response.status_code < 500, name
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return
    html = response.content.decode(errors="replace")
    assert not _INLINE_SCRIPT.search(html), f"{name}: inline <script>"
    assert not _INLINE_HANDLER.search(html), f"{name}: inline event handler"
    assert not _INLINE_STYLE.search(html), f"{name}: inline style"
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title, f"{name}: no <title>"
    assert "<" not in title.group(1), f"{name}: markup in the <title>"


@pytest.mark.django_db
def test_researcher_never_sees_names_contacts_or_free_text():
    """A researcher of the same practice opens every staff page: no planted marker shows."""
    from tests.web.security.support import MARK_EMAIL, MARK_NAME, MARK_TEXT

    world = make_client_world()
    researcher = make_staff(world["practice"], "researcher")
    client = Client()
    client.force_login(researcher)
    for name in STAFF_ROUTES:
        response = client.get(_url(name, world), follow=True)
        assert response.status_code < 500, name
        body = response.content.decode(errors="replace")
        for marker in (MARK_NAME, MARK_EMAIL, MARK_TEXT, "ZZCANARY"):
            assert marker not in body, (name, marker)


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF_ROUTES)
def test_get_changes_nothing(name):
    """GET and HEAD never change data (ASVS 3.5.3); only the audit log grows."""
    world = make_client_world()
    # The engagement has no plan yet, so a GET that created one would show here.
    world["plan_entry"].plan.delete()
    admin = make_staff(world["practice"], "admin")
    client = Client()
    client.force_login(admin)
    before = _table_fingerprint()
    client.get(_url(name, world))
    client.head(_url(name, world))
    assert _table_fingerprint() == before, name
