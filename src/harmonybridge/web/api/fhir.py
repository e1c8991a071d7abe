"""FHIR R4 endpoints (``/fhir/``): Questionnaire, QuestionnaireResponse, Observation and a
pseudonymous Patient, built by the shared builder :mod:`harmonybridge.fhir`.

Token auth and the access policy as in the JSON API. Patient id = the client code;
QuestionnaireResponse id = the stored response's id; Observation id = the stored
score's id; a session is an ``Encounter`` (``Encounter/<session id>``). Searches
without a ``subject`` span the whole caseload and need the ``export`` scope.
Errors are ``OperationOutcome`` resources naming the item.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from harmonybridge import fhir as hbfhir
from harmonybridge import instruments
from harmonybridge.errors import DataValidationError
from harmonybridge.web.api import access, services
from harmonybridge.web.api.errors import ApiError, json_method_errors
from harmonybridge.web.api.models import ApiToken, Scope
from harmonybridge.web.api.v1 import MAX_ID, TokenAuth, _seen
from harmonybridge.web.checkins.models import Response, Score
from harmonybridge.web.practice import catalogue
from harmonybridge.web.practice.models import RaterRole

FHIR_JSON = "application/fhir+json"
MAX_COUNT = 200
_ITEM = re.compile(r"item '([^']+)'")
CLIENT_CODE_SYSTEM = "urn:harmonybridge:client-code"


class FhirRenderer(JSONRenderer):
    media_type = FHIR_JSON


class FhirError(Exception):
    def __init__(self, status: int, issues: list[hbfhir.Issue]) -> None:
        super().__init__(issues[0].diagnostics)
        self.status = status
        self.issues = issues


fhir = NinjaAPI(
    title="HarmonyBridge FHIR R4",
    version="4.0.1",
    urls_namespace="fhir",
    auth=TokenAuth(),
    renderer=FhirRenderer(),
    docs_url=None,
)


def _outcome(
    request: HttpRequest, status: int, issues: list[hbfhir.Issue]
) -> HttpResponse:
    return fhir.create_response(
        request, hbfhir.operation_outcome(issues), status=status
    )


@fhir.exception_handler(FhirError)
def _fhir_error(request: HttpRequest, exc: FhirError) -> HttpResponse:
    return _outcome(request, exc.status, exc.issues)


@fhir.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    code = {401: "login", 403: "forbidden", 404: "not-found", 409: "conflict"}.get(
        exc.status, "invalid"
    )
    issues = [
        hbfhir.Issue(e["message"], code=code, expression=(e["field"],))
        for e in exc.errors
    ]
    return _outcome(request, exc.status, issues)


@fhir.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    issues = [
        hbfhir.Issue(
            f"{'.'.join(map(str, e.get('loc', ())[1:]))}: {e.get('msg')}",
            code="invalid",
            expression=(".".join(map(str, e.get("loc", ())[1:])) or "request",),
        )
        for e in exc.errors
    ]
    return _outcome(request, 400, issues)


@fhir.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _outcome(
        request,
        401,
        [
            hbfhir.Issue(
                "A valid personal access token is needed (Bearer).", code="login"
            )
        ],
    )


@fhir.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _outcome(
        request, exc.status_code, [hbfhir.Issue(str(exc), code="structure")]
    )


def _pk(raw: str) -> int | None:
    """A database id from a FHIR id or paging key, or None when it cannot be one."""
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_ID else None


def _token(request: HttpRequest) -> ApiToken:
    return request.api_token  # type: ignore[attr-defined,no-any-return]


def _need(request: HttpRequest, scope: str) -> ApiToken:
    token = _token(request)
    if scope not in token.scopes:
        raise FhirError(
            403,
            [hbfhir.Issue(f"This token lacks the {scope!r} scope.", code="forbidden")],
        )
    return token


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


def _not_found(kind: str, rid: str) -> FhirError:
    return FhirError(
        404, [hbfhir.Issue(f"{kind}/{rid} is not known.", code="not-found")]
    )


def _count(request: HttpRequest) -> int:
    raw = request.GET.get("_count", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise FhirError(
            400,
            [
                hbfhir.Issue(
                    f"_count must be a whole number from 1 to {MAX_COUNT}.",
                    expression=("_count",),
                )
            ],
        )
    return int(raw)


def _after(request: HttpRequest) -> int | None:
    raw = request.GET.get("_after")
    if raw is None:
        return None
    if _pk(raw) is None:
        raise FhirError(
            400,
            [
                hbfhir.Issue(
                    "_after is a paging key from a next link.", expression=("_after",)
                )
            ],
        )
    return int(raw)


def _page(request: HttpRequest, qs: QuerySet[Any]) -> tuple[list[Any], str | None]:
    count = _count(request)
    after = _after(request)
    qs = qs.order_by("pk")
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs[: count + 1])
    if len(rows) <= count:
        return rows, None
    rows = rows[:count]
    params = {k: v for k, v in request.GET.items() if k != "_after"}
    params["_after"] = str(rows[-1].pk)
    return rows, request.build_absolute_uri(request.path) + "?" + urlencode(params)


def _bundle(request: HttpRequest, resources: list[dict], next_url: str | None) -> dict:
    return hbfhir.searchset_bundle(
        resources,
        base_url=_base(request),
        self_url=request.build_absolute_uri(),
        next_url=next_url,
    )


def _date_filter(
    qs: QuerySet[Any], field: str, values: list[str], name: str
) -> QuerySet[Any]:
    """FHIR date search (``ge``, ``gt``, ``le``, ``lt``, ``eq`` prefixes; a day or dateTime)."""
    for raw in values:
        prefix, value = (
            (raw[:2], raw[2:])
            if raw[:2] in ("ge", "gt", "le", "lt", "eq")
            else ("eq", raw)
        )
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                lookups = {"ge": "gte", "gt": "gt", "le": "lte", "lt": "lt"}
                qs = (
                    qs.filter(**{f"{field}__date": day})
                    if prefix == "eq"
                    else qs.filter(**{f"{field}__date__{lookups[prefix]}": day})
                )
            else:
                moment = dt.datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError
                op = {"eq": "exact", "ge": "gte", "gt": "gt", "le": "lte", "lt": "lt"}[
                    prefix
                ]
                qs = qs.filter(**{f"{field}__{op}": moment})
        except ValueError:
            raise FhirError(
                400,
                [
                    hbfhir.Issue(
                        f"{name}: {raw!r} is not a FHIR date or dateTime with offset.",
                        expression=(name,),
                    )
                ],
            ) from None
    return qs


# --- CapabilityStatement ------------------------------------------------------------


def _search(*params: tuple[str, str]) -> list[dict]:
    return [{"name": n, "type": t} for n, t in params]


@fhir.get("/metadata", auth=None)
def metadata(request: HttpRequest) -> dict:
    """The server's CapabilityStatement (no token needed: it holds no data)."""
    read_search = [{"code": "read"}, {"code": "search-type"}]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-07",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "implementation": {"description": "HarmonyBridge", "url": _base(request)},
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Personal access tokens: Authorization: Bearer hbp_…"
                },
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": read_search,
                        "searchParam": _search(("url", "uri"), ("name", "string")),
                    },
                    {
                        "type": "QuestionnaireResponse",
                        "interaction": [*read_search, {"code": "create"}],
                        "searchParam": _search(
                            ("subject", "reference"),
                            ("questionnaire", "reference"),
                            ("authored", "date"),
                            ("_count", "number"),
                        ),
                    },
                    {
                        "type": "Observation",
                        "interaction": read_search,
                        "searchParam": _search(
                            ("subject", "reference"),
                            ("code", "token"),
                            ("date", "date"),
                            ("_count", "number"),
                        ),
                    },
                    {"type": "Patient", "interaction": [{"code": "read"}]},
                ],
            }
        ],
    }


