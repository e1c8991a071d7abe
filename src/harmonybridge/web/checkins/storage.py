"""Store answers once, score them with the core, and notice safety items at once."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

import harmonybridge
from harmonybridge.web import audit
from harmonybridge.web.checkins import signals
from harmonybridge.web.checkins.bulk import insert_rows
from harmonybridge.web.checkins.models import Answer, CheckIn, Response, Score
from harmonybridge.web.checkins.prepared import Prepared
from harmonybridge.web.practice import catalogue, datastamp
from harmonybridge.web.practice.models import (
    Engagement,
    InstrumentWording,
    PlanEntry,
    RaterRole,
    TherapySession,
)
from harmonybridge.web.rowinsert import built_once, columns


def _plan_entries(engagement: int, rater_role: str, practice: int) -> Any:
    return (
        PlanEntry.objects.filter(plan__engagement=engagement, rater_role=rater_role)
        .select_related("plan")
        .annotate(
            stored_wording=Subquery(
                InstrumentWording.objects.filter(
                    practice_id=practice,
                    instrument_id=OuterRef("instrument_id"),
                ).values("wording")[:1]
            )
        )
    )


#: One query however many instruments (the practice's wording rides along), its SQL
#: built once per connection: it is read on every check-in screen and submit.
_entries = Prepared(
    PlanEntry, _plan_entries, engagement=int, rater_role=str, practice=int
)


def due_instruments(session: TherapySession, rater_role: str) -> list[Any]:
    """Usable instruments the plan asks of this rater at this session, in plan order."""
    engagement = session.engagement
    entries = _entries(
        engagement=engagement.pk,
        rater_role=rater_role,
        practice=engagement.practice_id,
    )
    ids = [e.instrument_id for e in entries if e.is_due(session.number)]
    if entries and entries[0].plan.brief and rater_role == RaterRole.CLIENT:
        ids = catalogue.brief_instrument_ids(ids, session.number)
    out = []
    wordings = {e.instrument_id: e.stored_wording for e in entries}
    for inst_id in ids:
        if inst_id in wordings:
            inst = catalogue.with_stored_wording(inst_id, wordings[inst_id])
        else:  # the brief plan's short form, not itself in the plan
            inst = catalogue.instrument_for(engagement.practice, inst_id)
        if inst is not None:
            out.append(inst)
    return out


def score_rows(
    inst: Any, answers: Mapping[int, Any]
) -> list[tuple[str, float | None, str]]:
    """(subscale, value, band) rows from the core: total, subscales, derived scores."""
    res = inst.score(dict(answers))
    rows: list[tuple[str, float | None, str]] = [("", _num(res.total), res.band or "")]
    rows += [(name, _num(value), "") for name, value in res.subscales.items()]
    rows += [(name, _num(value), "") for name, value in (res.derived or {}).items()]
    return rows


def _num(value: Any) -> float | None:
    """A plain float, with missing (None or NaN) as None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def safety_fires(inst: Any, answers: Mapping[int, Any]) -> bool:
    """Whether any answer given so far triggers one of the instrument's safety items."""
    return any(rule.fires(answers.get(rule.item)) for rule in inst.safety_items)


#: Encrypted fields submitting never needs (not loaded, not decrypted).
_ENCRYPTED = (
    "respondent__name",
    "respondent__email",
    "session__engagement__goal_1",
    "session__engagement__goal_2",
    "session__engagement__goal_3",
    "session__engagement__way_of_working",
)


@dataclass
class Stored:
    created: bool
    responses: list[Response] = field(default_factory=list)


def _store(
    session: TherapySession,
    filled: list[tuple[Any, Mapping[int, Any]]],
    *,
    rater_role: str,
    respondent_key: str,
    channel: str,
    checkin: CheckIn | None = None,
    client_id: int | None = None,
    user_id: int | None = None,
) -> list[Response]:
    """Insert responses, answers and core scores for (instrument, answers) pairs.

    One statement on PostgreSQL (:func:`_store_in_one`), three elsewhere.
    """
    now = timezone.now()
    version = harmonybridge.__version__
    scores = [
        score_rows(catalogue.scoring_instrument(inst.id), answers)
        for inst, answers in filled
    ]
    responses = [
        Response(
            session=session,
            checkin=checkin,
            instrument_id=inst.id,
            instrument_version=inst.version,
            rater_role=rater_role,
            respondent_client_id=client_id,
            respondent_user_id=user_id,
            respondent_key=respondent_key,
            channel=channel,
            submitted_at=now,
        )
        for inst, _answers in filled
    ]
    if connection.vendor == "postgresql":
        return _store_in_one(responses, filled, scores, now)
    responses = Response.objects.bulk_create(responses)
    insert_rows(
        Answer,
        ("response_id", "item", "value"),
        (
            (response.pk, item, value)
            for response, (_inst, answers) in zip(responses, filled, strict=True)
            for item, value in answers.items()
        ),
    )
    insert_rows(
        Score,
        ("response_id", "subscale", "value", "band", "library_version"),
        (
            (response.pk, sub, value, band, version)
            for response, rows in zip(responses, scores, strict=True)
            for sub, value, band in rows
        ),
    )
    return responses


