"""The JSON API, version 1 (``/api/v1/``): OpenAPI at ``/api/v1/openapi.json``, docs at
``/api/v1/docs``.

Rules every endpoint keeps: a personal access token (``Authorization: Bearer hbp_…``)
and no session cookie; a scope per operation; objects only through the access
policy (hidden = 404); one audit event per call; errors as a list of
``{field, message, code}``; cursor pagination (``cursor``, ``limit``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from ninja import Field, NinjaAPI, Path, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from harmonybridge.web import audit
from harmonybridge.web.alerts import safety
from harmonybridge.web.alerts.models import (
    AlertStatus,
    SafetyAction,
    SafetyNotice,
    StoredAlert,
)
from harmonybridge.web.alerts.workflow import apply_step
from harmonybridge.web.api import access, services
from harmonybridge.web.api import tokens as api_tokens
from harmonybridge.web.api.errors import (
    ApiError,
    ErrorOut,
    field_of,
    invalid,
    json_method_errors,
    not_found,
)
from harmonybridge.web.api.models import ApiToken, IdempotencyRecord, Scope
from harmonybridge.web.checkins.models import Answer, Response, Score
from harmonybridge.web.insights import alliance_display, alliance_tasks
from harmonybridge.web.practice import policy
from harmonybridge.web.practice import services as practice_services
from harmonybridge.web.practice.forms import PlanEntryForm
from harmonybridge.web.practice.models import (
    Client,
    Engagement,
    EngagementStatus,
    Modality,
    PlanEntry,
    RaterRole,
    ServiceLine,
    TherapySession,
)
from harmonybridge.web.practice.services import create_engagement
from harmonybridge.web.repairs import services as repair_services
from harmonybridge.web.repairs.forms import RepairRecordForm
from harmonybridge.web.repairs.models import RepairRecord, Resolved
from harmonybridge.web.research.consent import record_consent
from harmonybridge.web.research.models import Decision, Purpose

M = TypeVar("M", bound=Model)

#: The largest id a database row can have (64-bit); larger ids are a 422, not a crash.
MAX_ID = 2**63 - 1


def _in_range(value: dt.datetime) -> dt.datetime:
    """A datetime that can be stored in UTC (naive ones are read as UTC)."""
    try:
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    """Dates and times are ISO 8601 text, never numbers (no Unix timestamps)."""
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError("give an ISO 8601 date or date and time, e.g. 2026-01-05")
    return value


#: An object id in a path, a query or a body.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
StrictId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
When = Annotated[dt.datetime, BeforeValidator(_iso_text), AfterValidator(_in_range)]
AwareWhen = Annotated[
    AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_in_range)
]
Day = Annotated[dt.date, BeforeValidator(_iso_text)]

#: How long an idempotency key holds (the issue: 24 hours).
IDEMPOTENCY_HOURS = 24
MAX_LIMIT = 200


class TokenAuth(HttpBearer):
    """A personal access token in ``Authorization: Bearer``; session cookies count for nothing."""

    openapi_description = "A personal access token (hbp_…) created on /api/tokens/."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_tokens.authenticate(token)
        if found is None or not access.may_use_api(found.user):
            return None
        request.api_token = found  # type: ignore[attr-defined]
        return found


#: The 4xx answers every authenticated operation may give.
ERRORS: dict[int, Any] = {
    400: list[ErrorOut],
    401: list[ErrorOut],
    403: list[ErrorOut],
    422: list[ErrorOut],
}
HIDDEN: dict[int, Any] = {**ERRORS, 404: list[ErrorOut]}
WRITES: dict[int, Any] = {**HIDDEN, 409: list[ErrorOut]}


class _NamedApi(NinjaAPI):
    """Operation ids are the view names (``list_clients``), stable for generated clients."""

    def get_openapi_operation_id(self, operation: Any) -> str:
        return str(operation.view_func.__name__).rstrip("_")


api = _NamedApi(
    title="HarmonyBridge API",
    version="1",
    description=(
        "Measurement of the therapeutic alliance, wellbeing and alerts. "
        "Authenticate with a personal access token: `Authorization: Bearer hbp_…`. "
        "Every error body is a list of `{field, message, code}`."
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
)


def _errors(
    request: HttpRequest, status: int, errors: list[dict[str, str]]
) -> HttpResponse:
    return api.create_response(request, errors, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _errors(request, exc.status, exc.errors)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    out = [
        {
            "field": field_of(e.get("loc", ())),
            "message": str(e.get("msg", "invalid value")),
            "code": str(e.get("type", "invalid")),
        }
        for e in exc.errors
    ]
    return _errors(request, 422, out)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _errors(
        request,
        401,
        [
            {
                "field": "Authorization",
                "message": "Give a valid personal access token: Authorization: Bearer hbp_… "
                "(a missing, expired or revoked token is refused).",
                "code": "invalid_token",
            }
        ],
    )
    response["WWW-Authenticate"] = 'Bearer realm="harmonybridge"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "malformed_json" if exc.status_code == 400 else "error"
    return _errors(
        request, exc.status_code, [{"field": "body", "message": str(exc), "code": code}]
    )


def _get(path: str, out: Any, tag: str, errors: dict[int, Any] = HIDDEN) -> Any:
    """A read operation: 200 with ``out`` or an error of ``errors`` (404: hidden)."""
    return api.get(path, response={200: out, **errors}, tags=[tag])


def _write(method: str, path: str, out: Any, tag: str, status: int = 200) -> Any:
    """A write operation: ``status`` with ``out`` or an error of ``WRITES``."""
    return api.api_operation(
        [method.upper()], path, response={status: out, **WRITES}, tags=[tag]
    )


# --- helpers --------------------------------------------------------------------------


def _practice_id(user: Any) -> int:
    """The token owner's practice (every token that passes the policy has one)."""
    return int(user.practice_id)


def _token(request: HttpRequest) -> ApiToken:
    return request.api_token  # type: ignore[attr-defined,no-any-return]