# --- Questionnaire ------------------------------------------------------------------


def _usable(request: HttpRequest) -> list[Any]:
    practice = _token(request).user.practice
    out = []
    for inst in instruments.all_instruments():
        usable = catalogue.instrument_for(practice, inst.id)
        if usable is not None:
            out.append(usable)
    return out


@fhir.get("/Questionnaire")
def search_questionnaires(request: HttpRequest) -> dict:
    _need(request, Scope.READ)
    url = request.GET.get("url")
    name = (request.GET.get("name") or "").lower()
    found = []
    for inst in _usable(request):
        q = hbfhir.questionnaire(inst)
        if url and q.get("url") != url.split("|")[0]:
            continue
        if name and name not in str(q.get("name", "")).lower() and name not in inst.id:
            continue
        found.append(q)
    _seen(request, "fhir.questionnaire.search", None, rows=len(found))
    return _bundle(request, found, None)


@fhir.get("/Questionnaire/{rid}")
def read_questionnaire(request: HttpRequest, rid: str) -> dict:
    _need(request, Scope.READ)
    for inst in _usable(request):
        if inst.id.replace("_", "-") == rid:
            _seen(request, "fhir.questionnaire.read", None, instrument=inst.id)
            return hbfhir.questionnaire(inst)
    raise _not_found("Questionnaire", rid)


