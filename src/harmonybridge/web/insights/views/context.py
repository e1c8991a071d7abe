"""Load what every page about one engagement needs, with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from harmonybridge import schema
from harmonybridge.web.alerts.curves import curve_sets_for
from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.checkins import frames
from harmonybridge.web.insights import figures as dashboard
from harmonybridge.web.insights import summaries
from harmonybridge.web.insights.models import ClientViewOptions
from harmonybridge.web.practice import conventions as practice_conventions
from harmonybridge.web.practice import language
from harmonybridge.web.practice.models import Engagement, PlanEntry
from harmonybridge.web.repairs import services as repair_services


@dataclass
class EngagementData:
    engagement: Engagement
    clients: list[Any]
    coaching: bool
    words: dict[str, str]
    labels: dict[str, str]
    chosen: tuple[str, ...]
    scores: pd.DataFrame
    sessions: pd.DataFrame
    episodes: pd.DataFrame
    #: The practice's caseness conventions (``practice.conventions.for_practice``).
    conventions: dict[str, str] = field(default_factory=dict)
    #: the engagement's stored derived results (``summaries``) for these scores, if read
    derived: dict[str, Any] | None = None

    @property
    def goals(self) -> dict[int, str]:
        e = self.engagement
        return {i: g for i, g in enumerate((e.goal_1, e.goal_2, e.goal_3), 1) if g}

    def build(self, **options: Any) -> Any:
        """Charts and change tables for this engagement (dashboard and report alike)."""

        return dashboard.build(
            self.scores,
            self.sessions,
            self.episodes,
            coaching=self.coaching,
            goals=self.goals,
            labels=self.labels,
            chosen=self.chosen,
            curve_sets=None
            if self.derived is not None
            else curve_sets_for(self.engagement.practice_id),
            conventions=self.conventions,
            derived=self.derived,
            **options,
        )

    def about_one_client(self, client: Any) -> EngagementData:
        """The engagement through one client's own answers, for that client's data export.

        In a couple or family engagement the other members' names, scores and
        rupture episodes are left out, and so are the practitioner's ratings (they
        are about the whole engagement): everything left is about this client.
        """
        scores = self.scores[self.scores[schema.RESPONDENT_ID] == client.code]
        return replace(
            self,
            clients=[client],
            labels={client.code: self.labels.get(client.code, client.code)},
            scores=scores,
            episodes=repair_services.episodes_for(self.engagement.pk, scores),
            derived=None,
        )

    def session_table(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Columns and rows of the session-by-session score table."""

        return dashboard.session_table(
            self.scores,
            self.sessions,
            coaching=self.coaching,
            labels=self.labels,
            chosen=self.chosen,
        )


def respondent_labels(
    engagement: Engagement, clients: list[Any], coaching: bool
) -> dict[str, str]:
    """Display names: the client's name or code, the practitioner's name (or role word)."""
    w = language.words(coaching)
    labels = {c.code: c.label for c in clients}
    people = list(engagement.practitioners.all())
    for u in people:
        name = u.get_full_name() or u.get_username()
        labels[frames.practitioner_code(u.pk)] = (
            f"{w['Practitioner']} ({name})" if len(people) > 1 else w["Practitioner"]
        )
    return labels


def load(engagement: Engagement, *, version: str | None = None) -> EngagementData:
    """The engagement's frames; with the data ``version`` of its inputs, the stored
    derived results of that version (computed and stored when missing) instead of
    detecting episodes and refitting here."""
    clients = [m.client for m in engagement.memberships.select_related("client")]
    coaching = engagement.is_coaching
    scores = frames.stored_scores(engagement_ids=[engagement.pk])
    sessions = frames.session_frame(engagement_ids=[engagement.pk])
    conventions = practice_conventions.for_practice(engagement.practice_id)
    derived = None
    if version is not None:
        derived = summaries.derived_for(
            engagement, version, scores, sessions, conventions
        )
        episodes = summaries.episodes_from_records(derived["episodes"])
    else:
        episodes = repair_services.episodes_for(engagement.pk, scores)
    chosen = tuple(
        PlanEntry.objects.filter(plan__engagement=engagement).values_list(
            "instrument_id", flat=True
        )
    )
    return EngagementData(
        engagement=engagement,
        clients=clients,
        coaching=coaching,
        words=language.words(coaching),
        labels=respondent_labels(engagement, clients, coaching),
        chosen=chosen,
        scores=scores,
        sessions=sessions,
        episodes=episodes,
        conventions=conventions,
        derived=derived,
    )


def alerts_of(engagement: Engagement) -> tuple[list[StoredAlert], list[StoredAlert]]:
    """(unresolved, resolved) alerts with their workflow history, most urgent first."""
    alerts = list(
        StoredAlert.objects.filter(engagement=engagement)
        .select_related("status_by")
        .prefetch_related("steps__user")
        .order_by("-session_number", "-created_at")
    )
    severity = {"urgent": 0, "warning": 1, "info": 2}
    from harmonybridge.web.alerts.evidence import name_members
    from harmonybridge.web.alerts.workflow import is_unresolved

    name_members(alerts)

    unresolved = sorted(
        (a for a in alerts if is_unresolved(a)),
        key=lambda a: (-(a.session_number or 0), severity.get(a.severity, 3)),
    )
    return unresolved, [a for a in alerts if not is_unresolved(a)]


def split_current(
    unresolved: list[StoredAlert],
) -> tuple[list[StoredAlert], list[StoredAlert]]:
    """(alerts of the latest session with alerts plus every urgent one, the earlier rest)."""
    latest = max((a.session_number or 0 for a in unresolved), default=0)
    current = [
        a
        for a in unresolved
        if (a.session_number or 0) == latest or a.severity == "urgent"
    ]
    return current, [a for a in unresolved if a not in current]


def view_options(engagement: Engagement) -> ClientViewOptions:
    return ClientViewOptions.objects.filter(engagement=engagement).first() or (
        ClientViewOptions(engagement=engagement)
    )
