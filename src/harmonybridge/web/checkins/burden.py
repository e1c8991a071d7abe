"""How many questions a measurement plan asks each respondent, session by session."""

from __future__ import annotations

from dataclasses import dataclass

from harmonybridge.web.checkins.forms import shown_items
from harmonybridge.web.practice import catalogue
from harmonybridge.web.practice.models import Engagement, PlanEntry, RaterRole


@dataclass(frozen=True)
class SessionBurden:
    """Questions asked at one session: always, and follow-ups only after a "yes"."""

    number: int
    client: int
    client_followups: int
    practitioner: int
    practitioner_followups: int


def questions_per_session(
    engagement: Engagement, numbers: range | list[int]
) -> list[SessionBurden]:
    """The questions each client (and the practitioner) answers at these sessions."""
    practice = engagement.practice
    entries = list(
        PlanEntry.objects.filter(plan__engagement=engagement).select_related("plan")
    )
    usable = {
        e.instrument_id: catalogue.instrument_for(practice, e.instrument_id)
        for e in entries
    }
    goals = engagement.goals
    out = []
    brief = bool(entries) and entries[0].plan.brief
    for n in numbers:
        counts = {RaterRole.CLIENT: [0, 0], RaterRole.PRACTITIONER: [0, 0]}
        for role, role_counts in counts.items():
            ids = [
                e.instrument_id for e in entries if e.rater_role == role and e.is_due(n)
            ]
            if brief and role == RaterRole.CLIENT:
                ids = catalogue.brief_instrument_ids(ids, n)
            for inst_id in ids:
                inst = usable.get(inst_id) or catalogue.instrument_for(
                    practice, inst_id
                )
                if inst is None:
                    continue
                for item in shown_items(inst, goals):
                    role_counts[item.condition is not None] += 1
        (c, cf), (p, pf) = counts[RaterRole.CLIENT], counts[RaterRole.PRACTITIONER]
        out.append(SessionBurden(n, c, cf, p, pf))
    return out
