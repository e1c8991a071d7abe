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
from typing import Annotated, Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
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
)
from harmonybridge.web.api.models import ApiToken, IdempotencyRecord, Scope
from harmonybridge.web.checkins.models import Answer, Response, Score
from harmonybridge.web.practice.models import (
    Client,
    Engagement,
    EngagementStatus,
    Modality,
    RaterRole,
    ServiceLine,
    TherapySession,
)
from harmonybridge.web.practice.services import create_engagement
from harmonybridge.web.repairs.models import RepairRecord
from harmonybridge.web.research.consent import record_consent
from harmonybridge.web.research.models import Decision, Purpose

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


@api.get("/clients", response={200: ClientPage, **ERRORS}, tags=["clients"])
def list_clients(request: HttpRequest, page: Query[PageQuery]) -> Any:
    _need(request, Scope.READ)
    qs = access.clients_for(_token(request).user)
    if Scope.IDENTIFY not in _token(request).scopes:
        qs = qs.defer("name", "email")
    result = _page(qs, page, _client_out(request))
    _seen(request, "clients.list", None, rows=len(result["items"]))
    return result


@api.post("/clients", response={201: ClientOut, **WRITES}, tags=["clients"])
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


@api.get(
    "/clients/{str:client_id}", response={200: ClientOut, **HIDDEN}, tags=["clients"]
)
def get_client(request: HttpRequest, client_id: PathId) -> Any:
    _need(request, Scope.READ)
    client = access.get(
        access.clients_for(_token(request).user), client_id, "client_id", "client"
    )
    _seen(request, "client.view", client)
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


@api.get("/engagements", response={200: EngagementPage, **ERRORS}, tags=["engagements"])
def list_engagements(request: HttpRequest, filters: Query[EngagementFilter]) -> Any:
    _need(request, Scope.READ)
    qs = _engagements(request)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.started_from:
        qs = qs.filter(start_date__gte=filters.started_from)
    if filters.started_to:
        qs = qs.filter(start_date__lte=filters.started_to)
    result = _page(qs, filters, _engagement_out)
    _seen(request, "engagements.list", None, rows=len(result["items"]))
    return result


class _Unsaved:
    """What ``create_engagement`` asks of a form: an unsaved engagement."""

    def __init__(self, engagement: Engagement) -> None:
        self.engagement = engagement

    def save(self, commit: bool = True) -> Engagement:
        return self.engagement


@api.post("/engagements", response={201: EngagementOut, **WRITES}, tags=["engagements"])
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


@api.get(
    "/engagements/{str:engagement_id}",
    response={200: EngagementOut, **HIDDEN},
    tags=["engagements"],
)
def get_engagement(request: HttpRequest, engagement_id: PathId) -> Any:
    _need(request, Scope.READ)
    engagement = access.get(
        _engagements(request), engagement_id, "engagement_id", "engagement"
    )
    _seen(request, "engagement.view", engagement)
    return _engagement_out(engagement)


class PlanEntryOut(Schema):
    instrument_id: str
    rater_role: str
    every_n: int
    starting_session: int


@api.get(
    "/engagements/{str:engagement_id}/plan",
    response={200: list[PlanEntryOut], **HIDDEN},
    tags=["engagements"],
)
def get_plan(request: HttpRequest, engagement_id: PathId) -> Any:
    _need(request, Scope.READ)
    engagement = access.get(
        _engagements(request), engagement_id, "engagement_id", "engagement"
    )
    _seen(request, "plan.view", engagement)
    plan = getattr(engagement, "plan", None)
    return list(plan.entries.all()) if plan is not None else []


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


def _session_out(s: TherapySession) -> dict[str, Any]:
    return {
        "id": s.pk,
        "engagement_id": s.engagement_id,
        "number": s.number,
        "starts_at": s.starts_at,
        "modality": s.modality,
        "attendance": s.attendance,
    }


@api.get("/sessions", response={200: SessionPage, **ERRORS}, tags=["sessions"])
def list_sessions(request: HttpRequest, filters: Query[SessionFilter]) -> Any:
    _need(request, Scope.READ)
    qs = access.sessions_for(_token(request).user)
    if filters.engagement_id is not None:
        qs = qs.filter(engagement_id=filters.engagement_id)
    if filters.starts_from:
        qs = qs.filter(starts_at__gte=filters.starts_from)
    if filters.starts_to:
        qs = qs.filter(starts_at__lte=filters.starts_to)
    result = _page(qs, filters, _session_out)
    _seen(request, "sessions.list", None, rows=len(result["items"]))
    return result


