"""Large tables rendered in Python (150 sessions × many columns is slow in templates)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from harmonybridge.formatting import fmt_score


def _number(value: Any) -> str:
    return fmt_score(value)


def chart_table_html(table: Any) -> SafeString:
    """The table alternative of a chart (``ChartTable``: caption, columns, rows)."""
    head = "".join(f'<th scope="col">{escape(str(c))}</th>' for c in table.columns)
    body = "".join(
        f'<tr><th scope="row">{escape(str(row[0]))}</th>'
        + "".join(f"<td>{escape(str(c))}</td>" for c in row[1:])
        + "</tr>"
        for row in table.rows
    )
    return mark_safe(
        '<div class="table-wrap"><table class="chart-table">'
        f"<caption>{escape(str(table.caption))}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _cell(cell: dict[str, Any] | None) -> str:
    if not cell:
        return '<td><span class="muted">–</span></td>'
    if cell.get("band"):
        return (
            f"<td>{_number(cell['score'])}<br>"
            f'<span class="band">{escape(str(cell["band"]))}</span></td>'
        )
    return f"<td>{_number(cell['score'])}</td>"


def session_table_html(
    columns: list[dict[str, str]],
    rows: list[dict[str, Any]],
    answers_url: Callable[[int], str],
    attendance_labels: dict[str, str],
) -> SafeString:
    """Every score by session with its band; an 'items' link per session (htmx + href).

    Plain string building with explicit escaping (150 rows × many cells)."""
    head = "".join(
        f'<th scope="col">{escape(c["instrument"])}<br>'
        f'<span class="muted">{escape(c["who"])}</span></th>'
        for c in columns
    )
    items = escape(_("items"))
    body = []
    n_cols = len(columns) + 3
    for r in rows:
        attendance = escape(r.get("attendance") or "")
        note = ""
        if attendance and attendance != "attended":
            label = attendance_labels.get(r["attendance"], r["attendance"])
            note = f' <span class="pill">{escape(str(label))}</span>'
        date = (
            escape(date_format(r["date"], "j M Y")) if r.get("date") is not None else ""
        )
        link = answers_row = ""
        if r.get("has_scores") and r.get("pk"):
            pk = int(r["pk"])
            url = escape(answers_url(pk))
            link = (
                f'<a href="{url}" hx-get="{url}" hx-target="#answers-{pk}" '
                f'hx-swap="innerHTML">{items}</a>'
            )
            answers_row = f'<tr class="answers-row"><td colspan="{n_cols}" id="answers-{pk}"></td></tr>'
        cells = "".join(_cell(c) for c in r["cells"])
        body.append(
            f'<tr class="attendance-{attendance}"><th scope="row">{int(r["number"])}</th>'
            f"<td>{date}{note}</td>{cells}<td>{link}</td></tr>{answers_row}"
        )
    if not rows:
        body.append(f'<tr><td colspan="3">{escape(_("No sessions yet."))}</td></tr>')
    return mark_safe(
        '<div class="table-wrap"><table class="session-table">'
        f'<caption class="visually-hidden">{escape(_("Every score by session, with its band"))}</caption>'
        f'<thead><tr><th scope="col">{escape(_("Session"))}</th>'
        f'<th scope="col">{escape(_("Date"))}</th>{head}'
        f'<th scope="col">{escape(_("Answers"))}</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def caseload_rows_html(rows: list[dict[str, Any]]) -> SafeString:
    """The caseload table's body: status pills, clients (link to the dashboard), service,
    latest session and open alerts. Plain string building with explicit escaping: 500
    rows through ``format_html`` and ``date_format`` cost more than the queries."""
    if not rows:
        return format_html(
            '<tr><td colspan="5">{}</td></tr>',
            _("No active engagement with this status."),
        )
    prefix = escape(reverse("insights:dashboard", args=[0])[: -len("0/")])
    days = {i: escape(str(d)) for i, d in WEEKDAYS_ABBR.items()}
    months = {i: escape(str(m).capitalize()) for i, m in MONTHS_3.items()}
    pill_html: dict[tuple[str, ...], str] = {}
    out = []
    for r in rows:
        kinds = tuple(s.kind for s in r["statuses"])
        if kinds not in pill_html:
            pill_html[kinds] = " ".join(
                f'<span class="pill pill-{s.level} status-{s.kind}">{escape(s.label)}</span>'
                for s in r["statuses"]
            )
        last = "—"
        if r["last"] is not None:
            d = localtime(r["last"])
            last = f"{days[d.weekday()]} {d.day} {months[d.month]} {d.year}"
        out.append(
            f'<tr class="row-{r["statuses"][0].level}"><td>{pill_html[kinds]}</td>'
            f'<td><a href="{prefix}{int(r["pk"])}/">{escape(r["names"] or str(r["pk"]))}</a></td>'
            f"<td>{escape(r['service'])}</td><td>{last}</td><td>{int(r['open'])}</td></tr>"
        )
    return mark_safe("".join(out))