def _need(request: HttpRequest, scope: str) -> ApiToken:
    token = _token(request)
    if scope not in token.scopes:
        raise ApiError(
            403,
            "Authorization",
            f"This token lacks the {scope!r} scope.",
            "missing_scope",
        )
    return token


def _seen(request: HttpRequest, action: str, target: Any = None, **detail: Any) -> None:
    """Audit one call like a page view (who, which token, what)."""
    token = _token(request)
    audit.record(
        token.user, f"api.{action}", target, request=request, token=token.pk, **detail
    )


def _user(request: HttpRequest) -> Any:
    return _token(request).user


def _one(
    request: HttpRequest, scope: str, qs: QuerySet[M], pk: int, field: str, what: str
) -> M:
    """After the scope check, the object with this id that the policy shows (else 404)."""
    _need(request, scope)
    return access.get(qs, pk, field, what)


def _viewed(
    request: HttpRequest, qs: QuerySet[M], pk: int, field: str, what: str, action: str
) -> M:
    """Read one object (``read`` scope, the policy's 404) and audit the view."""
    obj = _one(request, Scope.READ, qs, pk, field, what)
    _seen(request, action, obj)
    return obj


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "id" or not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(
            "cursor",
            "Not a cursor this API gave out; use next_cursor as given.",
            "bad_cursor",
        ) from None


class PageQuery(Schema):
    cursor: str | None = Field(None, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)

    #: filter name -> the queryset lookup it narrows (a filter left out narrows nothing)
    LOOKUPS: ClassVar[dict[str, str]] = {}


def _page(
    qs: QuerySet[Any], page: PageQuery, out: Callable[[Any], Any]
) -> dict[str, Any]:
    """Newest first by id; ``next_cursor`` is null on the last page."""
    qs = qs.order_by("-pk")
    if page.cursor:
        qs = qs.filter(pk__lt=_decode(page.cursor))
    rows = list(qs[: page.limit + 1])
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "items": [out(r) for r in rows],
        "next_cursor": _encode(rows[-1].pk) if more and rows else None,
    }


def _listing(
    request: HttpRequest,
    action: str,
    qs: QuerySet[Any],
    filters: PageQuery,
    out: Callable[[Any], Any],
) -> dict[str, Any]:
    """One page of ``qs`` narrowed by the given filters (``read`` scope), audited with
    the number of rows."""
    _need(request, Scope.READ)
    for name, lookup in filters.LOOKUPS.items():
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{lookup: value})
    result = _page(qs, filters, out)
    _seen(request, action, None, rows=len(result["items"]))
    return result


def _form_error(form: Any, prefix: str = "", whole: str = "body") -> ApiError:
    """The first error of a page's form as the API's 422 (``whole``: the field a
    form-wide error is put on)."""
    name, errors = next(iter(form.errors.as_data().items()))
    field = whole if name == "__all__" else name
    return invalid(
        prefix + field, " ".join(errors[0].messages), errors[0].code or "invalid"
    )


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- clients ------------------------------------------------------------------------


class ClientOut(Schema):
    id: int
    code: str
    name: str | None = Field(None, description="only with the identify scope")
    practitioner_id: int | None
    created_at: dt.datetime


class ClientPage(Schema):
    items: list[ClientOut]
    next_cursor: str | None


class ClientIn(StrictSchema):
    name: StrictStr | None = Field(
        None, max_length=200, description="needs the identify scope"
    )
    care_consent: StrictBool = Field(
        False,
        description="the client agreed to measurement as part of their care (recorded "
        "as a consent record by the token's user); check-ins need it",
    )


def _client_out(request: HttpRequest) -> Callable[[Client], dict[str, Any]]:
    names = Scope.IDENTIFY in _token(request).scopes

    def out(c: Client) -> dict[str, Any]:
        return {
            "id": c.pk,
            "code": c.code,
            "name": (c.name or None) if names else None,
            "practitioner_id": c.practitioner_id,
            "created_at": c.created_at,
        }

    return out


@_get("/clients", ClientPage, "clients", ERRORS)
def list_clients(request: HttpRequest, page: Query[PageQuery]) -> Any:
    qs = access.clients_for(_user(request))
    if Scope.IDENTIFY not in _token(request).scopes:
        qs = qs.defer("name", "email")
    return _listing(request, "clients.list", qs, page, _client_out(request))


@_write("post", "/clients", ClientOut, "clients", 201)
def create_client(request: HttpRequest, payload: ClientIn) -> Any:
    token = _need(request, Scope.WRITE)
    if payload.name and Scope.IDENTIFY not in token.scopes:
        raise ApiError(
            403, "name", "Names need a token with the identify scope.", "missing_scope"
        )
    client = Client.objects.create(
        practice_id=_practice_id(token.user),
        practitioner=token.user,
        name=payload.name or "",
    )
    _seen(request, "client.create", client)
    if payload.care_consent:
        record_consent(
            client, Purpose.CARE, Decision.GIVEN, "care", token.user, request=request
        )
    return Status(201, _client_out(request)(client))


@_get("/clients/{str:client_id}", ClientOut, "clients")
def get_client(request: HttpRequest, client_id: PathId) -> Any:
    clients = access.clients_for(_user(request))
    client = _viewed(request, clients, client_id, "client_id", "client", "client.view")
    return _client_out(request)(client)


# --- engagements --------------------------------------------------------------------


class EngagementOut(Schema):
    id: int
    status: str
    service_line: str
    start_date: dt.date
    end_date: dt.date | None
    client_ids: list[int]
    lead_id: int
    created_at: dt.datetime


class EngagementPage(Schema):
    items: list[EngagementOut]
    next_cursor: str | None


class EngagementFilter(PageQuery):
    status: EngagementStatus | None = None
    started_from: Day | None = Field(None, description="start date on or after")
    started_to: Day | None = Field(None, description="start date on or before")

    LOOKUPS: ClassVar[dict[str, str]] = {
        "status": "status",
        "started_from": "start_date__gte",
        "started_to": "start_date__lte",
    }


