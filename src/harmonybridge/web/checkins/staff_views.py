"""Session screens of the check-ins: answers at a session, the practitioner's rating,
handing out check-in links (served in the ``practice`` URL namespace, see ``web/urls.py``)."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from harmonybridge import instruments
from harmonybridge.web import audit
from harmonybridge.web.checkins import revisions, storage, tokens
from harmonybridge.web.checkins.forms import (
    NOT_SURE,
    InstrumentForm,
    answer_label,
    field_name,
    item_text,
    shown_items,
)
from harmonybridge.web.checkins.mail import send_checkin_link
from harmonybridge.web.checkins.models import Channel, CheckIn, Response
from harmonybridge.web.practice import catalogue, language
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import RaterRole, TherapySession
from harmonybridge.web.practice.policy import get_session_or_404


def session_scores(session: TherapySession) -> list[dict[str, Any]]:
    """Both sides' responses at this session with their total, band and subscales."""
    rows = []
    coaching = session.engagement.is_coaching
    responses = (
        Response.objects.filter(session=session)
        .select_related("respondent_client", "respondent_user")
        .prefetch_related("scores")
        .order_by("instrument_id", "rater_role", "respondent_key")
    )
    for r in responses:
        scores = {s.subscale: s for s in r.scores.all()}
        total = scores.get("")
        who = (
            r.respondent_client.label if r.respondent_client else str(r.respondent_user)
        )
        rows.append(
            {
                "response": r,
                "title": instruments.short_title(r.instrument_id),
                "who": who,
                "total": total.value if total else None,
                "band": language.band_label(
                    r.instrument_id, total.value if total else None, coaching
                ),
                "parts": [(k, s.value) for k, s in sorted(scores.items()) if k],
            }
        )
    return rows


def _rating_forms(
    session: TherapySession, user: Any, data: Any = None
) -> list[InstrumentForm]:
    done = set(
        Response.objects.filter(
            session=session, respondent_key=Response.key_for_user(user.pk)
        ).values_list("instrument_id", flat=True)
    )
    return [
        InstrumentForm(
            inst,
            data,
            goals=session.engagement.goals,
            coaching=session.engagement.is_coaching,
            followups=True,
        )
        for inst in storage.due_instruments(session, RaterRole.PRACTITIONER)
        if inst.id not in done
    ]


def _answer_rows(
    inst: Any, answers: dict[int, Any], goals: list[str], coaching: bool
) -> list[tuple[str, str]]:
    """(item wording, answer label) per shown item, for reading a stored rating."""
    rows = []
    for it in shown_items(inst, goals):
        label = answer_label(inst, it.number, answers.get(it.number))
        rows.append((item_text(inst, it, goals, coaching), label))
    return rows


def _my_ratings(
    session: TherapySession, user: Any, bound: InstrumentForm | None = None
) -> list[dict[str, Any]]:
    """The user's own stored ratings of this session, each with a correction form."""
    engagement = session.engagement
    out = []
    mine = (
        Response.objects.filter(
            session=session, respondent_key=Response.key_for_user(user.pk)
        )
        .prefetch_related("answers", "revisions")
        .order_by("instrument_id")
    )
    for response in mine:
        inst = catalogue.instrument_for(engagement.practice, response.instrument_id)
        if inst is None:
            continue
        answers = {a.item: a.value for a in response.answers.all()}
        form = (
            bound
            if bound is not None and bound.inst.id == inst.id
            else InstrumentForm(
                inst,
                goals=engagement.goals,
                coaching=engagement.is_coaching,
                followups=True,
                initial={
                    field_name(k): (NOT_SURE if v is None else str(int(v)))
                    for k, v in answers.items()
                    if v is not None or _asked(inst, k, answers)
                },
            )
        )
        out.append(
            {
                "response": response,
                "title": instruments.short_title(inst.id),
                "rows": _answer_rows(
                    inst, answers, engagement.goals, engagement.is_coaching
                ),
                "versions": len(response.revisions.all()),
                "form": form,
                "open": form.is_bound,
            }
        )
    return out


def _asked(inst: Any, item: int, answers: dict[int, Any]) -> bool:
    """Whether a follow-up item was asked (its condition held), so None is "not sure"."""
    for it in inst.items:
        if it.number == item and it.condition is not None:
            cond_item, cond_value = it.condition
            return answers.get(cond_item) == cond_value
    return False


