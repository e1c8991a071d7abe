"""Practice admins export everything about a client, or erase the client."""

from __future__ import annotations

import io
import json
import zipfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from harmonybridge.web import audit
from harmonybridge.web.insights.pdfslots import pdf_slot
from harmonybridge.web.insights.progress_report import render_pdf, report_context
from harmonybridge.web.practice.policy import (
    erasable_clients_for,
    exportable_clients_for,
    get_or_404,
)
from harmonybridge.web.privacy.forms import EraseForm
from harmonybridge.web.privacy.services import erase_client, export_client

#: Seconds a client's data export waits for each of its report PDFs.
EXPORT_WAIT = 300.0


@require_GET
@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download everything stored about one client as JSON (GDPR Art. 15/20)."""
    client = get_or_404(exportable_clients_for(request.user), pk)
    with transaction.atomic():
        data = export_client(client)
        audit.record(
            request.user, "client.export", client, request=request, format="json"
        )
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{client.code}-export.json"'  # type: ignore[attr-defined]
    )
    return response


def _report_pdfs(request: HttpRequest, client: object) -> list[tuple[str, bytes]]:
    """The progress report PDF of each of the client's engagements (default sections).

    Only about this client: in a shared (couple, family) engagement the other members'
    names and scores stay out (issue 9, fault 5). The caller audits the export."""
    pdfs = []
    for engagement in client.engagements.all():  # type: ignore[attr-defined]
        context = report_context(engagement, only_client=client)
        if not context["has_data"]:
            continue
        # an export must hold every report: it waits for one of the host's render
        # slots (``pdfslots``) rather than answering "busy"
        with pdf_slot(wait=EXPORT_WAIT) as got:
            if not got:
                raise RuntimeError("no PDF render slot came free for the data export")
            try:
                pdf = render_pdf(context, request)
            except ImportError:  # the PDF extra is not installed: the README says so
                return []
        pdfs.append((f"report-engagement-{engagement.pk}.pdf", pdf))
    return pdfs


@require_GET
@login_required
def export_bundle(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a ZIP: the JSON export plus the PDF progress report of each engagement."""
    client = get_or_404(exportable_clients_for(request.user), pk)
    code = client.code  # type: ignore[attr-defined]
    with transaction.atomic():
        data = export_client(client)
        pdfs = _report_pdfs(request, client)
        audit.record(
            request.user, "client.export", client, request=request, format="zip"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"{code}-export.json",
            json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True),
        )
        for name, content in pdfs:
            archive.writestr(name, content)
        if not pdfs:
            archive.writestr(
                "README.txt",
                "No PDF report: the client has no scores yet, or the PDF extra is not installed.\n",
            )
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{code}-export.zip"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Erase a client after the admin types its code; only an audit tombstone remains."""
    client = get_or_404(erasable_clients_for(request.user), pk)
    form = EraseForm(request.POST or None, client_code=client.code)  # type: ignore[attr-defined]
    if request.method == "GET":
        audit.record(request.user, "client.erase_form", client, request=request)
    if request.method == "POST" and form.is_valid():
        code = client.code  # type: ignore[attr-defined]
        erase_client(client, actor=request.user, request=request)
        messages.success(
            request, _("Client %(code)s has been erased.") % {"code": code}
        )
        return redirect("home")
    return render(request, "privacy/erase.html", {"client": client, "form": form})