class EngagementIn(StrictSchema):
    client_ids: list[StrictId] = Field(..., min_length=1, max_length=10)
    service_line_id: StrictId | None = Field(
        None,
        description="one of the practice's service lines; the first offered one if left out",
    )
    start_date: Day | None = None


def _engagement_out(e: Engagement) -> dict[str, Any]:
    return {
        "id": e.pk,
        "status": e.status,
        "service_line": e.service_line.name,
        "start_date": e.start_date,
        "end_date": e.end_date,
        "client_ids": [m.client_id for m in e.memberships.all()],
        "lead_id": e.lead_id,
        "created_at": e.created_at,
    }


_ENGAGEMENT_SECRETS = ("goal_1", "goal_2", "goal_3", "way_of_working")


def _engagements(request: HttpRequest, *, change: bool = False) -> QuerySet[Engagement]:
    return (
        access.engagements_for(_token(request).user, change=change)
        .select_related("service_line")
        .prefetch_related("memberships")
        .defer(*_ENGAGEMENT_SECRETS)
    )


@_get("/engagements", EngagementPage, "engagements", ERRORS)
def list_engagements(request: HttpRequest, filters: Query[EngagementFilter]) -> Any:
    qs = _engagements(request)
    return _listing(request, "engagements.list", qs, filters, _engagement_out)


class _Unsaved:
    """What ``create_engagement`` asks of a form: an unsaved engagement."""

    def __init__(self, engagement: Engagement) -> None:
        self.engagement = engagement

    def save(self, commit: bool = True) -> Engagement:
        return self.engagement


@_write("post", "/engagements", EngagementOut, "engagements", 201)
def create_engagement_(request: HttpRequest, payload: EngagementIn) -> Any:
    token = _need(request, Scope.WRITE)
    user = token.user
    visible = access.clients_for(user, change=True)
    clients = []
    for i, pk in enumerate(payload.client_ids):
        if pk in payload.client_ids[:i]:
            raise invalid(
                f"client_ids.{i}", f"Client {pk} is named twice.", "duplicate"
            )
        client = visible.filter(pk=pk).first()
        if client is None:
            raise invalid(f"client_ids.{i}", f"No client with id {pk}.", "not_found")
        clients.append(client)
    lines = ServiceLine.objects.filter(practice_id=_practice_id(user), active=True)
    if payload.service_line_id is not None:
        line = lines.filter(pk=payload.service_line_id).first()
        if line is None:
            raise invalid(
                "service_line_id", "No offered service line with this id.", "not_found"
            )
    else:
        line = lines.order_by("pk").first()
        if line is None:
            raise invalid(
                "service_line_id", "The practice offers no service line.", "required"
            )
    engagement = Engagement(
        service_line=line, start_date=payload.start_date or timezone.localdate()
    )
    engagement = create_engagement(_Unsaved(engagement), user, clients)
    _seen(request, "engagement.create", engagement)
    return Status(201, _engagement_out(_engagements(request).get(pk=engagement.pk)))


@_get("/engagements/{str:engagement_id}", EngagementOut, "engagements")
def get_engagement(request: HttpRequest, engagement_id: PathId) -> Any:
    engagement = _engagement(request, engagement_id, Scope.READ)
    _seen(request, "engagement.view", engagement)
    return _engagement_out(engagement)


def _engagement(request: HttpRequest, pk: int, scope: str) -> Engagement:
    """The engagement the policy lets the token's user open (``read``) or change
    (``write``), else 404."""
    qs = _engagements(request, change=scope == Scope.WRITE)
    return _one(request, scope, qs, pk, "engagement_id", "engagement")


# --- measurement plans --------------------------------------------------------------


class PlanEntryOut(Schema):
    id: int
    instrument_id: str
    rater_role: str
    every_n: int
    starting_session: int


class PlanEntryIn(StrictSchema):
    instrument_id: StrictStr = Field(..., max_length=40)
    rater_role: Literal["client", "practitioner"]
    every_n: StrictInt = Field(1, ge=1, le=1000, description="every Nth session")
    starting_session: StrictInt = Field(1, ge=1, le=1000, description="from session")


class BriefPlanIn(StrictSchema):
    brief: StrictBool = Field(
        ...,
        description="the PHQ-4 short form instead of the full PHQ-9 and GAD-7 "
        "(asked every fourth session and whenever the short form is positive)",
    )


class BriefPlanOut(Schema):
    brief: bool


@_get("/engagements/{str:engagement_id}/plan", list[PlanEntryOut], "plans")
def get_plan(request: HttpRequest, engagement_id: PathId) -> Any:
    engagement = _engagement(request, engagement_id, Scope.READ)
    _seen(request, "plan.view", engagement)
    plan = getattr(engagement, "plan", None)
    return list(plan.entries.all()) if plan is not None else []


def _save_entry(
    request: HttpRequest,
    engagement: Engagement,
    payload: PlanEntryIn,
    entry: PlanEntry | None = None,
) -> PlanEntry:
    """Validate with the plan page's form and save through the page's service."""
    form = PlanEntryForm(
        payload.model_dump(), instance=entry, practice=engagement.practice
    )
    if not form.is_valid():
        raise _form_error(form, whole="instrument_id")
    try:
        saved: PlanEntry = practice_services.save_plan_entry(
            engagement, form, _user(request), request
        )
    except IntegrityError:
        raise ApiError(
            409,
            "instrument_id",
            "This instrument is already in the plan for that rater.",
            "duplicate",
        ) from None
    return saved


def _plan_entry(
    request: HttpRequest, engagement_id: int, entry_id: int
) -> tuple[Engagement, PlanEntry]:
    engagement = _engagement(request, engagement_id, Scope.WRITE)
    entries = PlanEntry.objects.filter(plan__engagement=engagement)
    return engagement, access.get(entries, entry_id, "entry_id", "plan entry")


