"""HTML section of the analysis report: does the alliance work pay off here?"""

from __future__ import annotations

from html import escape

import pandas as pd

from harmonybridge.alliance.insights import AllianceInsights, OutcomeInsights
from harmonybridge.alliance.outcomes import FLUCKIGER_2018
from harmonybridge.reports._html_render import _html_table

_ALLIANCE_LABEL = {
    "alliance_client": "client-rated",
    "alliance_practitioner": "practitioner-rated",
    "alliance_mean": "mean of both",
}


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _association(o: OutcomeInsights) -> str:
    a = o.association
    if a.empty:
        return ""
    a = a.assign(alliance=a["alliance"].map(_ALLIANCE_LABEL).fillna(a["alliance"]))
    lines = []
    for row in a.itertuples(index=False):
        if pd.notna(row.r):
            lines.append(
                f"Early {row.alliance} alliance (sessions 1–3) and "
                f"{'final ' + o.outcome if row.target == 'final' else 'change in ' + o.outcome}: "
                f"r = {row.r:.2f} (95 % CI {row.ci_low:.2f} to {row.ci_high:.2f}; "
                f"{row.n_units} engagements, {row.n_practitioners} practitioners)."
            )
    ref = FLUCKIGER_2018
    return (
        f"<h4>Early alliance and outcome</h4>{''.join(_p(s) for s in lines)}"
        + _p(
            f"For comparison, the meta-analysis of Flückiger et al. (2018) found r = "
            f"{ref[0]:.3f} [{ref[1]:.3f}, {ref[2]:.3f}] across 295 studies."
        )
        + _html_table(
            a,
            [
                ("alliance", "Alliance"),
                ("target", "Outcome"),
                ("n_units", "n engagements"),
                ("r", "r"),
                ("ci_low", "CI low"),
                ("ci_high", "CI high"),
                ("r2", "r²"),
            ],
            f"Early alliance vs {o.outcome} (Fisher-z 95 % CI)",
        )
    )


def _growth(o: OutcomeInsights) -> str:
    g = o.growth
    if g is None:
        return ""
    fe = g.fixed_effects.set_index("term")
    b = fe.loc["alliance_client"]
    s = fe.loc[g.slope]
    return (
        "<h4>Growth model</h4>"
        + _p(
            f"Per session, {o.outcome} changed by {s['estimate']:.2f} points on average "
            f"(SE {s['std_error']:.2f}); sessions with a one-point higher client-rated "
            f"alliance had {o.outcome} {b['estimate']:.2f} points higher (SE "
            f"{b['std_error']:.2f}). Fitted by REML with a random intercept and slope per "
            f"engagement and a random intercept per practitioner: {g.n_obs} sessions, "
            f"{g.n_clients} engagements, {g.n_practitioners} practitioners."
        )
        + _html_table(
            g.fixed_effects,
            [("term", "Term"), ("estimate", "Estimate"), ("std_error", "SE")],
            "Fixed effects",
        )
        + _html_table(
            g.variance_components,
            [("group", "Level"), ("name", "Term"), ("variance", "Variance")],
            "Variance components (the Intercept:session row is a covariance)",
        )
    )


def _lagged(o: OutcomeInsights) -> str:
    lg = o.lagged
    if lg is None:
        return ""
    c = lg.coefficients.set_index("term")
    w, b = c.loc["within"], c.loc["between"]
    return (
        "<h4>Does a better session predict a better next session?</h4>"
        + _p(
            f"When a client's alliance was one point above their own average, {o.outcome} "
            f"at the next session was {w['estimate']:.2f} points different (95 % CI "
            f"{w['ci_low']:.2f} to {w['ci_high']:.2f}), after the {o.outcome} at that "
            f"session. Engagements whose average alliance was one point higher differed by "
            f"{b['estimate']:.2f} ({b['ci_low']:.2f} to {b['ci_high']:.2f}). "
            f"{lg.n_pairs} session pairs, {lg.n_units} engagements, "
            f"{lg.n_practitioners} practitioners."
        )
        + f'<p class="note">{escape(lg.caveat)}</p>'
    )


