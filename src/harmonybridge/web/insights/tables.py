"""Large tables rendered in Python (150 sessions × many columns is slow in templates)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _


def _number(value: Any, decimals: int = 2) -> str:
    if value is None or value != value:
        return "–"
    text = f"{float(value):.{decimals}f}".rstrip("0").rstrip(".")
    return text or "0"


def chart_table_html(table: Any) -> SafeString:
    """The table alternative of a chart (``ChartTable``: caption, columns, rows)."""
    head = format_html_join(
        "", '<th scope="col">{}</th>', ((c,) for c in table.columns)
    )
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html(
                    '<th scope="row">{}</th>{}',
                    row[0],
                    format_html_join("", "<td>{}</td>", ((c,) for c in row[1:])),
                ),
            )
            for row in table.rows
        ),
    )
    return format_html(
        '<div class="table-wrap"><table class="chart-table"><caption>{}</caption>'
        "<thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>",
        table.caption,
        head,
        body,
    )


def _cell(cell: dict[str, Any] | None) -> SafeString:
    if not cell:
        return mark_safe('<td><span class="muted">–</span></td>')
    if cell.get("band"):
        return format_html(
            '<td>{}<br><span class="band">{}</span></td>',
            _number(cell["score"]),
            cell["band"],
        )
    return format_html("<td>{}</td>", _number(cell["score"]))


def session_table_html(
    columns: list[dict[str, str]],
    rows: list[dict[str, Any]],
    answers_url: Callable[[int], str],
    attendance_labels: dict[str, str],
) -> SafeString:
    """Every score by session with its band; an 'items' link per session (htmx + href)."""
    head = format_html_join(
        "",
        '<th scope="col">{}<br><span class="muted">{}</span></th>',
        ((c["instrument"], c["who"]) for c in columns),
    )
    body = []
    n_cols = len(columns) + 3
    for r in rows:
        attendance = r.get("attendance") or ""
        note = (
            format_html(
                ' <span class="pill">{}</span>',
                attendance_labels.get(attendance, attendance),
            )
            if attendance and attendance != "attended"
            else ""
        )
        date = date_format(r["date"], "j M Y") if r.get("date") is not None else ""
        link, answers_row = mark_safe(""), mark_safe("")
        if r.get("has_scores") and r.get("pk"):
            url = answers_url(int(r["pk"]))
            link = format_html(
                '<a href="{}" hx-get="{}" hx-target="#answers-{}" hx-swap="innerHTML">{}</a>',
                url,
                url,
                r["pk"],
                _("items"),
            )
            answers_row = format_html(
                '<tr class="answers-row"><td colspan="{}" id="answers-{}"></td></tr>',
                n_cols,
                r["pk"],
            )
        cells = mark_safe("".join(_cell(c) for c in r["cells"]))
        body.append(
            format_html(
                '<tr class="attendance-{}"><th scope="row">{}</th><td>{}{}</td>{}<td>{}</td></tr>{}',
                attendance,
                r["number"],
                date,
                note,
                cells,
                link,
                answers_row,
            )
        )
    if not rows:
        body.append(
            format_html('<tr><td colspan="3">{}</td></tr>', _("No sessions yet."))
        )
    return format_html(
        '<div class="table-wrap"><table class="session-table"><caption class="visually-hidden">{}</caption>'
        '<thead><tr><th scope="col">{}</th><th scope="col">{}</th>{}<th scope="col">{}</th></tr></thead>'
        "<tbody>{}</tbody></table></div>",
        _("Every score by session, with its band"),
        _("Session"),
        _("Date"),
        head,
        _("Answers"),
        mark_safe("".join(body)),
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