@_write(
    "post", "/engagements/{str:engagement_id}/plan/entries", PlanEntryOut, "plans", 201
)
def add_plan_entry(
    request: HttpRequest, engagement_id: PathId, payload: PlanEntryIn
) -> Any:
    """Add an instrument to the measurement plan (the plan page's validation)."""
    engagement = _engagement(request, engagement_id, Scope.WRITE)
    return Status(201, _save_entry(request, engagement, payload))


@_write(
    "put",
    "/engagements/{str:engagement_id}/plan/entries/{str:entry_id}",
    PlanEntryOut,
    "plans",
)
def update_plan_entry(
    request: HttpRequest, engagement_id: PathId, entry_id: PathId, payload: PlanEntryIn
) -> Any:
    engagement, entry = _plan_entry(request, engagement_id, entry_id)
    return _save_entry(request, engagement, payload, entry)


@_write(
    "delete",
    "/engagements/{str:engagement_id}/plan/entries/{str:entry_id}",
    None,
    "plans",
    204,
)
def remove_plan_entry(
    request: HttpRequest, engagement_id: PathId, entry_id: PathId
) -> Any:
    engagement, entry = _plan_entry(request, engagement_id, entry_id)
    practice_services.remove_plan_entry(engagement, entry, _user(request), request)
    return Status(204, None)


@_write("put", "/engagements/{str:engagement_id}/plan/brief", BriefPlanOut, "plans")
def set_brief_plan(
    request: HttpRequest, engagement_id: PathId, payload: BriefPlanIn
) -> Any:
    engagement = _engagement(request, engagement_id, Scope.WRITE)
    plan = practice_services.set_brief_plan(
        engagement, payload.brief, _user(request), request
    )
    return {"brief": plan.brief}


# --- sessions -----------------------------------------------------------------------


class SessionOut(Schema):
    id: int
    engagement_id: int
    number: int
    starts_at: dt.datetime
    modality: str
    attendance: str


class SessionPage(Schema):
    items: list[SessionOut]
    next_cursor: str | None


class SessionIn(StrictSchema):
    starts_at: AwareWhen | None = Field(None, description="ISO 8601 with an offset")
    modality: Modality = Modality.IN_PERSON


class SessionFilter(PageQuery):
    engagement_id: Id | None = None
    starts_from: When | None = None
    starts_to: When | None = None

    LOOKUPS: ClassVar[dict[str, str]] = {
        "engagement_id": "engagement_id",
        "starts_from": "starts_at__gte",
        "starts_to": "starts_at__lte",
    }


def _session_out(s: TherapySession) -> dict[str, Any]:
    return {
        "id": s.pk,
        "engagement_id": s.engagement_id,
        "number": s.number,
        "starts_at": s.starts_at,
        "modality": s.modality,
        "attendance": s.attendance,
    }


def _session(
    request: HttpRequest,
    pk: int,
    scope: str,
    qs: QuerySet[TherapySession] | None = None,
) -> TherapySession:
    """The session the policy lets the token's user open (``read``) or change
    (``write``), else 404 (``qs`` narrows or joins the policy's sessions)."""
    visible = access.sessions_for(_user(request), change=scope == Scope.WRITE)
    if qs is not None:
        visible = qs & visible
    return _one(request, scope, visible, pk, "session_id", "session")


@_get("/sessions", SessionPage, "sessions", ERRORS)
def list_sessions(request: HttpRequest, filters: Query[SessionFilter]) -> Any:
    qs = access.sessions_for(_user(request))
    return _listing(request, "sessions.list", qs, filters, _session_out)


@_write(
    "post", "/engagements/{str:engagement_id}/sessions", SessionOut, "sessions", 201
)
def create_session(
    request: HttpRequest, engagement_id: PathId, payload: SessionIn
) -> Any:
    engagement = _engagement(request, engagement_id, Scope.WRITE)
    session = services.create_session(
        engagement,
        {
            "starts_at": payload.starts_at or timezone.now(),
            "modality": payload.modality,
        },
        _user(request),
        request,
    )
    _seen(request, "session.create", session)
    return Status(201, _session_out(session))


@_get("/sessions/{str:session_id}", SessionOut, "sessions")
def get_session(request: HttpRequest, session_id: PathId) -> Any:
    session = _session(request, session_id, Scope.READ)
    _seen(request, "session.view", session)
    return _session_out(session)


# --- check-in links -----------------------------------------------------------------


class CheckInIn(StrictSchema):
    client_id: StrictId


class CheckInOut(Schema):
    id: int
    session_id: int
    client_id: int
    link: str | None = Field(None, description="shown once: only a hash is stored")
    expires_at: dt.datetime
    submitted: bool


def _checkin_out(checkin: Any, link: str | None = None) -> dict[str, Any]:
    return {
        "id": checkin.pk,
        "session_id": checkin.session_id,
        "client_id": checkin.respondent_id,
        "link": link,
        "expires_at": checkin.expires_at,
        "submitted": False,
    }


def _member(session: TherapySession, client_id: int | None) -> Client:
    """The client of the session's engagement with this id, else a 422."""
    client = session.engagement.clients.filter(pk=client_id).first()
    if client is None:
        raise invalid(
            "client_id", "This client is not in the session's engagement.", "not_member"
        )
    return client


@_write(
    "post", "/sessions/{str:session_id}/checkins", CheckInOut, "check-in links", 201
)
def create_checkin_link(
    request: HttpRequest, session_id: PathId, payload: CheckInIn
) -> Any:
    from harmonybridge.web.checkins import tokens as checkin_tokens
    from harmonybridge.web.checkins.models import Channel, CheckIn

    session = _session(request, session_id, Scope.WRITE)
    client = _member(session, payload.client_id)
    existing = CheckIn.objects.filter(session=session, respondent=client).first()
    if existing is not None and existing.is_submitted:
        raise ApiError(
            409,
            "client_id",
            "This client's check-in is already submitted.",
            "already_submitted",
        )
    try:
        with transaction.atomic():
            checkin, plain = checkin_tokens.issue(session, client, Channel.LINK)
    except checkin_tokens.IssueRefused as refused:
        raise ApiError(409, "client_id", str(refused), "care_consent_missing") from None
    _seen(request, "checkin.link", checkin, session_id=session.pk)
    return Status(201, _checkin_out(checkin, checkin_tokens.build_link(plain)))


