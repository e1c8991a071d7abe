"""Practice admins export everything about a client, or erase the client."""

from __future__ import annotations

import io
import json
import zipfile

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from harmonybridge.web import audit
from harmonybridge.web.accounts.permissions import can_erase_client, can_export_client
from harmonybridge.web.privacy.forms import EraseForm
from harmonybridge.web.privacy.services import erase_client, export_client


def _client_or_404(request: HttpRequest, pk: int, check: object) -> object:
    """Return the client if this admin may act on it; anyone else gets a 404."""
    client_model = apps.get_model("practice", "Client")
    client = client_model.objects.filter(pk=pk).first()
    if client is None or not check(request.user, client):  # type: ignore[operator]
        raise Http404
    return client


@require_GET
@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download everything stored about one client as JSON (GDPR Art. 15/20)."""
    client = _client_or_404(request, pk, can_export_client)
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
    names and scores stay out (issue 9, fault 5)."""
    from harmonybridge.web.insights.views.report import client_report_pdf

    pdfs = []
    for engagement in client.engagements.all():  # type: ignore[attr-defined]
        pdf = client_report_pdf(request, engagement.pk, client)
        if pdf is not None:
            pdfs.append((f"report-engagement-{engagement.pk}.pdf", pdf))
    return pdfs


@require_GET
@login_required
def export_bundle(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a ZIP: the JSON export plus the PDF progress report of each engagement."""
    client = _client_or_404(request, pk, can_export_client)
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
    client = _client_or_404(request, pk, can_erase_client)
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