#: The fields of a stored response that are the same for each instrument of one store.
_SHARED = (
    "session_id",
    "checkin_id",
    "rater_role",
    "respondent_client_id",
    "respondent_user_id",
    "respondent_key",
    "channel",
    "submitted_at",
    "created_at",
    "updated_at",
)


def _one_statement_sql() -> str:
    """PostgreSQL: responses, their answers and scores in one ``INSERT`` with
    data-modifying ``WITH`` parts, the rows passed as JSON text (one parameter each:
    cheap to send, where an array parameter is converted value by value)."""
    qn = connection.ops.quote_name

    def col(model: Any, attname: str) -> str:
        return columns(model, connection)[attname]

    def table(model: Any) -> str:
        return qn(model._meta.db_table)

    rid, rinst = col(Response, "id"), col(Response, "instrument_id")
    shared = ", ".join(col(Response, a) for a in _SHARED)
    now = "%(now)s, %(now)s"
    return (
        f"WITH r AS (INSERT INTO {table(Response)} "
        f"({shared}, {rinst}, {col(Response, 'instrument_version')}) "
        f"SELECT {', '.join(f'%({a})s' for a in _SHARED)}, x.i, x.v "
        "FROM json_to_recordset(%(responses)s::json) AS x(i text, v text) "
        f"RETURNING {rid}, {rinst}), "
        f"a AS (INSERT INTO {table(Answer)} ({col(Answer, 'response_id')}, "
        f"{col(Answer, 'item')}, {col(Answer, 'value')}, "
        f"{col(Answer, 'created_at')}, {col(Answer, 'updated_at')}) "
        f"SELECT r.{rid}, x.n, x.v, {now} "
        "FROM json_to_recordset(%(answers)s::json) AS x(i text, n int, v float8) "
        f"JOIN r ON r.{rinst} = x.i), "
        f"s AS (INSERT INTO {table(Score)} ({col(Score, 'response_id')}, "
        f"{col(Score, 'subscale')}, {col(Score, 'value')}, {col(Score, 'band')}, "
        f"{col(Score, 'library_version')}, "
        f"{col(Score, 'created_at')}, {col(Score, 'updated_at')}) "
        f"SELECT r.{rid}, x.s, x.v, x.b, %(version)s, {now} "
        "FROM json_to_recordset(%(scores)s::json) AS x(i text, s text, v float8, b text) "
        f"JOIN r ON r.{rinst} = x.i) "
        f"SELECT {rid}, {rinst} FROM r"
    )