@_write("post", "/checkins/{str:checkin_id}/revoke", CheckInOut, "check-in links")
def revoke_checkin_link(request: HttpRequest, checkin_id: PathId) -> Any:
    from harmonybridge.web.checkins.models import CheckIn

    sessions = access.sessions_for(_user(request), change=True)
    checkin = _one(
        request,
        Scope.WRITE,
        CheckIn.objects.filter(session__in=sessions.values("pk")),
        checkin_id,
        "checkin_id",
        "check-in",
    )
    if checkin.is_submitted:
        raise ApiError(
            409,
            "checkin_id",
            "A submitted check-in cannot be revoked.",
            "already_submitted",
        )
    if not checkin.is_expired:
        checkin.expires_at = timezone.now()
        checkin.save(update_fields=["expires_at", "updated_at"])
    _seen(request, "checkin.revoke", checkin)
    return _checkin_out(checkin)


# --- responses ----------------------------------------------------------------------


class ScoreOut(Schema):
    subscale: str = Field(..., description='"" for the total')
    value: float | None
    band: str


class ResponseOut(Schema):
    id: int
    session_id: int
    instrument_id: str
    instrument_version: str
    rater_role: str
    client_id: int | None
    channel: str
    submitted_at: dt.datetime
    answers: dict[str, float | None]
    scores: list[ScoreOut]


class ResponsePage(Schema):
    items: list[ResponseOut]
    next_cursor: str | None


class ResponsesIn(StrictSchema):
    rater_role: Literal["client", "practitioner"]
    client_id: StrictId | None = Field(
        None, description="the answering client (rater_role client)"
    )
    answers: dict[
        Annotated[str, Field(max_length=40)],
        dict[Annotated[str, Field(max_length=4)], StrictInt | None],
    ] = Field(
        ...,
        description='instrument id -> {item number: value}, e.g. {"phq9": {"1": 0}}',
    )


class ResponseFilter(PageQuery):
    session_id: Id | None = None
    engagement_id: Id | None = None
    instrument_id: str | None = Field(None, max_length=40, pattern=r"^[a-z0-9_]+$")
    submitted_from: When | None = None
    submitted_to: When | None = None

    LOOKUPS: ClassVar[dict[str, str]] = {
        "session_id": "session_id",
        "engagement_id": "session__engagement_id",
        "instrument_id": "instrument_id",
        "submitted_from": "submitted_at__gte",
        "submitted_to": "submitted_at__lte",
    }


def _response_dict(
    r: Response, answers: dict[str, float | None], scores: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": r.pk,
        "session_id": r.session_id,
        "instrument_id": r.instrument_id,
        "instrument_version": r.instrument_version,
        "rater_role": r.rater_role,
        "client_id": r.respondent_client_id,
        "channel": r.channel,
        "submitted_at": r.submitted_at,
        "answers": answers,
        "scores": scores,
    }


def _response_out(r: Response) -> dict[str, Any]:
    return _response_dict(
        r,
        {str(a.item): a.value for a in r.answers.all()},
        [
            {"subscale": s.subscale, "value": s.value, "band": s.band}
            for s in r.scores.all()
        ],
    )


def _responses(user: Any) -> QuerySet[Response]:
    return Response.objects.filter(
        session__in=access.sessions_for(user).values("pk")
    ).prefetch_related("answers", "scores")


@_get("/responses", ResponsePage, "responses", ERRORS)
def list_responses(request: HttpRequest, filters: Query[ResponseFilter]) -> Any:
    qs = _responses(_user(request))
    return _listing(request, "responses.list", qs, filters, _response_out)


def _body_digest(payload: Schema) -> str:
    return hashlib.sha256(
        json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()


def idempotent(
    request: HttpRequest, payload: Schema, run: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run a submission once per ``Idempotency-Key`` and token (kept 24 hours).

    The same key with the same body returns the first result and stores nothing
    new; the same key with another body is a 409.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    if not 1 <= len(key) <= 200:
        raise invalid("Idempotency-Key", "An idempotency key has 1 to 200 characters.")
    token = _token(request)
    digest = _body_digest(payload)
    cutoff = timezone.now() - dt.timedelta(hours=IDEMPOTENCY_HOURS)
    IdempotencyRecord.objects.filter(token=token, created_at__lt=cutoff).delete()
    with transaction.atomic():
        earlier = (
            IdempotencyRecord.objects.select_for_update()
            .filter(token=token, key=key)
            .first()
        )
        if earlier is not None:
            if earlier.body_digest != digest:
                raise ApiError(
                    409,
                    "Idempotency-Key",
                    "This idempotency key was used with a different body.",
                    "idempotency_key_reused",
                )
            return earlier.status_code, earlier.body
        status, body = run()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    token=token,
                    key=key,
                    body_digest=digest,
                    status_code=status,
                    body=json.loads(
                        api.renderer.render(request, body, response_status=status)
                    ),
                )
        except IntegrityError:  # a concurrent request with the same key won
            raise ApiError(
                409,
                "Idempotency-Key",
                "A request with this key is in progress.",
                "in_progress",
            ) from None
    return status, body


@api.post(
    "/sessions/{str:session_id}/responses",
    response={201: list[ResponseOut], **WRITES},
    tags=["responses"],
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": "Retry safely: the same key and body return the first result.",
            }
        ]
    },
)
def submit_responses(
    request: HttpRequest, session_id: PathId, payload: ResponsesIn
) -> Any:
    session = _session(
        request,
        session_id,
        Scope.WRITE,
        TherapySession.objects.select_related("engagement").defer(
            *(f"engagement__{f}" for f in _ENGAGEMENT_SECRETS)
        ),
    )

    def run() -> tuple[int, Any]:
        return 201, _submit(request, _token(request), session, payload)

    return Status(*idempotent(request, payload, run))


