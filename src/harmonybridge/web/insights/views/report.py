"""The progress report: choose sections, then print-friendly HTML or a PDF (WeasyPrint)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.insights.forms import ReportForm
from harmonybridge.web.insights.pdfslots import pdf_slot
from harmonybridge.web.insights.progress_report import render_pdf, report_context
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import get_engagement_or_404


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
    return engagement, report_context(engagement, request.GET)


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
    try:
        pdf = render_pdf(context, request)
    except ImportError:
        return render(request, "insights/report_unavailable.html", context, status=503)
    audit.record(
        request.user, "report.export", engagement, request=request, format="pdf"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = "-".join(c.code for c in context["data"].clients) or f"E{engagement.pk}"
    response["Content-Disposition"] = f'attachment; filename="progress-{name}.pdf"'
    return response
