"""HTML rendering of an analysis report: tables, figures, engagement sections and notes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmonybridge import __version__, schema
from harmonybridge.change import predict_bands
from harmonybridge.formatting import fmt_score
from harmonybridge.instruments import find, get
from harmonybridge.reports import charts

if TYPE_CHECKING:
    from harmonybridge.reports.html import Analysis

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}h3{margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th{background:#f3f3f3}
td.t,th.t{text-align:left}figure{margin:1rem 0}figcaption{font-weight:600}
svg.hb-chart{max-width:100%;height:auto}.note{color:#555}.notes li{margin:.2rem 0}
@media print{details{display:none}h2{page-break-before:always}}
"""


def _fmt(value: object) -> str:
    if (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or value is pd.NA
    ):
        return "–"
    if isinstance(value, float):
        return fmt_score(value)
    return str(value)


def _html_table(
    frame: pd.DataFrame, columns: Sequence[tuple[str, str]], caption: str
) -> str:
    if frame.empty:
        return f'<p class="note">{escape(caption)}: none.</p>'
    left = ' class="t"'
    text = [
        left if not pd.api.types.is_numeric_dtype(frame[c]) else "" for c, _ in columns
    ]
    head = "".join(
        f'<th scope="col"{t}>{escape(label)}</th>'
        for t, (_, label) in zip(text, columns, strict=True)
    )
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(
            f"<td{t}>{escape(_fmt(getattr(row, col)))}</td>"
            for t, (col, _) in zip(text, columns, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _chart_table(table: charts.ChartTable) -> str:
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
        for row in table.rows
    )
    return (
        f"<details><summary>Table of this chart</summary><table><caption>{escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )


def _figure(svg: str, table: charts.ChartTable) -> str:
    caption = f"<figcaption>{escape(table.caption)}</figcaption>"
    return f"<figure>{caption}{svg}{_chart_table(table)}</figure>"


def _markers(
    analysis: Analysis, engagement: str, instrument: str | None
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    rup = analysis.ruptures
    if instrument is None and not rup.empty:
        out += charts.markers_from_ruptures(
            rup[rup[schema.ENGAGEMENT_ID] == engagement]
        )
    sg = analysis.sudden_gains
    if not sg.empty:
        mine = sg[
            (sg[schema.ENGAGEMENT_ID] == engagement)
            & ((sg["instrument"] == instrument) | (instrument is None))
        ]
        for row in mine.to_dict("records"):
            kind = str(row["kind"])
            what = (
                f"{kind.replace('_', ' ')} on {get(str(row['instrument'])).short_title}"
            )
            out.append(
                {
                    "kind": kind,
                    "session": int(row["postgain_session"]),
                    "label": f"{what} ({row[schema.RESPONDENT_ID]})",
                }
            )
    return out


def _engagement_section(analysis: Analysis, engagement: str) -> str:
    data = analysis.scores[analysis.scores[schema.ENGAGEMENT_ID] == engagement]
    parts = [
        f'<section id="{escape(engagement, quote=True)}"><h3>Engagement {escape(engagement)}</h3>'
    ]
    instruments = sorted(data[schema.INSTRUMENT].unique())
    alliance = [i for i in instruments if _kind(i) == "alliance"]
    if alliance:
        kw: dict[str, Any] = {
            "instruments": alliance,
            "markers": _markers(analysis, engagement, None),
        }
        parts.append(
            _figure(
                charts.alliance_chart(data, **kw), charts.alliance_table(data, **kw)
            )
        )
    for name in instruments:
        kind = _kind(name)
        if kind == "goals":
            parts.append(
                _figure(
                    charts.goal_progress_chart(data), charts.goal_progress_table(data)
                )
            )
        elif kind != "alliance":
            okw: dict[str, Any] = _outcome_kwargs(name, analysis.conventions) | {
                "markers": _markers(analysis, engagement, name),
                "expected_band": _band(analysis, data, name),
            }
            parts.append(
                _figure(
                    charts.outcome_chart(data, instrument=name, **okw),
                    charts.outcome_table(data, instrument=name, **okw),
                )
            )
    return "".join(parts) + "</section>"


def _band(analysis: Analysis, data: pd.DataFrame, name: str) -> pd.DataFrame | None:
    """Expected-response band of a one-respondent series, on the session axis."""
    fit = analysis.curves.get(name)
    d = data[(data[schema.INSTRUMENT] == name) & (data[schema.SUBSCALE] == "")]
    d = d.dropna(subset=[schema.SCORE]).sort_values(schema.SESSION)
    if fit is None or d.empty or d[schema.RESPONDENT_ID].nunique() != 1:
        return None
    first, last = int(d[schema.SESSION].iloc[0]), int(d[schema.SESSION].iloc[-1])
    band = predict_bands(
        fit, float(d[schema.SCORE].iloc[0]), list(range(1, last - first + 2))
    )
    return band.assign(**{schema.SESSION: band[schema.SESSION] + first - 1})


def _kind(name: str) -> str:
    inst = find(name)
    return str(inst.kind) if inst is not None else "outcome"


def _outcome_kwargs(name: str, conventions: Mapping[str, str]) -> dict[str, object]:
    inst = find(name)
    if inst is None:
        return {}
    inst = inst.with_convention(conventions.get(name))
    # Deferred: the public module imports this one.
    from harmonybridge.reports.html import _rc_size

    return {
        "cutoff": inst.cutoff.value if inst.cutoff else None,
        "rc_band": _rc_size(inst),
    }


def _intro(analysis: Analysis, source: str | None, n_eng: int, n_shown: int) -> str:
    d = analysis.scores
    src = f" from <code>{escape(source)}</code>" if source else ""
    more = f" Charts are drawn for the first {n_shown}." if n_shown < n_eng else ""
    return (
        f"<p>Made with HarmonyBridge {escape(__version__)}{src}: {n_eng} engagements, "
        f"{d[schema.RESPONDENT_ID].nunique()} respondents, instruments "
        f"{escape(', '.join(sorted(d[schema.INSTRUMENT].unique())))}.{more}</p>"
        '<p class="note">Statistics support, and never replace, the practitioner\'s judgement. '
        "Check-in items of HarmonyBridge are not a validated instrument.</p>"
    )


def _summary(analysis: Analysis) -> str:
    items = []
    rc = analysis.reliable_change
    if not rc.empty:
        for name, block in rc.groupby("instrument"):
            counts = block["category"].value_counts()
            text = ", ".join(
                f"{int(counts[c])} {c}"
                for c in schema.CHANGE_CATEGORIES
                if counts.get(c, 0)
            )
            items.append(
                f"<li>{escape(get(str(name)).short_title)}: {len(block)} series; {escape(text or 'no change category')}.</li>"
            )
    sg = analysis.sudden_gains
    if not sg.empty:
        for kind, block in sg.groupby("kind"):
            n = len(block)
            what = str(kind).replace("_", " ")
            if n != 1:
                what = what + ("es" if what.endswith("loss") else "s")
            n_series = block[
                [schema.ENGAGEMENT_ID, schema.RESPONDENT_ID]
            ].drop_duplicates()
            items.append(f"<li>{n} {escape(what)} in {len(n_series)} series.</li>")
    rup = analysis.ruptures
    if not rup.empty:
        repaired = rup["repair_session"].notna().sum()
        by_source = ", ".join(
            f"{n} {str(source).replace('_', ' ')}"
            for source, n in rup["source"].value_counts().items()
        )
        items.append(
            f"<li>{len(rup)} rupture episodes ({escape(by_source)}); {repaired} repaired.</li>"
        )
    if analysis.curves:
        fitted = ", ".join(
            f"{get(name).short_title} ({fit.n_clients} series)"
            for name, fit in sorted(analysis.curves.items())
        )
        items.append(
            f"<li>Expected-response curves fitted on this file: {escape(fitted)}.</li>"
        )
    return (
        '<h2 id="summary">Summary</h2><ul>'
        + "".join(items or ["<li>No analysable series.</li>"])
        + "</ul>"
    )


def _notes(analysis: Analysis) -> str:
    refs = (
        "Jacobson, N. S., & Truax, P. (1991). Clinical significance. JCCP, 59(1), 12–19.",
        "Tang, T. Z., & DeRubeis, R. J. (1999). Sudden gains and critical sessions. JCCP, 67(6), 894–904.",
        "Gumz, A., Brähler, E., Geyer, M., & Erices, R. (2012). Crisis-repair sequences. BMC Med Res Methodol, 12, 10.",
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in analysis.notes)
    return (
        '<h2 id="notes">Notes and methods</h2>'
        + (f'<ul class="notes">{notes}</ul>' if notes else "<p>No warnings.</p>")
        + "<p>Reliable change compares each series' first and latest session; sudden gains use "
        "the instrument's reliable-change size as criterion 1, 25 % of the pre-gain score as "
        "criterion 2 and the adjusted t criterion 3; ruptures are screened against the larger "
        "of the series' own SD and the file's robust session-to-session SD per rater role.</p><ul>"
        + "".join(f"<li>{escape(r)}</li>" for r in refs)
        + "</ul>"
    )