@api.post(
    "/engagements/{str:engagement_id}/sessions",
    response={201: SessionOut, **WRITES},
    tags=["sessions"],
)
def create_session(
    request: HttpRequest, engagement_id: PathId, payload: SessionIn
) -> Any:
    token = _need(request, Scope.WRITE)
    engagement = access.get(
        _engagements(request, change=True), engagement_id, "engagement_id", "engagement"
    )
    session = services.create_session(
        engagement,
        {
            "starts_at": payload.starts_at or timezone.now(),
            "modality": payload.modality,
        },
        token.user,
        request,
    )
    _seen(request, "session.create", session)
    return Status(201, _session_out(session))


@api.get(
    "/sessions/{str:session_id}",
    response={200: SessionOut, **HIDDEN},
    tags=["sessions"],
)
def get_session(request: HttpRequest, session_id: PathId) -> Any:
    _need(request, Scope.READ)
    session = access.get(
        access.sessions_for(_token(request).user), session_id, "session_id", "session"
    )
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


@api.post(
    "/sessions/{str:session_id}/checkins",
    response={201: CheckInOut, **WRITES},
    tags=["check-in links"],
)
def create_checkin_link(
    request: HttpRequest, session_id: PathId, payload: CheckInIn
) -> Any:
    from harmonybridge.web.checkins import tokens as checkin_tokens
    from harmonybridge.web.checkins.models import Channel, CheckIn

    _need(request, Scope.WRITE)
    session = access.get(
        access.sessions_for(_token(request).user, change=True),
        session_id,
        "session_id",
        "session",
    )
    client = session.engagement.clients.filter(pk=payload.client_id).first()
    if client is None:
        raise invalid(
            "client_id", "This client is not in the session's engagement.", "not_member"
        )
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
    return Status(
        201,
        {
            "id": checkin.pk,
            "session_id": session.pk,
            "client_id": client.pk,
            "link": checkin_tokens.build_link(plain),
            "expires_at": checkin.expires_at,
            "submitted": False,
        },
    )