def _icc(label: str, icc) -> str:
    if icc is None:
        return ""
    return _p(
        f"{label}: {100 * icc.icc:.0f} % of the variance lies between practitioners "
        f"(95 % CI {100 * icc.ci_low:.0f} % to {100 * icc.ci_high:.0f} %; {icc.method}; "
        f"{icc.n_obs} sessions, {icc.n_units} engagements, {icc.n_practitioners} "
        "practitioners)."
    )


def _outcome_section(o: OutcomeInsights) -> str:
    parts = [
        f"<h3>{escape(o.outcome)}</h3>",
        _p(
            f"{o.n_sessions} sessions with {o.outcome} in {o.n_units} engagements with "
            f"{o.n_practitioners} practitioners."
        ),
        _association(o),
        _growth(o),
        _lagged(o),
        _icc(f"Practitioner share of {o.outcome} variance", o.icc),
    ]
    if not o.response_surface.empty:
        parts.append(
            _html_table(
                o.response_surface[o.response_surface["term"].str.startswith("a")],
                [
                    ("term", "Surface test"),
                    ("estimate", "Estimate"),
                    ("std_error", "SE"),
                ],
                f"Client–practitioner congruence and {o.outcome}: response surface "
                "(a1 slope and a2 curvature along agreement, a3 and a4 along disagreement)",
            )
        )
    if not o.rupture_outcome.empty:
        parts.append(
            _html_table(
                o.rupture_outcome,
                [
                    ("group", "Ruptures"),
                    ("n_units", "n engagements"),
                    ("mean_change", "Mean change"),
                    ("ci_low", "CI low"),
                    ("ci_high", "CI high"),
                ],
                f"Change in {o.outcome} by rupture and repair (client-reported)",
            )
        )
    if not o.reliable_change.empty:
        rc = o.reliable_change[o.reliable_change["level"] != "practitioner"]
        parts.append(
            _html_table(
                rc,
                [
                    ("level", "Level"),
                    ("group", "Group"),
                    ("category", "Change"),
                    ("n", "n"),
                    ("n_series", "of"),
                    ("proportion", "Share"),
                ],
                f"Reliable change in {o.outcome}",
            )
        )
    return "".join(parts)


def alliance_section(ins: AllianceInsights) -> str:
    """The report's "Alliance and outcome" section (no practitioner ranking is shown)."""
    parts = ['<h2 id="alliance-outcome">Alliance and outcome</h2>']
    parts += [_outcome_section(o) for o in ins.outcomes]
    if not ins.agreement.empty:
        parts.append(
            "<h3>Client and practitioner agreement</h3>"
            + _html_table(
                ins.agreement,
                [
                    ("statistic", "Statistic"),
                    ("estimate", "Estimate"),
                    ("ci_low", "CI low"),
                    ("ci_high", "CI high"),
                    ("n", "n sessions"),
                    ("n_units", "n engagements"),
                ],
                "Client vs practitioner alliance ratings of the same sessions",
            )
            + '<p class="note">The standardised discrepancy (client z − practitioner z) '
            "uses this file's own mean and SD per rater role; negative: the client rates "
            "the alliance weaker than the practitioner does.</p>"
        )
    parts.append(
        _icc("Practitioner share of client-rated alliance variance", ins.alliance_icc)
    )
    if not ins.modality.empty:
        parts.append(
            _html_table(
                ins.modality,
                [
                    ("alliance", "Alliance"),
                    ("modality", "Modality"),
                    ("n_sessions", "n sessions"),
                    ("mean", "Mean"),
                    ("ci_low", "CI low"),
                    ("ci_high", "CI high"),
                ],
                "Alliance by session modality",
            )
        )
    if not ins.prediction.empty:
        parts.append(
            _p(
                f"{len(ins.prediction)} practitioners answered the prediction item; their "
                "individual accuracy is private to them and the practice admin and is not "
                "printed in this report."
            )
        )
    if ins.notes:
        parts.append(
            '<ul class="notes">'
            + "".join(f"<li>{escape(n)}</li>" for n in ins.notes)
            + "</ul>"
        )
    return "".join(parts)