# --- QuestionnaireResponse and Observation ------------------------------------------


def _responses(request: HttpRequest, *, change: bool = False) -> QuerySet[Response]:
    return Response.objects.filter(
        session__in=access.sessions_for(_token(request).user, change=change).values(
            "pk"
        )
    ).select_related("respondent_client")


def _subject_code(r: Response) -> str:
    if r.respondent_client is not None:
        return r.respondent_client.code
    first = r.session.engagement.clients.order_by("pk").first()
    return first.code if first is not None else "unknown"


def _author(r: Response) -> str:
    if r.respondent_client is not None:
        return f"Patient/{r.respondent_client.code}"
    return f"Practitioner/{r.respondent_user_id}"


def _when(moment: dt.datetime) -> str:
    return (
        timezone.localtime(moment, dt.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def _qr_resources(rows: list[Response]) -> list[dict]:
    frame_rows = []
    for r in rows:
        subject, author, authored = _subject_code(r), _author(r), _when(r.submitted_at)
        for a in r.answers.all():
            if a.value is None:
                continue
            frame_rows.append(
                {
                    "id": str(r.pk),
                    "instrument": r.instrument_id,
                    "item": a.item,
                    "value": a.value,
                    "subject": subject,
                    "author": author,
                    "authored": authored,
                }
            )
    if not frame_rows:
        return []
    lines = hbfhir.questionnaire_response_lines(pd.DataFrame(frame_rows))
    out = []
    by_id = {r.pk: r for r in rows}
    for line in lines:
        resource = json.loads(line)
        resource["encounter"] = {
            "reference": f"Encounter/{by_id[int(resource['id'])].session_id}"
        }
        out.append(resource)
    return out


def _subject_filter(
    request: HttpRequest, qs: QuerySet[Any], field: str
) -> QuerySet[Any]:
    subject = request.GET.get("subject")
    if subject is None:
        _need(request, Scope.EXPORT)
        return qs
    code = subject.removeprefix("Patient/")
    client = access.clients_for(_token(request).user).filter(code=code).first()
    if client is None:
        return qs.none()
    return qs.filter(**{field: client})


@fhir.get("/QuestionnaireResponse")
def search_questionnaire_responses(request: HttpRequest) -> dict:
    _need(request, Scope.READ)
    qs = _subject_filter(request, _responses(request), "respondent_client")
    questionnaire = request.GET.get("questionnaire")
    if questionnaire:
        wanted = questionnaire.split("|")[0]
        ids = [
            i
            for i in instruments.ids()
            if f"{hbfhir.INSTRUMENT_SYSTEM}:{i}" == wanted
            or i.replace("_", "-") == wanted.removeprefix("Questionnaire/")
        ]
        qs = qs.filter(instrument_id__in=ids)
    qs = _date_filter(qs, "submitted_at", request.GET.getlist("authored"), "authored")
    rows, next_url = _page(request, qs.prefetch_related("answers"))
    resources = _qr_resources(rows)
    _seen(request, "fhir.questionnaire_response.search", None, rows=len(resources))
    return _bundle(request, resources, next_url)


@fhir.get("/QuestionnaireResponse/{rid}")
def read_questionnaire_response(request: HttpRequest, rid: str) -> dict:
    _need(request, Scope.READ)
    pk = _pk(rid)
    row = _responses(request).filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise _not_found("QuestionnaireResponse", rid)
    _seen(
        request,
        "fhir.questionnaire_response.read",
        row.respondent_client or row.session,
    )
    (resource,) = _qr_resources([row])
    return resource


def _observations(rows: list[Score]) -> list[dict]:
    rows = [s for s in rows if s.value is not None]
    if not rows:
        return []
    frame = pd.DataFrame(
        [
            {
                "id": str(s.pk),
                "subject": _subject_code(s.response),
                "performer": _author(s.response),
                "instrument": s.response.instrument_id,
                "subscale": s.subscale,
                "score": s.value,
                "effective": _when(s.response.submitted_at),
                "derived_from": str(s.response_id),
            }
            for s in rows
        ]
    )
    return [json.loads(line) for line in hbfhir.observation_lines(frame)]


def _scores(request: HttpRequest) -> QuerySet[Score]:
    return Score.objects.filter(
        response__session__in=access.sessions_for(_token(request).user).values("pk")
    ).select_related("response__respondent_client")


def _code_filter(qs: QuerySet[Score], raw: str) -> QuerySet[Score]:
    system, _, code = raw.rpartition("|")
    matches = []
    for inst in instruments.all_instruments():
        for sub in ("", *inst.subscales, *inst.derived_items):
            coding = hbfhir.score_coding(inst, sub)
            local = f"{inst.id}.{sub or 'total'}"
            if (code == coding["code"] and system in ("", coding["system"])) or (
                code == local and system in ("", hbfhir.ITEM_SYSTEM)
            ):
                matches.append((inst.id, sub))
    if not matches:
        return qs.none()
    from django.db.models import Q

    cond = Q()
    for inst_id, sub in matches:
        cond |= Q(response__instrument_id=inst_id, subscale=sub)
    return qs.filter(cond)


@fhir.get("/Observation")
def search_observations(request: HttpRequest) -> dict:
    _need(request, Scope.READ)
    qs = _subject_filter(request, _scores(request), "response__respondent_client")
    code = request.GET.get("code")
    if code:
        qs = _code_filter(qs, code)
    qs = _date_filter(qs, "response__submitted_at", request.GET.getlist("date"), "date")
    rows, next_url = _page(request, qs.filter(value__isnull=False))
    resources = _observations(rows)
    _seen(request, "fhir.observation.search", None, rows=len(resources))
    return _bundle(request, resources, next_url)


@fhir.get("/Observation/{rid}")
def read_observation(request: HttpRequest, rid: str) -> dict:
    _need(request, Scope.READ)
    pk = _pk(rid)
    row = (
        _scores(request).filter(pk=pk, value__isnull=False).first()
        if pk is not None
        else None
    )
    if row is None:
        raise _not_found("Observation", rid)
    _seen(
        request,
        "fhir.observation.read",
        row.response.respondent_client or row.response.session,
    )
    return _observations([row])[0]


@fhir.get("/Patient/{rid}")
def read_patient(request: HttpRequest, rid: str) -> dict:
    _need(request, Scope.READ)
    client = access.clients_for(_token(request).user).filter(code=rid).first()
    if client is None:
        raise _not_found("Patient", rid)
    _seen(request, "fhir.patient.read", client)
    (line,) = hbfhir.patient_lines(
        [client.code], identifier_system=CLIENT_CODE_SYSTEM, pseudonymised=True
    )
    return json.loads(line)


# --- QuestionnaireResponse create (a check-in submission) ----------------------------


def _issues_from(
    problems: str, default_expression: str = "QuestionnaireResponse"
) -> list[hbfhir.Issue]:
    issues = []
    for problem in problems.split("; "):
        m = _ITEM.search(problem)
        where = (
            f"QuestionnaireResponse.item.where(linkId='{m.group(1)}')"
            if m
            else default_expression
        )
        code = (
            "required"
            if "required" in problem
            else "value"
            if "answer set" in problem
            else "invalid"
        )
        issues.append(hbfhir.Issue(problem, code=code, expression=(where,)))
    return issues


def _invalid(message: str, expression: str) -> FhirError:
    return FhirError(
        422, [hbfhir.Issue(message, code="invalid", expression=(expression,))]
    )


def _rater(
    resource: dict[str, Any], inst_id: str, token: ApiToken, subject: str
) -> str:
    """The rater role of the questionnaire, once ``author`` agrees with it (else 422).

    Who answers an instrument is the instrument's ``rater_role``; the author must be
    that rater: the client (``Patient/<code>``, the subject, or left out) or the
    practitioner who owns the token (``Practitioner/<id>``)."""
    role = str(catalogue.scoring_instrument(inst_id).rater_role)
    author = str((resource.get("author") or {}).get("reference") or "")
    me = f"Practitioner/{token.user.pk}"
    if role == RaterRole.PRACTITIONER:
        if author != me:
            raise _invalid(
                f"{inst_id} is rated by the practitioner: author must be {me} (the "
                f"token's owner), not {author or 'left out'}.",
                "QuestionnaireResponse.author",
            )
        return role
    if author and author != f"Patient/{subject}":
        raise _invalid(
            f"{inst_id} is answered by the client: author must be the subject "
            f"(Patient/<client code>) or left out, not {author}.",
            "QuestionnaireResponse.author",
        )
    return role


@fhir.post("/QuestionnaireResponse")
def create_questionnaire_response(request: HttpRequest) -> HttpResponse:
    """Submit check-in answers as a QuestionnaireResponse.

    ``subject`` = ``Patient/<client code>``, ``encounter`` = ``Encounter/<session id>``,
    ``questionnaire`` = the instrument's canonical URL; the answers are checked
    against the Questionnaire and stored through the check-in storage path. A
    practitioner-rated questionnaire names ``author`` = ``Practitioner/<own id>`` (the
    token's owner, stored as the respondent; ``subject`` may be left out); a client-rated
    one has the client as author (``Patient/<code>`` or left out).
    """
    token = _need(request, Scope.WRITE)
    try:
        resource = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise FhirError(
            400, [hbfhir.Issue("The body is not JSON.", code="structure")]
        ) from None
    if (
        not isinstance(resource, dict)
        or resource.get("resourceType") != "QuestionnaireResponse"
    ):
        raise _invalid(
            "The body must be a QuestionnaireResponse resource.", "resourceType"
        )
    canonical = str(resource.get("questionnaire") or "").split("|")[0]
    inst_id = canonical.removeprefix(f"{hbfhir.INSTRUMENT_SYSTEM}:")
    if inst_id not in instruments.ids():
        raise _invalid(
            f"questionnaire {canonical!r} is not one of this server's Questionnaires.",
            "QuestionnaireResponse.questionnaire",
        )
    encounter = str((resource.get("encounter") or {}).get("reference") or "")
    session_id = encounter.removeprefix("Encounter/")
    session_pk = _pk(session_id)
    session = (
        access.sessions_for(token.user, change=True)
        .select_related("engagement")
        .filter(pk=session_pk)
        .first()
        if session_pk is not None
        else None
    )
    if session is None:
        raise _invalid(
            "encounter must reference a session you may change: Encounter/<session id>.",
            "QuestionnaireResponse.encounter",
        )
    subject = str((resource.get("subject") or {}).get("reference") or "").removeprefix(
        "Patient/"
    )
    client = (
        session.engagement.clients.filter(code=subject).first() if subject else None
    )
    rater = _rater(resource, inst_id, token, subject)
    if client is None and (rater == RaterRole.CLIENT or subject):
        raise _invalid(
            "subject must reference a client of the session's engagement: Patient/<client code>.",
            "QuestionnaireResponse.subject",
        )
    inst = catalogue.instrument_for(token.user.practice, inst_id)
    if inst is None:
        raise _invalid(
            f"{inst_id} is not usable in this practice (licensed wording missing).",
            "QuestionnaireResponse.questionnaire",
        )
    try:
        values = hbfhir.answers_from_response(inst, resource)
    except DataValidationError as exc:
        raise FhirError(422, _issues_from(str(exc))) from None
    try:
        instruments_, answers = services.validated_answers(
            session, rater, {inst_id: {str(k): v for k, v in values.items()}}
        )
        if client is not None and rater == RaterRole.CLIENT:
            stored = services.submit_client_answers(
                session, client, instruments_, answers
            )
        else:
            stored = services.submit_practitioner_answers(
                session, token.user, instruments_, answers, request
            )
    except ApiError as exc:
        err = exc.errors[0]
        item = err["field"].split(".")[-1]
        where = (
            f"QuestionnaireResponse.item.where(linkId='{item}')"
            if item.isdigit()
            else "QuestionnaireResponse"
        )
        raise FhirError(
            exc.status,
            [
                hbfhir.Issue(
                    err["message"],
                    code="invalid" if exc.status == 422 else "conflict",
                    expression=(where,),
                )
            ],
        ) from None
    _seen(
        request,
        "fhir.questionnaire_response.create",
        session,
        responses=len(stored),
        rater=rater,
    )
    rows = list(
        Response.objects.filter(pk__in=[r.pk for r in stored])
        .select_related("respondent_client", "session")
        .prefetch_related("answers")
    )
    (created,) = _qr_resources(rows)
    response = fhir.create_response(request, created, status=201)
    response["Location"] = f"{_base(request)}/QuestionnaireResponse/{created['id']}"
    return response


def fhir_urls() -> Any:
    """The FHIR URL patterns (a wrong method answers with an OperationOutcome)."""

    def body(request: HttpRequest, allowed: str) -> dict:
        message = f"{request.method} is not supported here; allowed: {allowed}."
        return hbfhir.operation_outcome([hbfhir.Issue(message, code="not-supported")])

    return json_method_errors(fhir.urls, body)