@api.post(
    "/checkins/{str:checkin_id}/revoke",
    response={200: CheckInOut, **WRITES},
    tags=["check-in links"],
)
def revoke_checkin_link(request: HttpRequest, checkin_id: PathId) -> Any:
    from harmonybridge.web.checkins.models import CheckIn

    _need(request, Scope.WRITE)
    sessions = access.sessions_for(_token(request).user, change=True)
    checkin = access.get(
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
    return {
        "id": checkin.pk,
        "session_id": checkin.session_id,
        "client_id": checkin.respondent_id,
        "link": None,
        "expires_at": checkin.expires_at,
        "submitted": False,
    }


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


def _response_out(r: Response) -> dict[str, Any]:
    return {
        "id": r.pk,
        "session_id": r.session_id,
        "instrument_id": r.instrument_id,
        "instrument_version": r.instrument_version,
        "rater_role": r.rater_role,
        "client_id": r.respondent_client_id,
        "channel": r.channel,
        "submitted_at": r.submitted_at,
        "answers": {str(a.item): a.value for a in r.answers.all()},
        "scores": [
            {"subscale": s.subscale, "value": s.value, "band": s.band}
            for s in r.scores.all()
        ],
    }


def _responses(user: Any) -> QuerySet[Response]:
    return Response.objects.filter(
        session__in=access.sessions_for(user).values("pk")
    ).prefetch_related("answers", "scores")


@api.get("/responses", response={200: ResponsePage, **ERRORS}, tags=["responses"])
def list_responses(request: HttpRequest, filters: Query[ResponseFilter]) -> Any:
    _need(request, Scope.READ)
    qs = _responses(_token(request).user)
    if filters.session_id is not None:
        qs = qs.filter(session_id=filters.session_id)
    if filters.engagement_id is not None:
        qs = qs.filter(session__engagement_id=filters.engagement_id)
    if filters.instrument_id:
        qs = qs.filter(instrument_id=filters.instrument_id)
    if filters.submitted_from:
        qs = qs.filter(submitted_at__gte=filters.submitted_from)
    if filters.submitted_to:
        qs = qs.filter(submitted_at__lte=filters.submitted_to)
    result = _page(qs, filters, _response_out)
    _seen(request, "responses.list", None, rows=len(result["items"]))
    return result


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
    token = _need(request, Scope.WRITE)
    session = access.get(
        access.sessions_for(token.user, change=True)
        .select_related("engagement")
        .defer(*(f"engagement__{f}" for f in _ENGAGEMENT_SECRETS)),
        session_id,
        "session_id",
        "session",
    )

    def run() -> tuple[int, Any]:
        return 201, _submit(request, token, session, payload)

    return Status(*idempotent(request, payload, run))


def _submit(
    request: HttpRequest, token: ApiToken, session: TherapySession, payload: ResponsesIn
) -> list[dict[str, Any]]:
    role = payload.rater_role
    client: Client | None = None
    if role == RaterRole.CLIENT:
        if payload.client_id is None:
            raise invalid("client_id", "Name the answering client.", "required")
        client = session.engagement.clients.filter(pk=payload.client_id).first()
        if client is None:
            raise invalid(
                "client_id",
                "This client is not in the session's engagement.",
                "not_member",
            )
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
    return [
        {
            "id": r.pk,
            "session_id": r.session_id,
            "instrument_id": r.instrument_id,
            "instrument_version": r.instrument_version,
            "rater_role": r.rater_role,
            "client_id": r.respondent_client_id,
            "channel": r.channel,
            "submitted_at": r.submitted_at,
            "answers": answers[r.pk],
            "scores": scores[r.pk],
        }
        for r in stored
    ]


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


class AlertStepIn(StrictSchema):
    note: StrictStr = Field("", max_length=500, description="required to resolve")


def _alerts(user: Any) -> QuerySet[StoredAlert]:
    return StoredAlert.objects.filter(
        engagement__in=access.engagements_for(user).values("pk")
    ).defer("status_note")


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


@api.get("/alerts", response={200: AlertPage, **ERRORS}, tags=["alerts"])
def list_alerts(request: HttpRequest, filters: Query[AlertFilter]) -> Any:
    _need(request, Scope.READ)
    qs = _alerts(_token(request).user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.engagement_id is not None:
        qs = qs.filter(engagement_id=filters.engagement_id)
    if filters.created_from:
        qs = qs.filter(created_at__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__lte=filters.created_to)
    result = _page(qs, filters, _alert_out)
    _seen(request, "alerts.list", None, rows=len(result["items"]))
    return result


@api.get("/alerts/{str:alert_id}", response={200: AlertOut, **HIDDEN}, tags=["alerts"])
def get_alert(request: HttpRequest, alert_id: PathId) -> Any:
    _need(request, Scope.READ)
    alert = access.get(_alerts(_token(request).user), alert_id, "alert_id", "alert")
    _seen(request, "alert.view", alert)
    return _alert_out(alert)


def _step(request: HttpRequest, alert_id: int, action: str, note: str) -> Any:
    token = _need(request, Scope.WRITE)
    alert = access.get(
        StoredAlert.objects.filter(
            engagement__in=access.engagements_for(token.user, change=True).values("pk")
        ),
        alert_id,
        "alert_id",
        "alert",
    )
    if action == "resolve" and not note.strip():
        raise invalid(
            "note", "Write a short note on how the alert was resolved.", "required"
        )
    result = apply_step(alert.pk, action, token.user, note.strip(), request)
    if not result.done:
        raise ApiError(409, "alert_id", result.message, "already_done")
    return _alert_out(result.alert)


@api.post(
    "/alerts/{str:alert_id}/acknowledge",
    response={200: AlertOut, **WRITES},
    tags=["alerts"],
)
def acknowledge_alert(
    request: HttpRequest, alert_id: PathId, payload: AlertStepIn
) -> Any:
    return _step(request, alert_id, "acknowledge", payload.note)


@api.post(
    "/alerts/{str:alert_id}/resolve",
    response={200: AlertOut, **WRITES},
    tags=["alerts"],
)
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


@api.get(
    "/safety-cards", response={200: list[SafetyCardOut], **ERRORS}, tags=["safety"]
)
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


@api.post(
    "/safety-notices/{str:notice_id}/action",
    response={200: SafetyActionOut, **WRITES},
    tags=["safety"],
)
def record_safety_action(
    request: HttpRequest, notice_id: PathId, payload: SafetyActionIn
) -> Any:
    """Record what was done: closes the client's open notices you may change."""
    user = _need(request, Scope.WRITE).user
    changeable = access.engagements_for(user, change=True).values("pk")
    notice = access.get(
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


@api.get(
    "/rupture-records", response={200: RuptureRecordPage, **ERRORS}, tags=["ruptures"]
)
def list_rupture_records(
    request: HttpRequest, filters: Query[RuptureRecordFilter]
) -> Any:
    """The practitioner's rupture records (markers, strategies, resolved); notes are not
    served."""
    user = _need(request, Scope.READ).user
    qs = (
        RepairRecord.objects.filter(session__in=access.sessions_for(user).values("pk"))
        .select_related("session")
        .defer("note")
    )
    if filters.engagement_id is not None:
        qs = qs.filter(session__engagement_id=filters.engagement_id)
    result = _page(qs, filters, _record_out)
    _seen(request, "rupture_records.list", None, rows=len(result["items"]))
    return result


# --- service lines ------------------------------------------------------------------


class ServiceLineOut(Schema):
    id: int
    name: str
    kind: str
    active: bool


@api.get(
    "/service-lines",
    response={200: list[ServiceLineOut], **ERRORS},
    tags=["engagements"],
)
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
