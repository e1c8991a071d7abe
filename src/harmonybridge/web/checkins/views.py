"""The client's check-in: token link → cookie → one screen per instrument → submit once."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from harmonybridge.web import audit
from harmonybridge.web.checkins import signals, storage, tokens
from harmonybridge.web.checkins.forms import (
    InstrumentForm,
    complete_draft,
    field_name,
    initial_from_draft,
    posted_answers,
)
from harmonybridge.web.checkins.models import Channel, CheckIn
from harmonybridge.web.practice import catalogue, language
from harmonybridge.web.practice.models import RaterRole


def _invalid(request: HttpRequest) -> HttpResponse:
    """The one page for a forged, guessed, expired or used link."""
    return render(request, "checkins/invalid.html", status=404)


def _activate_tz(checkin: CheckIn) -> None:
    try:
        timezone.activate(
            zoneinfo.ZoneInfo(checkin.session.engagement.practice.time_zone)
        )
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


def _instruments(
    checkin: CheckIn,
    short_form: dict[int, Any] | None = None,
    due: list[Any] | None = None,
) -> list[Any]:
    """The check-in's screens: the plan's, plus the full forms a positive short form
    (PHQ-4, brief plan) calls for, right after it. ``short_form``: its answers when
    just posted (else the draft's); ``due``: the plan's instruments when already read."""
    if due is None:
        due = storage.due_instruments(checkin.session, RaterRole.CLIENT)
    ids = [i.id for i in due]
    if catalogue.SHORT_FORM not in ids:
        return due
    if short_form is None:
        draft = (checkin.draft or {}).get(catalogue.SHORT_FORM) or {}
        short_form = {int(k): v for k, v in draft.items()}
    at = ids.index(catalogue.SHORT_FORM)
    scores = (
        due[at]
        .score({it.number: short_form.get(it.number) for it in due[at].items})
        .subscales
    )
    practice = checkin.session.engagement.practice
    extra = [
        inst
        for full in catalogue.second_stage(ids, dict(scores))
        if (inst := catalogue.instrument_for(practice, full)) is not None
    ]
    return due[: at + 1] + extra + due[at + 1 :]


def _screened_initial(inst: Any, checkin: CheckIn) -> dict[str, Any]:
    """A full form's items the short form already asked, as given there."""
    _sub, _at, items = catalogue.SCREENED.get(inst.id, ("", 0, {}))
    short = (checkin.draft or {}).get(catalogue.SHORT_FORM) or {}
    return {str(full): short[str(s)] for full, s in items.items() if str(s) in short}


def _draft_answers(checkin: CheckIn, inst: Any) -> dict[int, Any]:
    return {int(k): v for k, v in ((checkin.draft or {}).get(inst.id) or {}).items()}


def _fired_items(inst: Any, answers: dict[int, Any]) -> set[int]:
    """The instrument's safety items whose answer triggers the crisis text."""
    return {r.item for r in inst.safety_items if r.fires(answers.get(r.item))}


def _crisis(checkin: CheckIn, instruments: list[Any]) -> bool:
    for inst in instruments:
        if storage.safety_fires(inst, _draft_answers(checkin, inst)):
            return True
    return hasattr(checkin, "safety_notice")


def _form(inst: Any, checkin: CheckIn, data: Any = None) -> InstrumentForm:
    draft = (checkin.draft or {}).get(inst.id) or _screened_initial(inst, checkin)
    engagement = checkin.session.engagement
    return InstrumentForm(
        inst,
        data,
        goals=engagement.goals if inst.kind == "goals" else (),
        initial=initial_from_draft(draft),
        coaching=engagement.is_coaching,
    )


def _heading(inst: Any) -> str:
    return {
        "alliance": _("About today's session"),
        "rupture": _("About today's session"),
        "goals": _("Your goals"),
    }.get(inst.kind, _("How you have been"))


def _screen(
    request: HttpRequest,
    checkin: CheckIn,
    instruments: list[Any],
    index: int,
    form: InstrumentForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    inst = instruments[index]
    fired_here = _fired_items(inst, _draft_answers(checkin, inst))
    crisis = _crisis(checkin, instruments)
    context = {
        "checkin": checkin,
        "practice": checkin.session.engagement.practice,
        "inst": inst,
        "heading": _heading(inst),
        "form": form or _form(inst, checkin),
        "step": index + 1,
        "steps": len(instruments),
        "is_last": index == len(instruments) - 1,
        # under the item that triggered it; at the top when an earlier part did
        "safety_items": {r.item for r in inst.safety_items},
        "fired_items": fired_here,
        "crisis": crisis and not fired_here,
        "error": error,
    }
    return render(request, "checkins/step.html", context, status=status)


@never_cache
@require_GET
def start(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange the link's token for a session cookie and drop the token from the URL."""
    checkin = tokens.lookup(token)
    if checkin is None:
        return _invalid(request)
    request.session.cycle_key()
    tokens.remember(request.session, checkin)
    with transaction.atomic():
        if checkin.opened_at is None:
            checkin.opened_at = timezone.now()
            if request.GET.get("via") == "qr" and checkin.channel == Channel.LINK:
                checkin.channel = Channel.QR  # the QR code carries ?via=qr
            checkin.save(update_fields=["opened_at", "channel", "updated_at"])
        audit.record(
            None,
            "checkin.open",
            checkin.respondent,
            practice_id=checkin.session.engagement.practice_id,
            checkin_id=checkin.pk,
        )
    return redirect("checkins:step")


def _step_index(raw: Any, n: int) -> int:
    try:
        return min(max(int(raw) - 1, 0), n - 1)
    except (TypeError, ValueError):
        return 0


@never_cache
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest) -> HttpResponse:
    """One screen per instrument; each POST keeps the answers given so far."""
    checkin = tokens.current(request.session, allow_submitted=True)
    if checkin is None:
        return _invalid(request)
    if checkin.is_submitted:  # back button or refresh after sending: nothing to redo
        return redirect("checkins:done")
    _activate_tz(checkin)
    instruments = _instruments(checkin)
    if not instruments:
        return render(request, "checkins/nothing.html")
    index = _step_index(request.GET.get("s") or request.POST.get("s"), len(instruments))
    if request.method == "GET":
        return _screen(request, checkin, instruments, index)
    if request.POST.get("checkin") != str(checkin.pk):
        return _screen(
            request,
            checkin,
            instruments,
            index,
            status=400,
            error=_("These answers belong to another check-in and were not saved."),
        )
    inst = instruments[index]
    form = _form(inst, checkin, request.POST)
    if not form.is_valid():
        return _screen(request, checkin, instruments, index, form=form, status=400)
    answers = form.answers()
    saved = storage.save_draft(checkin.pk, inst.id, answers)
    if saved is None:
        return redirect("checkins:done")
    if storage.safety_fires(inst, answers):
        signals.safety_item_answered.send(
            sender=CheckIn, checkin=saved, inst=inst, answers=answers
        )
    instruments = _instruments(saved)  # a positive short form adds the full forms
    if index + 1 < len(instruments):
        return redirect(reverse("checkins:step") + f"?s={index + 2}")
    return redirect(reverse("checkins:step") + f"?s={index + 1}")


@never_cache
@require_POST
def draft(request: HttpRequest) -> HttpResponse:
    """Keep each answer as it is given (htmx posts the screen on every change).

    Answers only what is valid so far. When an answer touches a safety item, the crisis
    text goes at once into that item's live region (an out-of-band swap), else the
    response is empty.
    """
    checkin = tokens.current(request.session)
    if checkin is None or request.POST.get("checkin") != str(checkin.pk):
        return HttpResponse(status=204)
    instruments = _instruments(checkin)
    if not instruments:
        return HttpResponse(status=204)
    inst = instruments[_step_index(request.POST.get("s"), len(instruments))]
    form = InstrumentForm(
        inst, request.POST, goals=checkin.session.engagement.goals, require_all=False
    )
    if not form.is_valid():
        return HttpResponse(status=204)
    answers = form.answers()
    saved = storage.save_draft(checkin.pk, inst.id, answers, merge=True)
    if saved is None:
        return HttpResponse(status=204)
    if storage.safety_fires(inst, answers):
        signals.safety_item_answered.send(
            sender=CheckIn,
            checkin=saved,
            inst=inst,
            answers=_draft_answers(saved, inst),
        )
    # once shown, the crisis text stays on the page (an empty response swaps nothing)
    fired = sorted(_fired_items(inst, _draft_answers(saved, inst)))
    if fired:
        practice = checkin.session.engagement.practice
        return render(
            request,
            "checkins/_crisis_oob.html",
            {"practice": practice, "inst": inst, "items": fired},
        )
    return HttpResponse("")


def _complete_answers(
    checkin: CheckIn, instruments: list[Any], post: QueryDict
) -> tuple[dict[str, dict[int, Any]], int | None, InstrumentForm | None]:
    """Answers of every instrument from this POST or the saved draft, or the first gap.

    The instruments this POST carries are checked by the form's rules without building
    a form (:func:`posted_answers`); a draft holds answers its screen already
    validated, so it is only checked for completeness. A form is built only to show
    an error.
    """
    out: dict[str, dict[int, Any]] = {}
    goals = checkin.session.engagement.goals
    for i, inst in enumerate(instruments):
        prefix = f"{inst.id}-"
        if any(k.startswith(prefix) for k in post):
            posted = posted_answers(inst, post, goals)
            if posted is not None:  # what the form would accept: no form built
                out[inst.id] = posted
                continue
            form = _form(inst, checkin, post)
            if not form.is_valid():
                return out, i, form
            out[inst.id] = form.answers()
            continue
        draft = (checkin.draft or {}).get(inst.id) or {}
        answers = complete_draft(inst, draft, goals)
        if answers is None:
            data = QueryDict(mutable=True)
            for k, v in draft.items():
                if v is not None:
                    data[f"{prefix}{field_name(int(k))}"] = str(v)
            form = _form(inst, checkin, data)
            form.is_valid()
            return out, i, form
        out[inst.id] = answers
    return out, None, None


@never_cache
@require_POST
def submit(request: HttpRequest) -> HttpResponse:
    """Store the whole check-in once; a repeat, refresh or back-button post stores nothing."""
    checkin = tokens.current(request.session, allow_submitted=True)
    if checkin is None:
        return _invalid(request)
    if checkin.is_submitted:
        return redirect("checkins:done")
    _activate_tz(checkin)
    due = storage.due_instruments(checkin.session, RaterRole.CLIENT)
    instruments = _instruments(checkin, due=due)
    if not instruments:  # nothing to answer (and no screen to show an error on)
        return render(request, "checkins/nothing.html")
    if request.POST.get("checkin") != str(checkin.pk):
        return _screen(
            request,
            checkin,
            instruments,
            len(instruments) - 1,
            status=400,
            error=_("These answers belong to another check-in and were not saved."),
        )
    answers, gap, form = _complete_answers(checkin, instruments, request.POST)
    if gap is not None:
        return _screen(request, checkin, instruments, gap, form=form, status=400)
    staged = _instruments(checkin, answers.get(catalogue.SHORT_FORM), due=due)
    if len(staged) > len(instruments):  # the short form just posted is positive
        storage.save_draft(
            checkin.pk, catalogue.SHORT_FORM, answers[catalogue.SHORT_FORM]
        )
        first = next(i for i, x in enumerate(staged) if x.id not in answers)
        return redirect(reverse("checkins:step") + f"?s={first + 1}")
    fired = next(
        (i for i in instruments if storage.safety_fires(i, answers[i.id])), None
    )
    storage.submit_checkin(checkin, answers, instruments=instruments)
    if fired is not None:
        signals.safety_item_answered.send(
            sender=CheckIn, checkin=checkin, inst=fired, answers=answers[fired.id]
        )
    return redirect("checkins:done")


@never_cache
@require_GET
def done(request: HttpRequest) -> HttpResponse:
    checkin = tokens.current(request.session, allow_submitted=True)
    if checkin is None or not checkin.is_submitted:
        return _invalid(request)
    practice = checkin.session.engagement.practice
    crisis = hasattr(checkin, "safety_notice")
    # the client's own progress page (served by insights) when the engagement shows it
    progress_url = (
        reverse("insights:my_progress")
        if checkin.session.engagement.client_sees_scores
        else ""
    )
    words = language.words(checkin.session.engagement.is_coaching)
    context = {
        "practice": practice,
        "crisis": crisis,
        "progress_url": progress_url,
        "practitioner": words["practitioner"],
    }
    return render(request, "checkins/done.html", context)