def _submit(
    request: HttpRequest, token: ApiToken, session: TherapySession, payload: ResponsesIn
) -> list[dict[str, Any]]:
    role = payload.rater_role
    client: Client | None = None
    if role == RaterRole.CLIENT:
        if payload.client_id is None:
            raise invalid("client_id", "Name the answering client.", "required")
        client = _member(session, payload.client_id)
    elif payload.client_id is not None:
        raise invalid(
            "client_id", "A practitioner's rating names no client.", "not_allowed"
        )
    instruments, answers = services.validated_answers(session, role, payload.answers)
    if client is not None:
        stored = services.submit_client_answers(session, client, instruments, answers)
    else:
        stored = services.submit_practitioner_answers(
            session, token.user, instruments, answers, request
        )
    _seen(request, "responses.submit", session, rater=role, responses=len(stored))
    return _stored_out(stored)


def _stored_out(stored: list[Response]) -> list[dict[str, Any]]:
    """The just-stored responses with their answers and scores: two value queries."""
    ids = [r.pk for r in stored]
    answers: dict[int, dict[str, float | None]] = {pk: {} for pk in ids}
    for response_id, item, value in Answer.objects.filter(
        response_id__in=ids
    ).values_list("response_id", "item", "value"):
        answers[response_id][str(item)] = value
    scores: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for response_id, subscale, value, band in (
        Score.objects.filter(response_id__in=ids)
        .order_by("response_id", "subscale")
        .values_list("response_id", "subscale", "value", "band")
    ):
        scores[response_id].append({"subscale": subscale, "value": value, "band": band})
    return [_response_dict(r, answers[r.pk], scores[r.pk]) for r in stored]


# --- alerts -------------------------------------------------------------------------


class AlertOut(Schema):
    id: int
    engagement_id: int
    session_number: int | None
    rule_id: str
    rule_version: str
    severity: str
    instrument: str
    rater_role: str
    status: str
    message: str
    created_at: dt.datetime
    status_at: dt.datetime | None


class AlertPage(Schema):
    items: list[AlertOut]
    next_cursor: str | None


class AlertFilter(PageQuery):
    status: AlertStatus | None = None
    engagement_id: Id | None = None
    created_from: When | None = None
    created_to: When | None = None

    LOOKUPS: ClassVar[dict[str, str]] = {
        "status": "status",
        "engagement_id": "engagement_id",
        "created_from": "created_at__gte",
        "created_to": "created_at__lte",
    }


class AlertStepIn(StrictSchema):
    note: StrictStr = Field("", max_length=500, description="required to resolve")


def _alerts(user: Any, *, change: bool = False) -> QuerySet[StoredAlert]:
    return StoredAlert.objects.filter(
        engagement__in=access.engagements_for(user, change=change).values("pk")
    )


def _alert_out(a: StoredAlert) -> dict[str, Any]:
    return {
        "id": a.pk,
        "engagement_id": a.engagement_id,
        "session_number": a.session_number,
        "rule_id": a.rule_id,
        "rule_version": a.rule_version,
        "severity": a.severity,
        "instrument": a.instrument,
        "rater_role": a.rater_role,
        "status": a.status,
        "message": a.message,
        "created_at": a.created_at,
        "status_at": a.status_at,
    }


@_get("/alerts", AlertPage, "alerts", ERRORS)
def list_alerts(request: HttpRequest, filters: Query[AlertFilter]) -> Any:
    qs = _alerts(_user(request)).defer("status_note")
    return _listing(request, "alerts.list", qs, filters, _alert_out)


@_get("/alerts/{str:alert_id}", AlertOut, "alerts")
def get_alert(request: HttpRequest, alert_id: PathId) -> Any:
    alerts = _alerts(_user(request)).defer("status_note")
    alert = _viewed(request, alerts, alert_id, "alert_id", "alert", "alert.view")
    return _alert_out(alert)


def _step(request: HttpRequest, alert_id: int, action: str, note: str) -> Any:
    alerts = _alerts(_user(request), change=True)
    alert = _one(request, Scope.WRITE, alerts, alert_id, "alert_id", "alert")
    if action == "resolve" and not note.strip():
        raise invalid(
            "note", "Write a short note on how the alert was resolved.", "required"
        )
    result = apply_step(alert.pk, action, _user(request), note.strip(), request)
    if not result.done:
        raise ApiError(409, "alert_id", result.message, "already_done")
    return _alert_out(result.alert)


@_write("post", "/alerts/{str:alert_id}/acknowledge", AlertOut, "alerts")
def acknowledge_alert(
    request: HttpRequest, alert_id: PathId, payload: AlertStepIn
) -> Any:
    return _step(request, alert_id, "acknowledge", payload.note)


@_write("post", "/alerts/{str:alert_id}/resolve", AlertOut, "alerts")
def resolve_alert(request: HttpRequest, alert_id: PathId, payload: AlertStepIn) -> Any:
    return _step(request, alert_id, "resolve", payload.note)


# --- safety cards ---------------------------------------------------------------------


class SafetyNoticeOut(Schema):
    id: int
    engagement_id: int
    session_id: int
    client_id: int | None
    instrument: str
    item_number: int | None
    answer: float | None
    created_at: dt.datetime


class SafetyCardOut(Schema):
    client_id: int | None
    engagement_id: int
    notices: list[SafetyNoticeOut] = Field(
        ..., description="open notices, newest first"
    )


class SafetyActionIn(StrictSchema):
    action: SafetyAction
    note: StrictStr = Field("", max_length=500)


class SafetyActionOut(Schema):
    closed: int


def _notice_out(n: SafetyNotice) -> dict[str, Any]:
    return {
        "id": n.pk,
        "engagement_id": n.engagement_id,
        "session_id": n.session_id,
        "client_id": n.client_id,
        "instrument": n.instrument,
        "item_number": n.item_number,
        "answer": n.answer,
        "created_at": n.created_at,
    }


