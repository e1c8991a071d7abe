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
    entries = list(PlanEntry.objects.filter(plan__engagement=engagement))
    usable = {
        e.instrument_id: catalogue.instrument_for(practice, e.instrument_id)
        for e in entries
    }
    goals = engagement.goals
    out = []
    for n in numbers:
        counts = {RaterRole.CLIENT: [0, 0], RaterRole.PRACTITIONER: [0, 0]}
        for entry in entries:
            inst = usable.get(entry.instrument_id)
            if inst is None or not entry.is_due(n) or entry.rater_role not in counts:
                continue
            for item in shown_items(inst, goals):
                counts[entry.rater_role][item.condition is not None] += 1
        (c, cf), (p, pf) = counts[RaterRole.CLIENT], counts[RaterRole.PRACTITIONER]
        out.append(SessionBurden(n, c, cf, p, pf))
    return out
