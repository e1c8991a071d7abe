"""An alert's evidence as practitioners read it: human labels and rounded numbers.

The stored evidence keeps the core's raw keys and unrounded values; the alert card
shows these rows, and the raw evidence with the rule id stays behind "details".
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from harmonybridge.formatting import fmt_score
from harmonybridge.instruments import short_title
from harmonybridge.web.practice.models import EngagementClient

#: Evidence key -> label (keys not listed are shown only in the technical details).
LABELS: dict[str, Any] = {
    "score": _("score in this session"),
    "baseline": _("usual level before"),
    "drop": _("drop from the usual level"),
    "threshold": _("drop that counts as a rupture"),
    "depth_sd": _("drop in standard deviations"),
    "tension": _("tension reported (0–4)"),
    "resolution": _("how far it was resolved (0–4)"),
    "resolved_in_session": _("resolved by the end of the session"),
    "practitioner_score": _("your score in this session"),
    "practitioner_baseline": _("your usual level before"),
    "practitioner_drop": _("drop in your score"),
    "discrepancy": _("gap between the client's view and yours"),
    "standardised": _("gap in standard deviations"),
    "low_score": _("lowest member's score"),
    "high_score": _("highest member's score"),
    "intake": _("score at intake"),
    "previous_session": _("session compared with (the last with this score)"),
    "previous": _("score in the session compared with"),
    "change": _("change since intake"),
    "change_since_previous": _("change since the previous session"),
    "rc_value": _("smallest reliable change"),
    "cutoff": _("cut-off score"),  # no clinical words: coaching alerts show it too
    "expected": _("expected score at this session"),
    "yellow_bound": _("edge of the expected range"),
    "red_bound": _("edge of the far range"),
    "item": _("item"),
    "value": _("answer"),
    "client_score": _("client's score"),
    "n_members": _("people who answered"),
}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, int | float):
        return fmt_score(value)
    if value is None:
        return "–"
    return str(value)


def evidence_rows(alert: Any) -> list[tuple[str, str]]:
    """(label, formatted value) for each evidence entry a practitioner can read."""
    rows = []
    for key, value in (alert.evidence or {}).items():
        if key in LABELS and not isinstance(value, dict | list):
            rows.append((str(LABELS[key]), _value(value)))
    return rows


def instrument_label(alert: Any) -> str:
    """The instrument's short title (PHQ-9), never its id."""
    return short_title(alert.instrument) if alert.instrument else ""


def name_members(alerts: list[Any]) -> list[Any]:
    """Give each alert of a couple or family the member it concerns (one query).

    Sets ``a.member`` (the client, or ``None`` in a one-client engagement or for the
    practitioner's own rating) and ``a.text``: the message with "The client" replaced
    by that member's label. Names are decrypted at render time only, never stored in
    the message.
    """
    ids = {a.engagement_id for a in alerts}
    members: dict[int, dict[str, Any]] = {}
    for m in EngagementClient.objects.filter(engagement_id__in=ids).select_related(
        "client"
    ):
        members.setdefault(m.engagement_id, {})[m.client.code] = m.client
    for a in alerts:
        group = members.get(a.engagement_id, {})
        a.member = group.get(a.respondent_id) if len(group) > 1 else None
        a.text = a.message
        if a.member is not None:
            who = a.member.label
            a.text = a.text.replace("The client's", f"{who}'s").replace(
                "The client ", f"{who} "
            )
    return alerts