@_get("/safety-cards", list[SafetyCardOut], "safety", ERRORS)
def list_safety_cards(request: HttpRequest) -> Any:
    """One card per client with open safety notices (the safety card of the pages)."""
    user = _need(request, Scope.READ).user
    cards = safety.cards_for(user)
    _seen(request, "safety_cards.list", None, rows=len(cards))
    return [
        {
            "client_id": card.latest.client_id,
            "engagement_id": card.latest.engagement_id,
            "notices": [_notice_out(n) for n in card.notices],
        }
        for card in cards
    ]


@_write("post", "/safety-notices/{str:notice_id}/action", SafetyActionOut, "safety")
def record_safety_action(
    request: HttpRequest, notice_id: PathId, payload: SafetyActionIn
) -> Any:
    """Record what was done: closes the client's open notices you may change."""
    user = _user(request)
    changeable = access.engagements_for(user, change=True).values("pk")
    notice = _one(
        request,
        Scope.WRITE,
        SafetyNotice.objects.open().filter(engagement__in=changeable),
        notice_id,
        "notice_id",
        "open safety notice",
    )
    card = next((c for c in safety.cards_for(user) if notice in c.notices), None)
    if card is None:  # pragma: no cover - an open, visible notice is on a card
        raise ApiError(409, "notice_id", "This safety notice is closed.", "closed")
    allowed = set(changeable.values_list("pk", flat=True))
    mine = [n for n in card.notices if n.engagement_id in allowed]
    closed = safety.record_action(mine, user, payload.action, payload.note, request)
    _seen(request, "safety.action", notice, closed=closed)
    return {"closed": closed}


# --- rupture records ------------------------------------------------------------------


class RuptureRecordOut(Schema):
    id: int
    session_id: int
    engagement_id: int
    markers: list[str]
    strategies: list[str]
    resolved: str
    created_at: dt.datetime


class RuptureRecordPage(Schema):
    items: list[RuptureRecordOut]
    next_cursor: str | None


class RuptureRecordFilter(PageQuery):
    engagement_id: Id | None = None

    LOOKUPS: ClassVar[dict[str, str]] = {"engagement_id": "session__engagement_id"}


class RuptureRecordIn(StrictSchema):
    markers: list[Annotated[StrictStr, Field(max_length=40)]] = Field(
        default_factory=list,
        max_length=40,
        description="rupture markers noticed (codes of the record page)",
    )
    strategies: list[Annotated[StrictStr, Field(max_length=40)]] = Field(
        default_factory=list,
        max_length=40,
        description="resolution strategies used (codes of the record page)",
    )
    resolved: Resolved = Field(..., description="resolved by the end of the session?")
    note: StrictStr = Field(
        "", max_length=2000, description="stored encrypted; never served back"
    )


def _record_out(r: RepairRecord) -> dict[str, Any]:
    return {
        "id": r.pk,
        "session_id": r.session_id,
        "engagement_id": r.session.engagement_id,
        "markers": list(r.markers),
        "strategies": list(r.strategies),
        "resolved": r.resolved,
        "created_at": r.created_at,
    }


def _records(user: Any, *, change: bool = False) -> QuerySet[RepairRecord]:
    return (
        RepairRecord.objects.filter(
            session__in=access.sessions_for(user, change=change).values("pk")
        )
        .select_related("session")
        .defer("note")
    )


@_get("/rupture-records", RuptureRecordPage, "ruptures", ERRORS)
def list_rupture_records(
    request: HttpRequest, filters: Query[RuptureRecordFilter]
) -> Any:
    """The practitioner's rupture records (markers, strategies, resolved); notes are not
    served."""
    qs = _records(_user(request))
    return _listing(request, "rupture_records.list", qs, filters, _record_out)


@_get("/rupture-records/{str:record_id}", RuptureRecordOut, "ruptures")
def get_rupture_record(request: HttpRequest, record_id: PathId) -> Any:
    records = _records(_user(request))
    record = _viewed(
        request,
        records,
        record_id,
        "record_id",
        "rupture record",
        "rupture_record.view",
    )
    return _record_out(record)


def _save_record(
    request: HttpRequest,
    session: TherapySession,
    payload: RuptureRecordIn,
    record: RepairRecord | None,
) -> dict[str, Any]:
    """Validate with the record page's form and save through the page's service."""
    data = QueryDict(mutable=True)
    data.setlist("markers", payload.markers)
    data.setlist("strategies", payload.strategies)
    data["resolved"] = payload.resolved
    data["note"] = payload.note
    form = RepairRecordForm(data, instance=record)
    if not form.is_valid():
        raise _form_error(form, whole="markers")
    try:
        saved = repair_services.save_record(form, session, _user(request), request)
    except IntegrityError:  # a record for this session was saved at the same time
        raise ApiError(
            409, "session_id", "This session already has a rupture record.", "exists"
        ) from None
    _seen(request, "rupture_record.save", saved, session_id=session.pk)
    return _record_out(saved)


@_write(
    "post",
    "/sessions/{str:session_id}/rupture-record",
    RuptureRecordOut,
    "ruptures",
    201,
)
def create_rupture_record(
    request: HttpRequest, session_id: PathId, payload: RuptureRecordIn
) -> Any:
    """Record a rupture (and its repair) on a session, as the record page does: one
    record a session; change it with ``update_rupture_record``."""
    session = _session(request, session_id, Scope.WRITE)
    existing = RepairRecord.objects.filter(session=session).first()
    if existing is not None:
        raise ApiError(
            409,
            "session_id",
            f"This session already has rupture record {existing.pk}; update it.",
            "exists",
        )
    return Status(201, _save_record(request, session, payload, None))


@_write("put", "/rupture-records/{str:record_id}", RuptureRecordOut, "ruptures")
def update_rupture_record(
    request: HttpRequest, record_id: PathId, payload: RuptureRecordIn
) -> Any:
    """Record the repair or correct the record (markers, strategies, resolved, note)."""
    records = _records(_user(request), change=True)
    record = _one(
        request, Scope.WRITE, records, record_id, "record_id", "rupture record"
    )
    return _save_record(request, record.session, payload, record)


# --- insights -------------------------------------------------------------------------


