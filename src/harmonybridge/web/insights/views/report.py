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
from harmonybridge.web.insights.pdfslots import pdf_slot
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


#: Seconds a report request waits for a render slot before answering "busy". Zero: a
#: waiting request would hold a web worker, which is what the bound is there to avoid.
PDF_WAIT = 0.0
#: Seconds a client's data export waits for each of its report PDFs.
EXPORT_WAIT = 300.0


@require_GET
@staff_view
def report_pdf(request: PractitionerRequest, pk: int) -> HttpResponse:
    """The same report as a PDF; a clear page instead when there is no data or no WeasyPrint."""
    return pdf_response(request, pk, wait=PDF_WAIT)


def pdf_response(request: Any, pk: int, *, wait: float) -> HttpResponse:
    """Build and render the report PDF in one of the host's few slots (``pdfslots``).

    The slot covers the analyses and the rendering, the two heavy parts. When every
    slot stays busy for ``wait`` seconds the answer is 503 with ``Retry-After``: the
    web worker is free again at once for check-ins.
    """
    engagement = get_engagement_or_404(request, pk)  # a 404 never waits for a slot
    with pdf_slot(wait) as got:
        if not got:
            busy = render(
                request,
                "insights/report_busy.html",
                {"engagement": engagement},
                status=503,
            )
            busy["Retry-After"] = "5"
            return busy
        return _render_pdf(request, pk)


def _render_pdf(request: Any, pk: int) -> HttpResponse:
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
    response["Content-Disposition"] = f'inline; filename="progress-{name}.pdf"'
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
    # an export must hold every report: it waits for a render slot (``pdfslots``)
    with pdf_slot(wait=EXPORT_WAIT) as got:
        if not got:
            raise RuntimeError("no PDF render slot came free for the data export")
        _engagement, context = _context(request, pk, only_client=client)
        if not context["has_data"]:
            return None
        return _pdf(request, context)
