"""Store answers once, score them with the core, and notice safety items at once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
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
    """Insert responses, answers and core scores for (instrument, answers) pairs: 3 queries."""
    now = timezone.now()
    responses = Response.objects.bulk_create(
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
    )
    insert_rows(
        Answer,
        ("response_id", "item", "value"),
        (
            (response.pk, item, value)
            for response, (_inst, answers) in zip(responses, filled, strict=True)
            for item, value in answers.items()
        ),
    )
    version = harmonybridge.__version__
    insert_rows(
        Score,
        ("response_id", "subscale", "value", "band", "library_version"),
        (
            (response.pk, sub, value, band, version)
            for response, (inst, answers) in zip(responses, filled, strict=True)
            for sub, value, band in score_rows(
                catalogue.scoring_instrument(inst.id), answers
            )
        ),
    )
    return responses


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
            claimed = CheckIn.objects.filter(
                pk=checkin.pk, submitted_at__isnull=True
            ).update(submitted_at=now, draft={}, updated_at=now)
            if not claimed:
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