def _store_in_one(
    responses: list[Response],
    filled: list[tuple[Any, Mapping[int, Any]]],
    scores: list[list[tuple[str, float | None, str]]],
    now: Any,
) -> list[Response]:
    """Store as :func:`_store` does, in one statement (PostgreSQL) whose SQL is built
    once per connection; ``responses`` are the unsaved rows, saved on return."""
    if not responses:
        return responses
    sql = built_once(connection, "_hb_store_sql", _one_statement_sql)
    for response in responses:
        response.created_at = response.updated_at = now
    ops = connection.ops
    params: dict[str, Any] = {a: getattr(responses[0], a) for a in _SHARED}
    for a in ("submitted_at", "created_at", "updated_at"):
        params[a] = ops.adapt_datetimefield_value(params[a])
    params["now"] = params["created_at"]
    params["version"] = harmonybridge.__version__
    dumps = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
    params["responses"] = dumps(
        [{"i": r.instrument_id, "v": r.instrument_version} for r in responses]
    )
    params["answers"] = dumps(
        [
            {"i": inst.id, "n": item, "v": value}
            for inst, answers in filled
            for item, value in answers.items()
        ]
    )
    params["scores"] = dumps(
        [
            {"i": inst.id, "s": sub, "v": value, "b": band}
            for (inst, _a), rows in zip(filled, scores, strict=True)
            for sub, value, band in rows
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = {inst_id: pk for pk, inst_id in cursor.fetchall()}
    for response in responses:
        response.pk = ids[response.instrument_id]
        response._state.adding, response._state.db = False, connection.alias
    return responses


def _claim(checkin_id: int, now: Any) -> bool:
    """Mark the check-in submitted unless it is; whether this call did.

    ``CheckIn.objects.filter(pk=..., submitted_at__isnull=True).update(submitted_at=now,
    draft={}, updated_at=now)``, its SQL built once per connection (issue 14).
    """

    def build() -> str:
        col = columns(CheckIn, connection)
        return (
            f"UPDATE {connection.ops.quote_name(CheckIn._meta.db_table)} SET "
            f"{col['submitted_at']} = %s, {col['draft']} = %s, {col['updated_at']} = %s "
            f"WHERE {col['id']} = %s AND {col['submitted_at']} IS NULL"
        )

    sql = built_once(connection, "_hb_claim_sql", build)
    at = connection.ops.adapt_datetimefield_value(now)
    draft = CheckIn._meta.get_field("draft").get_db_prep_save({}, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [at, draft, at, checkin_id])
        return cursor.rowcount == 1


def submit_checkin(
    checkin: CheckIn | int,
    answers: Mapping[str, Mapping[int, Any]],
    *,
    instruments: list[Any] | None = None,
) -> Stored:
    """Store every instrument of a check-in once; a second submit stores nothing.

    ``answers`` maps instrument id to complete, validated answers. The first statement
    marks the check-in submitted (``UPDATE ... WHERE submitted_at IS NULL``), which also
    locks its row: concurrent submits wait there and then find it done. The unique
    constraint on responses is the last line of defence. ``checkin`` may be the row the
    request already loaded (with its session), which saves reading it again.
    """
    try:
        with transaction.atomic():
            if not isinstance(checkin, CheckIn):
                checkin = (
                    CheckIn.objects.select_related("session__engagement", "respondent")
                    .defer(*_ENCRYPTED)
                    .get(pk=checkin)
                )
            now = timezone.now()
            if not _claim(checkin.pk, now):
                return Stored(created=False)
            checkin.submitted_at, checkin.draft = now, {}
            session = checkin.session
            filled = [
                (inst, answers[inst.id])
                for inst in (
                    instruments
                    if instruments is not None
                    else due_instruments(session, RaterRole.CLIENT)
                )
                if inst.id in answers  # the plan changed while the client answered
            ]
            responses = _store(
                session,
                filled,
                rater_role=RaterRole.CLIENT,
                respondent_key=Response.key_for_client(checkin.respondent_id),
                channel=checkin.channel,
                checkin=checkin,
                client_id=checkin.respondent_id,
            )
            audit.record(
                None,
                "checkin.submit",
                checkin.respondent,
                practice_id=session.engagement.practice_id,
                session_id=session.pk,
                checkin_id=checkin.pk,
                responses=len(responses),
            )
            _after_commit(session.engagement_id)
            return Stored(created=True, responses=responses)
    except IntegrityError:
        return Stored(created=False)


def store_practitioner_rating(
    session: TherapySession,
    inst: Any,
    answers: Mapping[int, Any],
    user: Any,
    request: Any,
) -> Stored:
    """Store the practitioner's own rating once per session and instrument."""
    key = Response.key_for_user(user.pk)
    try:
        with transaction.atomic():
            if Response.objects.filter(
                session=session, respondent_key=key, instrument_id=inst.id
            ).exists():
                return Stored(created=False)
            (response,) = _store(
                session,
                [(inst, answers)],
                rater_role=RaterRole.PRACTITIONER,
                respondent_key=key,
                channel="web",
                user_id=user.pk,
            )
            audit.record(
                user,
                "session.rate",
                session,
                request=request,
                engagement_id=session.engagement_id,
                instrument=inst.id,
            )
            _after_commit(session.engagement_id)
            return Stored(created=True, responses=[response])
    except IntegrityError:
        return Stored(created=False)


def save_draft(
    checkin_id: int,
    instrument_id: str,
    answers: Mapping[int, Any],
    *,
    merge: bool = False,
) -> CheckIn | None:
    """Keep the answers of one screen so a dropped connection loses nothing.

    ``merge``: keep earlier answers and add the ones given (one answer at a time).
    """
    with transaction.atomic():
        checkin = CheckIn.objects.select_for_update().filter(pk=checkin_id).first()
        if checkin is None or checkin.submitted_at is not None:
            return None
        draft = dict(checkin.draft or {})
        given = {str(k): v for k, v in answers.items()}
        if merge:
            given = {
                **(draft.get(instrument_id) or {}),
                **{k: v for k, v in given.items() if v is not None},
            }
        draft[instrument_id] = given
        checkin.draft = draft
        if checkin.opened_at is None:
            checkin.opened_at = timezone.now()
        checkin.save(update_fields=["draft", "opened_at", "updated_at"])
        return checkin


def _after_commit(engagement_id: int) -> None:
    """Announce the answers being stored; alerts queue their evaluation atomically
    with them (``alerts.receivers``). Then raise the practice's data version: the bulk
    inserts sent no signal, and as the transaction's last statement the raise holds the
    practice's stamp row only until the commit (ADR 0017)."""
    signals.answers_stored.send(sender=Response, engagement_id=engagement_id)
    datastamp.touch_engagement(engagement_id)


def rescore(response: Response) -> int:
    """Recompute a stored response's scores with this library version."""
    inst = catalogue.scoring_instrument(response.instrument_id)
    answers = {a.item: a.value for a in response.answers.all()}
    answers = {
        k: (None if v is None else int(v) if float(v).is_integer() else v)
        for k, v in answers.items()
    }
    version = harmonybridge.__version__
    with transaction.atomic():
        response.scores.all().delete()
        Score.objects.bulk_create(
            Score(
                response=response, subscale=s, value=v, band=b, library_version=version
            )
            for s, v, b in score_rows(inst, answers)
        )
        datastamp.touch_engagements(
            Engagement.objects.filter(sessions__responses=response.pk)
        )
    return 1
