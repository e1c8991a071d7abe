"""The alliance insights as a person sees them: the filter form and the shown figures.

The page (``views/alliance.py``) and the JSON API both call these, so what the API
serves is what the page shows: the cached figures with practitioners' names (or
pseudonyms) put in and the rows this person may not see left out.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Exists, OuterRef

from harmonybridge.web.accounts.models import User
from harmonybridge.web.insights.analyses import FilterForm
from harmonybridge.web.practice.models import Engagement, ServiceLine
from harmonybridge.web.practice.policy import InsightsScope

_IDS = re.compile(r"\b(?:C-[A-Z0-9]{6}|[EP]\d+)\b")
#: A researcher sees a practitioner's own estimate only when it rests on at least this
#: many engagements (project choice, after the small-cell rule of official statistics:
#: fewer would let someone who knows the practice tell whose clients they are).
MIN_GROUP = 5


def _leads(scope: InsightsScope) -> list[int]:
    """The practice's practitioners who lead an engagement, by id.

    One probe of the engagements' lead index per member of staff, not a read of every
    engagement: the page's cost must not grow with the practice's engagements. (An
    engagement's lead is a member of its practice; filtering the engagements by practice
    as well made SQLite walk the practice index instead, engagement by engagement.)
    """
    leads = Engagement.objects.filter(lead_id=OuterRef("pk"))
    return list(
        User.objects.filter(practice_id=scope.practice_id)
        .filter(Exists(leads))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _practitioner_labels(scope: InsightsScope, leads: list[int]) -> dict[str, str]:
    """``P<id>`` → what this person sees: the name, or a pseudonym for researchers."""
    if scope.pseudonymised:
        return {f"P{pk}": f"Practitioner {i}" for i, pk in enumerate(leads, 1)}
    staff = User.objects.filter(practice_id=scope.practice_id, pk__in=leads)
    return {f"P{u.pk}": u.get_full_name() or u.get_username() for u in staff}


def filter_form(data: Any, scope: InsightsScope) -> tuple[FilterForm, dict[str, str]]:
    """The page's filter form on ``data`` and the labels of practitioners and lines."""
    leads = _leads(scope)
    labels = _practitioner_labels(scope, leads)
    labels.update(
        {
            f"S{pk}": name
            for pk, name in ServiceLine.objects.filter(
                practice_id=scope.practice_id
            ).values_list("pk", "name")
        }
    )
    form = FilterForm(
        data,
        scope=scope,
        practitioners=[(pk, labels.get(f"P{pk}", f"P{pk}")) for pk in leads],
    )
    return form, labels


def _label(value: Any, labels: dict[str, str], scrub: bool) -> Any:
    if not isinstance(value, str):
        return value
    if value in labels:
        return labels[value]
    return _IDS.sub("…", value) if scrub else value


def shown(
    result: dict[str, Any], scope: InsightsScope, labels: dict[str, str]
) -> dict[str, Any]:
    """The cached figures with names (or pseudonyms) put in and private rows left out."""
    scrub = scope.pseudonymised

    def fig(f: dict[str, Any]) -> dict[str, Any]:
        rows, note = f["rows"], ""
        if scrub and f["id"] == "practitioner_effects":
            rows = [r for r in f["rows"] if r[-1] >= MIN_GROUP]
            if hidden := len(f["rows"]) - len(rows):
                note = (
                    f" {hidden} practitioner{'s' if hidden > 1 else ''} with fewer "
                    f"than {MIN_GROUP} engagements not shown, so that no one can be "
                    "recognised."
                )
        return {
            **f,
            "sentence": _label(f["sentence"], labels, scrub),
            "rows": [[_label(c, labels, scrub) for c in row] for row in rows],
            "note": (f.get("note", "") + note).strip(),
        }

    own = f"P{scope.own_practitioner}" if scope.own_practitioner else None
    prediction = []
    if scope.predictions:
        prediction = [
            {
                "who": labels.get(p["practitioner"], p["practitioner"]),
                **fig(p["figure"]),
            }
            for p in result["prediction"]
            if own is None or p["practitioner"] == own
        ]
    return {
        **result,
        "general": [fig(f) for f in result["general"]],
        "outcomes": [
            {**o, "figures": [fig(f) for f in o["figures"]]} for o in result["outcomes"]
        ],
        "prediction": prediction,
        "notes": [_label(n, labels, scrub) for n in result["notes"]],
    }
