"""The progress report's content and PDF, shared by the report pages and the privacy export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from harmonybridge import instruments
from harmonybridge.web.insights import figures as build
from harmonybridge.web.insights.forms import ReportForm
from harmonybridge.web.insights.views.context import load
from harmonybridge.web.repairs.models import RepairRecord

REPORT_CSS = Path(__file__).resolve().parent / "static" / "insights" / "report.css"


def report_context(
    engagement: Any, params: Any = None, only_client: Any = None
) -> dict[str, Any]:
    """The report's template context for the sections chosen in ``params`` (a GET
    query; ``None`` for the default sections); with ``only_client``, only that client's
    own answers (``about_one_client``: a couple's or family's other members stay out)."""
    form = ReportForm.sections(params)
    form.is_valid()
    sections = form.cleaned_data if form.is_valid() else ReportForm.sections(None).data
    data = load(engagement)
    if only_client is not None:
        data = data.about_one_client(only_client)
    context: dict[str, Any] = {
        "engagement": engagement,
        "data": data,
        "words": data.words,
        "s": sections,
        "audience": sections.get("audience", "client"),
        "generated": timezone.now(),
        "has_data": bool(len(data.scores)),
    }
    if not context["has_data"]:
        return context
    built = data.build(include_alliance=bool(sections.get("alliance")), width=600)
    columns, rows = data.session_table()
    if not sections.get("alliance"):
        keep = [i for i, c in enumerate(columns) if not _is_alliance(c["key"])]
        columns = [columns[i] for i in keep]
        rows = [{**r, "cells": [r["cells"][i] for i in keep]} for r in rows]
    rows = [r for r in rows if any(r["cells"])]
    notes = []
    if sections.get("notes"):
        notes = [
            r
            for r in RepairRecord.objects.filter(
                session__engagement=engagement
            ).select_related("session")
            if r.note
        ]
    context.update(
        built=built,
        columns=columns,
        rows=rows,
        notes=notes,
        goal_rows=build.goal_rows(data.scores, data.goals),
    )
    return context


def render_pdf(context: dict[str, Any], request: Any = None) -> bytes:
    """The report of ``report_context`` as PDF bytes: the HTML here, the layout (the
    CPU-heavy part) in the worker's render process, at a lower priority than check-ins
    (issue 14)."""
    from harmonybridge.reports.pdf import layout_pdf
    from harmonybridge.web.insights.pdfslots import in_render_process

    html = render_to_string("insights/report.html", {**context, "pdf": True}, request)
    return in_render_process(layout_pdf, html, str(REPORT_CSS))


def _is_alliance(key: str) -> bool:
    inst = instruments.find(key.split("|", 1)[0])
    return inst is not None and inst.kind in ("alliance", "rupture")