def _detail_context(
    session: TherapySession,
    user: Any,
    *,
    rating_forms: list[InstrumentForm] | None = None,
    correction: InstrumentForm | None = None,
) -> dict[str, Any]:
    engagement = session.engagement
    checkins = {c.respondent_id: c for c in CheckIn.objects.filter(session=session)}
    return {
        "session": session,
        "engagement": engagement,
        "rating_forms": (
            rating_forms if rating_forms is not None else _rating_forms(session, user)
        ),
        "my_ratings": _my_ratings(session, user, correction),
        "scores": session_scores(session),
        "respondents": [
            {"client": m.client, "checkin": checkins.get(m.client_id)}
            for m in engagement.memberships.select_related("client")
        ],
        "client_instruments": storage.due_instruments(session, RaterRole.CLIENT),
    }


@require_GET
@staff_view
def session_detail(request: PractitionerRequest, pk: int) -> HttpResponse:
    session = get_session_or_404(request, pk)
    audit.record(request.user, "session.view", session, request=request)
    context = _detail_context(session, request.user)
    template = "checkins/session_detail.html"
    if request.htmx:
        template += "#session-scores"
    return render(request, template, context)


@require_POST
@staff_view
def session_rate(request: PractitionerRequest, pk: int) -> HttpResponse:
    """Store the practitioner's own alliance rating (one instrument per post)."""
    session = get_session_or_404(request, pk, change=True)
    wanted = request.POST.get("instrument", "")
    forms = [
        f
        for f in _rating_forms(session, request.user, request.POST)
        if f.prefix == wanted
    ]
    if not forms:
        messages.info(request, _("Your rating for this session is already stored."))
        return redirect(session)
    for form in forms:
        if not form.is_valid():
            context = _detail_context(session, request.user, rating_forms=forms)
            return render(request, "checkins/session_detail.html", context, status=400)
    for form in forms:
        storage.store_practitioner_rating(
            session, form.inst, form.answers(), request.user, request
        )
    messages.success(request, _("Your rating is stored."))
    return redirect(session)


@require_POST
@staff_view
def session_rating_correct(
    request: PractitionerRequest, pk: int, response_pk: int
) -> HttpResponse:
    """Correct the practitioner's own stored rating (the earlier version is kept)."""
    session = get_session_or_404(request, pk, change=True)
    response = Response.objects.filter(
        session=session,
        pk=response_pk,
        respondent_key=Response.key_for_user(request.user.pk),
    ).first()
    engagement = session.engagement
    inst = (
        catalogue.instrument_for(engagement.practice, response.instrument_id)
        if response is not None
        else None
    )
    if response is None or inst is None:
        raise Http404
    form = InstrumentForm(
        inst,
        request.POST,
        goals=engagement.goals,
        coaching=engagement.is_coaching,
        followups=True,
    )
    if not form.is_valid():
        context = _detail_context(session, request.user, correction=form)
        return render(request, "checkins/session_detail.html", context, status=400)
    revisions.correct_response(response, inst, form.answers(), request.user, request)
    messages.success(request, _("Your rating is corrected; the earlier one is kept."))
    return redirect(session)


def qr_data_uri(link: str) -> str:
    return segno.make(link, error="m").svg_data_uri(scale=5, border=2)


@never_cache
@require_POST
@staff_view
def checkin_links(request: PractitionerRequest, pk: int) -> HttpResponse:
    """Issue a fresh link and QR code per respondent (earlier unsent links stop working).

    The plain token exists only in this response: it is stored as a hash.
    """
    session = get_session_or_404(request, pk, change=True)
    send = request.POST.get("send_email") == "1"
    refusals = [
        tokens.issue_refusal(m.client)
        for m in session.engagement.memberships.select_related("client")
        if not CheckIn.objects.filter(
            session=session, respondent=m.client, submitted_at__isnull=False
        ).exists()
    ]
    if any(refusals):
        for message in filter(None, refusals):
            messages.error(request, message)
        return redirect(session)
    links = []
    with transaction.atomic():
        for m in session.engagement.memberships.select_related("client"):
            existing = CheckIn.objects.filter(
                session=session, respondent=m.client
            ).first()
            if existing is not None and existing.is_submitted:
                links.append({"client": m.client, "done": True})
                continue
            channel = Channel.EMAIL if send and m.client.email else Channel.LINK
            checkin, token = tokens.issue(session, m.client, channel)
            link = tokens.build_link(token)
            emailed = False
            if send and m.client.email:
                send_checkin_link(m.client.email, link)
                checkin.email_sent_at = timezone.now()
                checkin.save(update_fields=["email_sent_at", "updated_at"])
                emailed = True
            links.append(
                {
                    "client": m.client,
                    "link": link,
                    "qr": qr_data_uri(link + "?via=qr"),
                    "emailed": emailed,
                    "expires_at": checkin.expires_at,
                }
            )
            audit.record(
                request.user,
                "checkin.issue",
                m.client,
                request=request,
                session_id=session.pk,
                channel=channel,
            )
    return render(
        request, "checkins/checkin_links.html", {"session": session, "links": links}
    )
