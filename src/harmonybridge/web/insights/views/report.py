"""The progress report: choose sections, then print-friendly HTML or a PDF (WeasyPrint)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.insights import dashboard as build
from harmonybridge.web.insights.forms import ReportForm
from harmonybridge.web.insights.views.context import load
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.scoping import get_engagement_or_404
from harmonybridge.web.repairs.models import RepairRecord

REPORT_CSS = (
    Path(__file__).resolve().parent.parent / "static" / "insights" / "report.css"
)


@require_GET
@staff_view
def report_form(request: PractitionerRequest, pk: int) -> HttpResponse:
    """Choose the report's sections (alliance and notes are off unless ticked)."""
    engagement = get_engagement_or_404(request, pk)
    audit.record(request.user, "report.form", engagement, request=request)
    return render(
        request,
        "insights/report_form.html",
        {"engagement": engagement, "form": ReportForm.sections(None)},
    )


def _context(
    request: PractitionerRequest, pk: int, only_client: Any = None
) -> tuple[Any, dict[str, Any]]:
    engagement = get_engagement_or_404(request, pk)
    form = ReportForm.sections(request.GET)
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
        return engagement, context
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
    return engagement, context


def _is_alliance(key: str) -> bool:
    from harmonybridge.web.insights.dashboard import _inst

    inst = _inst(key.split("|", 1)[0])
    return inst is not None and inst.kind in ("alliance", "rupture")


@require_GET
@staff_view
def report_html(request: PractitionerRequest, pk: int) -> HttpResponse:
    engagement, context = _context(request, pk)
    audit.record(
        request.user, "report.export", engagement, request=request, format="html"
    )
    return render(request, "insights/report.html", context)


@require_GET
@staff_view
def report_pdf(request: PractitionerRequest, pk: int) -> HttpResponse:
    """The same report as a PDF; a clear page instead when there is no data or no WeasyPrint."""
    engagement, context = _context(request, pk)
    if not context["has_data"]:  # the "no data yet" page still names the client
        audit.record(
            request.user, "report.view", engagement, request=request, format="pdf"
        )
        return render(request, "insights/report.html", context)
    pdf = _pdf(request, context)
    if pdf is None:
        return render(request, "insights/report_unavailable.html", context, status=503)
    audit.record(
        request.user, "report.export", engagement, request=request, format="pdf"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = "-".join(c.code for c in context["data"].clients) or f"E{engagement.pk}"
    response["Content-Disposition"] = f'attachment; filename="progress-{name}.pdf"'
    return response


def _pdf(request: Any, context: dict[str, Any]) -> bytes | None:
    """The report as PDF bytes; None without WeasyPrint (the ``pdf`` extra)."""
    try:
        from weasyprint import CSS, HTML
    except ImportError:
        return None
    html = render_to_string("insights/report.html", {**context, "pdf": True}, request)
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(REPORT_CSS))])


def client_report_pdf(request: Any, pk: int, client: Any) -> bytes | None:
    """One client's own progress report of an engagement, for their data export.

    Default sections, only the client's own answers (``about_one_client``); None when
    the client has no scores there or WeasyPrint is missing. The caller audits the
    export."""
    _engagement, context = _context(request, pk, only_client=client)
    if not context["has_data"]:
        return None
    return _pdf(request, context)
