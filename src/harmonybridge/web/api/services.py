"""What the API does with validated input: the same service functions the pages call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.http import QueryDict

from harmonybridge.web import audit
from harmonybridge.web.alerts.safety import raise_notice
from harmonybridge.web.api.errors import ApiError, invalid
from harmonybridge.web.checkins import storage, tokens
from harmonybridge.web.checkins.forms import InstrumentForm, field_name
from harmonybridge.web.checkins.models import Channel, CheckIn, Response
from harmonybridge.web.practice.models import (
    Client,
    Engagement,
    RaterRole,
    TherapySession,
)


def validated_answers(
    session: TherapySession,
    rater_role: str,
    given: Mapping[str, Mapping[str, int | None]],
) -> tuple[list[Any], dict[str, dict[int, Any]]]:
    """Check answers with the check-in pages' own form; return instruments and answers.

    Only instruments the plan asks of this rater at this session are accepted.
    """
    due = {inst.id: inst for inst in storage.due_instruments(session, rater_role)}
    if not given:
        raise invalid("answers", "Give the answers of at least one instrument.")
    instruments, out = [], {}
    for instrument_id, items in given.items():
        inst = due.get(instrument_id)
        if inst is None:
            raise invalid(
                f"answers.{instrument_id}",
                f"{instrument_id} is not due from the {rater_role} at this session "
                f"(due: {', '.join(due) or 'none'}).",
                "not_due",
            )
        data = QueryDict(mutable=True)
        for item, value in items.items():
            if not item.isdigit():
                raise invalid(
                    f"answers.{instrument_id}.{item}",
                    'Item keys are item numbers such as "1".',
                    "unknown_item",
                )
            if value is not None:
                data[f"{inst.id}-{field_name(int(item))}"] = str(value)
        goals = session.engagement.goals if inst.kind == "goals" else ()
        form = InstrumentForm(inst, data, goals=goals)
        if not form.is_valid():
            for name, errors in form.errors.items():
                where = (
                    f"answers.{instrument_id}.{name[1:]}"
                    if name.startswith("i")
                    else f"answers.{instrument_id}"
                )
                raise invalid(
                    where, str(errors[0]), errors.as_data()[0].code or "invalid"
                )
        instruments.append(inst)
        out[inst.id] = form.answers()
    return instruments, out


def submit_client_answers(
    session: TherapySession,
    client: Client,
    instruments: list[Any],
    answers: dict[str, dict[int, Any]],
) -> list[Response]:
    """Store a client's answers through the check-in storage path (channel ``api``).

    A check-in already submitted for this client and session is a 409: the pages
    store a check-in once, and so does the API.
    """
    checkin = CheckIn.objects.filter(session=session, respondent=client).first()
    if checkin is None:
        try:
            with transaction.atomic():
                checkin, _token = tokens.issue(session, client, Channel.API)
        except tokens.IssueRefused as refused:
            raise ApiError(
                409, "client_id", str(refused), "care_consent_missing"
            ) from None
        except IntegrityError:
            checkin = CheckIn.objects.get(session=session, respondent=client)
    if checkin.submitted_at is not None:
        raise ApiError(
            409,
            "client_id",
            "This client's check-in for this session is already submitted.",
            "already_submitted",
        )
    if checkin.channel != Channel.API:
        CheckIn.objects.filter(pk=checkin.pk).update(channel=Channel.API)
    fired = next(
        (i for i in instruments if storage.safety_fires(i, answers[i.id])), None
    )
    stored = storage.submit_checkin(checkin.pk, answers, instruments=instruments)
    if not stored.created:
        raise ApiError(
            409,
            "client_id",
            "This client's check-in for this session is already submitted.",
            "already_submitted",
        )
    if fired is not None:
        checkin.session = session
        raise_notice(checkin, fired, answers[fired.id])
    return stored.responses


def submit_practitioner_answers(
    session: TherapySession,
    user: Any,
    instruments: list[Any],
    answers: dict[str, dict[int, Any]],
    request: Any,
) -> list[Response]:
    out = []
    for inst in instruments:
        stored = storage.store_practitioner_rating(
            session, inst, answers[inst.id], user, request
        )
        if not stored.created:
            raise ApiError(
                409,
                f"answers.{inst.id}",
                "You already rated this instrument at this session.",
                "already_submitted",
            )
        out += stored.responses
    return out


def create_session(
    engagement: Engagement, values: dict[str, Any], user: Any, request: Any
) -> TherapySession:
    for attempt in range(3):
        try:
            with transaction.atomic():
                session = TherapySession(engagement=engagement, **values)
                session.number = engagement.next_session_number()
                session.save()
                audit.record(
                    user,
                    "session.create",
                    session,
                    request=request,
                    engagement_id=engagement.pk,
                )
                return session
        except IntegrityError:
            if attempt == 2:
                raise ApiError(
                    409,
                    "engagement_id",
                    "Another session was added at the same time; try again.",
                    "conflict",
                ) from None
    raise AssertionError  # pragma: no cover


RATER_ROLES = (RaterRole.CLIENT, RaterRole.PRACTITIONER)
