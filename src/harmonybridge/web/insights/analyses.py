"""Alliance–outcome insights of a practice: its data, filters, data version and figures.

The figures are :func:`harmonybridge.alliance.insights.alliance_insights` on the
practice's canonical score frame (no statistic is computed here); this module only
selects the data a person may see (:func:`harmonybridge.web.practice.policy.insights_scope`),
and turns the results into figures with one plain-language sentence, the uncertainty and
n each.  Practitioners appear as ``P<id>`` in what is computed and cached; names (or, for
researchers, pseudonyms) are put in when a page is rendered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from django import forms
from django.utils.translation import gettext_lazy as _

from harmonybridge import schema
from harmonybridge.alliance.frames import MODALITY
from harmonybridge.alliance.insights import AllianceInsights, alliance_insights
from harmonybridge.alliance.outcomes import FLUCKIGER_2018
from harmonybridge.web.checkins import frames
from harmonybridge.web.practice import conventions, datastamp
from harmonybridge.web.practice.models import (
    Engagement,
    Modality,
    ServiceLine,
    TherapySession,
)
from harmonybridge.web.practice.policy import InsightsScope

SERVICE_LINE = "service_line"
#: Bootstrap replicates of the practitioner ICC intervals on the page.
N_BOOT = 200
#: Fewer engagements than this: no models, say so (a mixed model on fewer is noise).
MIN_ENGAGEMENTS = 5
#: The shape of the cached figures: raise it when a figure's rows change, so that no
#: figure cached in the old shape is shown (2: practitioner effects carry their n).
FIGURES_FORMAT = 2

_LABEL = {
    "alliance_client": "client-rated alliance",
    "alliance_practitioner": "practitioner-rated alliance",
    "alliance_mean": "mean of both ratings",
}
_MODALITY = {str(k): str(v) for k, v in Modality.choices}
_OUTCOME_NAMES = {
    "who5": "wellbeing (WHO-5)",
    "swls": "satisfaction with life (SWLS)",
    "fs": "flourishing (FS)",
    "phq9": "depression symptoms (PHQ-9)",
    "gad7": "anxiety symptoms (GAD-7)",
    "goal_progress": "goal progress",
}
#: The statistics of ``harmonybridge.alliance.agreement`` in words (rows of the table).
_AGREEMENT_NAMES = {
    "r": "correlation (r)",
    "mean_difference": "mean difference, client − practitioner (points)",
    "paired_d": "standardised mean difference (d_z)",
    "mean_standardised_discrepancy": "mean standardised discrepancy",
}


@dataclass(frozen=True)
class Filters:
    """The page's filters (ids and words only)."""

    service_line: int | None = None
    practitioner: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    modality: str = ""

    @property
    def key(self) -> str:
        return (
            "-".join(
                str(v) if v not in (None, "") else "_"
                for v in (self.service_line, self.practitioner, self.start, self.end)
            )
            + f"-{self.modality or '_'}"
        )

    def as_task_args(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"] = self.start.isoformat() if self.start else None
        d["end"] = self.end.isoformat() if self.end else None
        return d

    @classmethod
    def from_task_args(cls, d: dict[str, Any]) -> Filters:
        return cls(
            service_line=d.get("service_line"),
            practitioner=d.get("practitioner"),
            start=dt.date.fromisoformat(d["start"]) if d.get("start") else None,
            end=dt.date.fromisoformat(d["end"]) if d.get("end") else None,
            modality=d.get("modality") or "",
        )


class FilterForm(forms.Form):
    """Filters of the insights page; a practitioner has no practitioner filter."""

    service_line = forms.TypedChoiceField(
        label=_("Service line"), required=False, coerce=int, empty_value=None
    )
    practitioner = forms.TypedChoiceField(
        label=_("Practitioner"), required=False, coerce=int, empty_value=None
    )
    start = forms.DateField(
        label=_("Sessions from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    modality = forms.ChoiceField(
        label=_("Modality"),
        required=False,
        choices=[("", _("all")), *Modality.choices],
    )

    def __init__(
        self, data: Any, *, scope: InsightsScope, practitioners: list[tuple[int, str]]
    ) -> None:
        super().__init__(data)
        lines = ServiceLine.objects.filter(practice_id=scope.practice_id)
        service_line: Any = self.fields["service_line"]
        service_line.choices = [
            ("", _("all")),
            *lines.values_list("pk", "name"),
        ]
        if scope.own_practitioner is None:
            practitioner: Any = self.fields["practitioner"]
            practitioner.choices = [("", _("all")), *practitioners]
        else:
            del self.fields["practitioner"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(
                _("The period's start (%(start)s) is after its end (%(end)s).")
                % {"start": start, "end": end}
            )
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(
            service_line=d.get("service_line"),
            practitioner=d.get("practitioner"),
            start=d.get("start"),
            end=d.get("end"),
            modality=d.get("modality") or "",
        )


def engagements(scope: InsightsScope, filters: Filters) -> Any:
    """The engagements whose data the figures use."""
    qs = Engagement.objects.filter(practice_id=scope.practice_id)
    if scope.own_practitioner is not None:
        qs = qs.filter(lead_id=scope.own_practitioner)
    elif filters.practitioner is not None:
        qs = qs.filter(lead_id=filters.practitioner)
    if filters.service_line is not None:
        qs = qs.filter(service_line_id=filters.service_line)
    return qs


def practice_frame(scope: InsightsScope, filters: Filters) -> pd.DataFrame:
    """The canonical long score frame behind the page, with ``modality`` and ``service_line``.

    The period keeps the sessions on those dates; a modality keeps that modality's
    sessions.  Client ids are the pseudonymous client codes (never shown on the page).
    """
    eng = engagements(scope, filters)
    ids = list(eng.values_list("pk", flat=True))
    long = frames.stored_scores(engagement_ids=ids)
    if long.empty:
        return long.assign(**{MODALITY: pd.Series(dtype=object)}).assign(
            **{SERVICE_LINE: pd.Series(dtype=object)}
        )
    sess = pd.DataFrame(
        list(
            TherapySession.objects.filter(engagement_id__in=ids).values_list(
                "engagement_id", "number", "modality"
            )
        ),
        columns=["eid", schema.SESSION, MODALITY],
    )
    sess[schema.ENGAGEMENT_ID] = "E" + sess["eid"].astype(str)
    long = long.merge(
        sess[[schema.ENGAGEMENT_ID, schema.SESSION, MODALITY]],
        on=[schema.ENGAGEMENT_ID, schema.SESSION],
        how="left",
    )
    lines = {f"E{pk}": f"S{sl}" for pk, sl in eng.values_list("pk", "service_line_id")}
    long[SERVICE_LINE] = long[schema.ENGAGEMENT_ID].map(lines)
    if filters.start is not None:
        long = long[long[schema.DATE].dt.date >= filters.start]
    if filters.end is not None:
        long = long[long[schema.DATE].dt.date <= filters.end]
    if filters.modality:
        long = long[long[MODALITY] == filters.modality]
    return long.reset_index(drop=True)


def data_version(practice_id: int) -> str:
    """A short hash that changes whenever scores, sessions or engagements of the practice
    do, or its caseness conventions, or the figures' format: two reads by key, whatever
    the practice's size (the data stamp is raised by every write, ADR 0017)."""
    parts: list[Any] = [
        datastamp.version(practice_id),
        # the caseness conventions decide the reliable-change figures
        conventions.version(conventions.for_practice(practice_id)),
        FIGURES_FORMAT,
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


# --- figures ---------------------------------------------------------------------------


def _num(x: Any, digits: int = 2) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(v):
        return "–"
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _tuples(frame: pd.DataFrame) -> list[Any]:
    """The frame's rows as named tuples (typed loosely: the columns vary by analysis)."""
    return list(frame.itertuples(index=False))


def _n(k: Any, word: str) -> str:
    """``"1 engagement"``, ``"3 engagements"``."""
    k = int(k)
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def _ci(lo: Any, hi: Any, digits: int = 2) -> str:
    if _num(lo) == "–" and _num(hi) == "–":
        return "no interval"
    return f"95 % CI {_num(lo, digits)} to {_num(hi, digits)}"


def _figure(
    fid: str,
    title: str,
    sentence: str,
    uncertainty: str,
    n: str,
    rows: list[list[Any]] | None = None,
    header: list[str] | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "id": fid,
        "title": title,
        "sentence": sentence,
        "uncertainty": uncertainty,
        "n": n,
        "header": header or [],
        "rows": rows or [],
        "note": note,
    }


def _outcome_figures(o: Any) -> list[dict[str, Any]]:
    """Every figure of one outcome, in the page's order (each part returns none when its
    analysis did not run)."""
    name = _OUTCOME_NAMES.get(o.outcome, o.outcome)
    return [
        figure
        for part in (
            _association_figures,
            _growth_figures,
            _lagged_figures,
            _icc_figures,
            _surface_figures,
            _rupture_figures,
            _reliable_change_figures,
        )
        for figure in part(o, name)
    ]


def _association_figures(o: Any, name: str) -> list[dict[str, Any]]:
    """Early alliance and the final score or change (Pearson r, Fisher CI)."""
    a = o.association
    if a.empty:
        return []
    rows = [
        [
            _LABEL.get(r.alliance, r.alliance),
            "final score" if r.target == "final" else "change",
            _num(r.r),
            _ci(r.ci_low, r.ci_high),
            _num(r.r2),
            int(r.n_units),
        ]
        for r in _tuples(a)
    ]
    first = a.dropna(subset=["r"]).iloc[0] if a["r"].notna().any() else None
    sentence = (
        f"Early {_LABEL.get(first.alliance, first.alliance)} (sessions 1–3) and the "
        f"{'final' if first.target == 'final' else 'change in'} {name}: r = "
        f"{_num(first.r)}. The published average across 295 studies is r = "
        f"{FLUCKIGER_2018[0]:.3f} [{FLUCKIGER_2018[1]:.3f}, {FLUCKIGER_2018[2]:.3f}] "
        "(Flückiger et al. 2018)."
        if first is not None
        else f"Too few engagements to relate early alliance to {name}."
    )
    return [
        _figure(
            "association",
            "Early alliance and outcome",
            sentence,
            _ci(first.ci_low, first.ci_high) + " (Fisher z)"
            if first is not None
            else "",
            f"{_n(first.n_units, 'engagement')}, "
            f"{_n(first.n_practitioners, 'practitioner')}"
            if first is not None
            else "",
            rows,
            ["Alliance", "Outcome", "r", "Uncertainty", "r²", "n engagements"],
        )
    ]


def _growth_figures(o: Any, name: str) -> list[dict[str, Any]]:
    """The growth model and, with several practitioners, their shrunken differences."""
    g = o.growth
    if g is None:
        return []
    out: list[dict[str, Any]] = []
    fe = g.fixed_effects.set_index("term")
    b, s = fe.loc["alliance_client"], fe.loc[g.slope]
    out.append(
        _figure(
            "growth",
            "Change over sessions (growth model)",
            f"Per session, {name} changed by {_num(s['estimate'])} points on average; "
            f"in sessions where the client rated the alliance one point higher, "
            f"{name} was {_num(b['estimate'])} points higher.",
            f"alliance: SE {_num(b['std_error'])}, "
            f"{_ci(b['estimate'] - 1.96 * b['std_error'], b['estimate'] + 1.96 * b['std_error'])}; "
            f"per session: SE {_num(s['std_error'])}",
            f"{_n(g.n_obs, 'session')}, {_n(g.n_clients, 'engagement')}, "
            f"{_n(o.n_practitioners, 'practitioner')}",
            [
                [r.term, _num(r.estimate, 3), _num(r.std_error, 3)]
                for r in _tuples(g.fixed_effects)
            ]
            + [
                [f"variance: {r.group} {r.name}", _num(r.variance, 3), ""]
                for r in _tuples(g.variance_components)
            ],
            ["Term", "Estimate", "SE"],
            "Fitted by REML: a random intercept and session slope per engagement"
            + (
                " and a random intercept per practitioner."
                if g.practitioner
                else " (one practitioner: no practitioner level)."
            ),
        )
    )
    if g.practitioner:
        blup = g.random_effects(g.practitioner)
        out.append(
            _figure(
                "practitioner_effects",
                "Practitioner differences (shrunken estimates)",
                f"How far each practitioner's clients' {name} lies from the practice "
                "average once chance is allowed for; estimates from few clients are "
                "pulled toward zero. Not a ranking.",
                "±1.96 conditional SD",
                f"{g.n_practitioners} practitioners",
                [
                    [
                        r[g.practitioner],
                        _num(r["Intercept"]),
                        _ci(
                            r["Intercept"] - 1.96 * r["Intercept_sd"],
                            r["Intercept"] + 1.96 * r["Intercept_sd"],
                        ),
                        int(r["n_clients"]),
                    ]
                    for _i, r in blup.sort_values(g.practitioner).iterrows()
                ],
                ["Practitioner", "Difference", "Uncertainty", "Engagements"],
            )
        )
    return out


def _lagged_figures(o: Any, name: str) -> list[dict[str, Any]]:
    """Within- and between-engagement effects of a session's alliance on the next."""
    lg = o.lagged
    if lg is None:
        return []
    c = lg.coefficients.set_index("term")
    w, bt = c.loc["within"], c.loc["between"]
    return [
        _figure(
            "lagged",
            "Does a better session predict a better next one?",
            f"When the client rated the alliance one point above their own average, "
            f"{name} at the next session was {_num(w['estimate'])} points different, "
            f"allowing for {name} at that session; engagements with a one-point "
            f"higher average alliance differed by {_num(bt['estimate'])}.",
            f"within: {_ci(w['ci_low'], w['ci_high'])}; between: "
            f"{_ci(bt['ci_low'], bt['ci_high'])}",
            f"{_n(lg.n_pairs, 'session pair')}, {_n(lg.n_units, 'engagement')}, "
            f"{_n(o.n_practitioners, 'practitioner')}",
            note=lg.caveat,
        )
    ]


def _icc_figures(o: Any, name: str) -> list[dict[str, Any]]:
    """The practitioners' share of the outcome's variance."""
    if o.icc is None:
        return []
    return [_icc_figure("icc", f"Practitioner share of {name}", o.icc)]


def _surface_figures(o: Any, name: str) -> list[dict[str, Any]]:
    """Client–practitioner congruence (the response-surface tests)."""
    rs = o.response_surface
    if rs.empty:
        return []
    rs = rs[rs["term"].str.startswith("a")]
    return [
        _figure(
            "response_surface",
            "Client–practitioner congruence (response surface)",
            f"a1 and a2: how {name} changes where client and practitioner agree "
            "(slope, curvature); a3 and a4: where they disagree.",
            "standard errors in the table",
            f"{o.n_sessions} sessions",
            [[r.term, _num(r.estimate, 3), _num(r.std_error, 3)] for r in _tuples(rs)],
            ["Surface test", "Estimate", "SE"],
        )
    ]


def _rupture_figures(o: Any, name: str) -> list[dict[str, Any]]:
    """Change by rupture and repair group."""
    ro = o.rupture_outcome
    if ro.empty:
        return []
    return [
        _figure(
            "rupture_outcome",
            "Ruptures, repair and outcome",
            f"Mean change in {name} in engagements without a client-reported rupture, "
            "with ruptures that were repaired, and with ruptures that were not.",
            "95 % CI per group in the table",
            f"{int(ro['n_units'].sum())} engagements",
            [
                [
                    r.group,
                    _num(r.mean_change),
                    _ci(r.ci_low, r.ci_high),
                    int(r.n_units),
                ]
                for r in _tuples(ro)
            ],
            ["Ruptures", "Mean change", "Uncertainty", "n engagements"],
        )
    ]


def _reliable_change_figures(o: Any, name: str) -> list[dict[str, Any]]:
    """Reliable-change categories for the practice and each practitioner."""
    rc = o.reliable_change
    if rc.empty:
        return []
    practice = rc[rc["level"] == "practice"]
    n_series = int(practice["n_series"].iloc[0]) if len(practice) else 0
    share = {r.category: r.proportion for r in _tuples(practice)}
    rows = [
        [
            r.level,
            r.group,
            r.category,
            int(r.n),
            int(r.n_series),
            _num(r.proportion),
            _num(getattr(r, "shrunken", float("nan"))),
        ]
        for r in _tuples(rc)
    ]
    return [
        _figure(
            "reliable_change",
            "Reliable change",
            f"Of {n_series} engagements with a start and a latest {name} score, "
            + ", ".join(
                f"{100 * float(v):.0f} % {k}" for k, v in share.items() if v == v
            )
            + ".",
            "for practitioners, the share pulled toward the practice's (shrunken)",
            f"{n_series} engagements",
            rows,
            ["Level", "Group", "Change", "n", "of", "Share", "Shrunken"],
        )
    ]


def _icc_figure(fid: str, title: str, icc: Any) -> dict[str, Any]:
    return _figure(
        fid,
        title,
        f"{100 * icc.icc:.0f} % of the variance lies between practitioners; the rest is "
        "between clients and from session to session.",
        f"95 % CI {100 * icc.ci_low:.0f} % to {100 * icc.ci_high:.0f} % ({icc.method})",
        f"{_n(icc.n_obs, 'session')}, {_n(icc.n_units, 'engagement')}, "
        f"{_n(icc.n_practitioners, 'practitioner')}",
    )


def figures(ins: AllianceInsights) -> dict[str, Any]:
    """Every result as figures (plain data: ids, words and numbers; cached as it is)."""
    outcomes = [
        {
            "outcome": o.outcome,
            "name": _OUTCOME_NAMES.get(o.outcome, o.outcome),
            "n": f"{_n(o.n_sessions, 'session')}, {_n(o.n_units, 'engagement')}, "
            f"{_n(o.n_practitioners, 'practitioner')}",
            "figures": _outcome_figures(o),
        }
        for o in ins.outcomes
    ]
    general: list[dict[str, Any]] = []
    ag = ins.agreement
    if not ag.empty:
        first: Any = ag.iloc[0]
        general.append(
            _figure(
                "agreement",
                "Do client and practitioner see the alliance alike?",
                "Client and practitioner ratings of the same sessions: "
                f"{_AGREEMENT_NAMES[first['statistic']]} = {_num(first['estimate'])}. A negative standardised discrepancy means "
                "clients rate the alliance weaker than their practitioners do.",
                _ci(first["ci_low"], first["ci_high"]),
                f"{int(first['n'])} sessions, {int(first['n_units'])} engagements",
                [
                    [
                        _AGREEMENT_NAMES[r.statistic],
                        _num(r.estimate),
                        _ci(r.ci_low, r.ci_high),
                        int(r.n),
                        int(r.n_units),
                    ]
                    for r in _tuples(ag)
                ],
                ["Statistic", "Estimate", "Uncertainty", "n sessions", "n engagements"],
            )
        )
    if ins.alliance_icc is not None:
        general.append(
            _icc_figure(
                "alliance_icc",
                "Practitioner share of client-rated alliance",
                ins.alliance_icc,
            )
        )
    mo = ins.modality
    if not mo.empty:
        client = mo[mo["alliance"] == "alliance_client"]
        shown = client if len(client) else mo
        general.append(
            _figure(
                "modality",
                "Alliance by modality",
                "Mean client-rated alliance by how the session was held: "
                + "; ".join(
                    f"{_MODALITY.get(r.modality, r.modality)} {_num(r.mean)}"
                    for r in _tuples(shown)
                )
                + ".",
                "95 % CI per modality in the table",
                f"{int(shown['n_sessions'].sum())} sessions",
                [
                    [
                        _LABEL.get(r.alliance, r.alliance),
                        _MODALITY.get(r.modality, r.modality),
                        _num(r.mean),
                        _ci(r.ci_low, r.ci_high),
                        int(r.n_sessions),
                    ]
                    for r in _tuples(mo)
                ],
                ["Alliance", "Modality", "Mean", "Uncertainty", "n sessions"],
            )
        )
    prediction = [
        {
            "practitioner": r[schema.PRACTITIONER_ID],
            "figure": _figure(
                "prediction",
                "How well the practitioner predicts the client's rating",
                f"Predictions were on average {_num(r['bias'])} points "
                f"{'above' if r['bias'] >= 0 else 'below'} the client's own rating "
                f"(r = {_num(r['r'])}); {int(r['n_anticipated'])} of "
                f"{int(r['n_client_ruptures'])} client-reported ruptures were anticipated.",
                _ci(r["ci_low"], r["ci_high"]) + " for r",
                f"{int(r['n_sessions'])} sessions, {int(r['n_units'])} engagements",
            ),
        }
        for _i, r in ins.prediction.iterrows()
    ]
    return {
        "outcomes": outcomes,
        "general": general,
        "prediction": prediction,
        "notes": list(ins.notes),
    }


def compute(
    scope: InsightsScope,
    filters: Filters,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Run every analysis on the data this scope and these filters select."""
    long = practice_frame(scope, filters)
    n_eng = int(long[schema.ENGAGEMENT_ID].nunique()) if len(long) else 0
    n_prac = int(long[schema.PRACTITIONER_ID].nunique()) if len(long) else 0
    base = {
        "n_engagements": n_eng,
        "n_practitioners": n_prac,
        "summary": f"{_n(n_eng, 'engagement')} with scores, "
        f"{_n(n_prac, 'practitioner')}.",
    }
    if n_eng < MIN_ENGAGEMENTS:
        return {
            **base,
            "outcomes": [],
            "general": [],
            "prediction": [],
            "notes": [
                f"Only {n_eng} engagement(s) with scores match these filters; the "
                f"analyses need at least {MIN_ENGAGEMENTS}. Widen the filters."
            ],
        }
    ins = alliance_insights(
        long,
        n_boot=N_BOOT,
        progress=progress,
        conventions=conventions.for_practice(scope.practice_id),
    )
    return {**base, **figures(ins)}
