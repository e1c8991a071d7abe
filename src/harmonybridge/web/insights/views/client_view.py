"""The client's own progress after a check-in (off unless the practitioner switched it on)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from harmonybridge import instruments, schema
from harmonybridge.reports import charts
from harmonybridge.web import audit
from harmonybridge.web.checkins import frames, tokens
from harmonybridge.web.insights.models import ClientViewOptions
from harmonybridge.web.practice import language


def client_view_allowed(checkin: object) -> bool:
    engagement = checkin.session.engagement  # type: ignore[attr-defined]
    return bool(engagement.client_sees_scores)


#: The client reads this page on a phone: charts drawn for a 390 px screen keep their
#: text at its designed size there (a 640 px chart shrunk to fit would not).
PHONE_CHART_WIDTH = 360


@never_cache
@require_GET
def my_progress(request: HttpRequest) -> HttpResponse:
    """Own outcome and goal progress; alliance only when the practitioner allowed it."""
    checkin = tokens.current(request.session, allow_submitted=True)
    if checkin is None or not checkin.is_submitted:
        return render(request, "checkins/invalid.html", status=404)
    engagement = checkin.session.engagement
    if not engagement.client_sees_scores:
        return render(request, "insights/my_progress_off.html", status=404)
    options = ClientViewOptions.objects.filter(engagement=engagement).first()
    show_alliance = bool(options and options.show_alliance)
    code = checkin.respondent.code
    scores = frames.stored_scores(engagement_ids=[engagement.pk])
    mine = scores[scores[schema.RESPONDENT_ID] == code] if len(scores) else scores
    coaching = engagement.is_coaching
    figures = []
    if len(mine):
        labels = {code: _("You")}
        for inst_id in sorted(mine[schema.INSTRUMENT].unique()):
            inst = instruments.find(inst_id)
            if inst is None:
                continue
            if inst.kind == "outcome" and not (
                coaching and language.is_clinical(inst_id)
            ):
                figures.append(
                    charts.outcome_chart(
                        mine,
                        width=PHONE_CHART_WIDTH,
                        instrument=inst_id,
                        labels=labels,
                        title=_("%(name)s: your scores") % {"name": inst.short_title},
                    )
                )
            elif inst.kind == "goals" and engagement.client_sees_goals:
                goals = {
                    i: g
                    for i, g in enumerate(
                        (engagement.goal_1, engagement.goal_2, engagement.goal_3), 1
                    )
                    if g
                }
                figures.append(
                    charts.goal_progress_chart(
                        mine,
                        width=PHONE_CHART_WIDTH,
                        goals=goals,
                        labels=labels,
                        title=_("Your goals"),
                    )
                )
            elif (
                inst.kind == "alliance"
                and show_alliance
                and inst.rater_role == "client"
            ):
                figures.append(
                    charts.alliance_chart(
                        mine,
                        width=PHONE_CHART_WIDTH,
                        instruments=(inst_id,),
                        labels=labels,
                        title=_("How you rated our work together"),
                    )
                )
    audit.record(
        None,
        "client_view.open",
        checkin.respondent,
        practice_id=engagement.practice_id,
        checkin_id=checkin.pk,
    )
    return render(
        request,
        "insights/my_progress.html",
        {
            "figures": figures,
            "practice": engagement.practice,
            "words": language.words(coaching),
        },
    )