class InsightsQuery(Schema):
    service_line: Id | None = Field(None, description="a service line's id")
    practitioner: Id | None = Field(
        None, description="a lead practitioner's id (the admin's filter)"
    )
    start: Day | None = Field(None, description="sessions on or after")
    end: Day | None = Field(None, description="sessions on or before")
    modality: Modality | None = None


Cell = StrictStr | StrictInt | StrictFloat | None


class FigureOut(Schema):
    id: str = Field(..., description="the kind of analysis, e.g. growth, association")
    title: str
    sentence: str = Field(..., description="the result in one plain sentence")
    uncertainty: str = Field(..., description="the 95 % interval, as the page says it")
    n: str = Field(..., description="how many sessions, engagements, practitioners")
    header: list[str]
    rows: list[list[Cell]] = Field(..., description="the table under the figure")
    note: str = Field(..., description="model notes (convergence, what was left out)")


class PredictionFigureOut(FigureOut):
    who: str = Field(..., description="the practitioner whose predictions these are")


class OutcomeInsightsOut(Schema):
    outcome: str = Field(..., description="instrument id of the outcome")
    name: str
    n: str
    figures: list[FigureOut]


class InsightsOut(Schema):
    n_engagements: int
    n_practitioners: int
    summary: str
    outcomes: list[OutcomeInsightsOut]
    general: list[FigureOut]
    prediction: list[PredictionFigureOut]
    notes: list[str]


class FitStatusOut(Schema):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    step: str = Field(..., description="the analysis being fitted (running)")
    done: int
    total: int
    status_url: str = Field(..., description="poll this while queued or running")
    result_url: str = Field(..., description="the figures (200 once done)")
    message: str


_FIT_MESSAGES = {
    "queued": "The fit is queued; poll status_url.",
    "running": "The models are being fitted; poll status_url.",
    "done": "The figures are ready at result_url.",
    "failed": "The fit failed; the figures will be fitted again on a later request.",
}


def _insights_urls(request: HttpRequest, sid: str, chosen: Any) -> tuple[str, str]:
    base = request.path.rsplit("/insights/", 1)[0] + "/insights"
    query = urlencode(
        {k: v for k, v in chosen.as_task_args().items() if v not in (None, "")}
    )
    return f"{base}/status/{sid}", f"{base}/alliance" + (f"?{query}" if query else "")


def _fit_status(
    request: HttpRequest, scope: Any, chosen: Any, fit: Any
) -> dict[str, Any]:
    sid = alliance_tasks.remember(scope, chosen, fit.key)
    status_url, result_url = _insights_urls(request, sid, chosen)
    _seen(request, "insights.alliance.status", None, clients=[], state=fit.state)
    return {
        "id": sid,
        "state": fit.state,
        "step": fit.step,
        "done": fit.done,
        "total": fit.total,
        "status_url": status_url,
        "result_url": result_url,
        "message": _FIT_MESSAGES[fit.state],
    }


@api.get(
    "/insights/alliance",
    response={200: InsightsOut, 202: FitStatusOut, **HIDDEN},
    tags=["insights"],
    openapi_extra={
        "responses": {
            202: {
                "description": "Accepted: the fit is queued or running",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/FitStatusOut"}
                    }
                },
                "headers": {
                    "Location": {
                        "description": "the status URL to poll",
                        "schema": {"type": "string"},
                    }
                },
            }
        }
    },
)
def get_alliance_insights(
    request: HttpRequest, filters: Query[InsightsQuery], response: HttpResponse
) -> Any:
    """The Insights page's alliance–outcome figures for this token's user.

    200 with the figures when they are fitted for the current data; else 202 with a
    ``Location`` (the status URL) while the task worker fits the models."""
    scope = policy.insights_scope(_need(request, Scope.READ).user)
    if scope.own_practitioner is not None and filters.practitioner is not None:
        raise invalid(
            "practitioner",
            "Your figures are of the engagements you lead; only the practice admin "
            "filters by practitioner.",
            "not_allowed",
        )
    data = {
        k: str(v) for k, v in filters.model_dump(mode="json").items() if v is not None
    }
    form, labels = alliance_display.filter_form(data, scope)
    if not form.is_valid():
        raise _form_error(form, whole="end")
    chosen = form.filters()
    fit = alliance_tasks.fit_state(scope, chosen)
    if fit.state == "done" and fit.result is not None:
        _seen(
            request,
            "insights.alliance.view",
            None,
            clients=[],
            filters=chosen.key[:64],
        )
        return alliance_display.shown(fit.result, scope, labels)
    out = _fit_status(request, scope, chosen, fit)
    response["Location"] = out["status_url"]
    return Status(202, out)


@_get("/insights/status/{str:status_id}", FitStatusOut, "insights")
def get_insights_status(
    request: HttpRequest,
    status_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> Any:
    """Where a fit stands: queued, running (step, done of total), done or failed."""
    scope = policy.insights_scope(_need(request, Scope.READ).user)
    found = alliance_tasks.recall(scope, status_id)
    if found is None:
        raise not_found("status_id", "insights fit")
    key, chosen = found
    return _fit_status(
        request, scope, chosen, alliance_tasks.fit_state(scope, chosen, key)
    )


# --- service lines ------------------------------------------------------------------


class ServiceLineOut(Schema):
    id: int
    name: str
    kind: str
    active: bool


@_get("/service-lines", list[ServiceLineOut], "engagements", ERRORS)
def list_service_lines(request: HttpRequest) -> Any:
    token = _need(request, Scope.READ)
    _seen(request, "service_lines.list")
    return list(
        ServiceLine.objects.filter(practice_id=_practice_id(token.user)).order_by("pk")
    )


def api_urls() -> Any:
    """The API's URL patterns (a wrong method answers in the error body too)."""

    def body(request: HttpRequest, allowed: str) -> list[dict[str, str]]:
        message = f"{request.method} is not allowed here; allowed: {allowed}."
        return [{"field": "method", "message": message, "code": "method_not_allowed"}]

    return json_method_errors(api.urls, body)
