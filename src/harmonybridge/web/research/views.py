"""Pages of research mode: export projects (admin, researcher), sheets and consent (staff).

Access rules live in the single policy (``practice.policy``); refusals are 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from harmonybridge import instruments
from harmonybridge.web import audit
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import Client
from harmonybridge.web.practice.policy import (
    clients_for,
    get_client_or_404,
    get_or_404,
    may_see,
    may_use_research_projects,
    require_practice_admin,
    research_projects_for,
)
from harmonybridge.web.research import consent, exports
from harmonybridge.web.research.forms import (
    ConsentForm,
    ExportProjectForm,
    InformationSheetForm,
)
from harmonybridge.web.research.models import (
    ExportProject,
    ExportRun,
    InformationSheet,
    Purpose,
    RunStatus,
)
from harmonybridge.web.research.tasks import enqueue_export


def _projects(user: Any) -> Any:
    return research_projects_for(user, ExportProject.objects.all())


def _project_or_404(user: Any, pk: Any) -> ExportProject:
    return get_or_404(_projects(user), pk)


@require_GET
@login_required
def project_list(request: PractitionerRequest) -> HttpResponse:
    if not may_use_research_projects(request.user):
        raise Http404
    projects = _projects(request.user)
    return render(
        request,
        "research/project_list.html",
        {"projects": projects, "is_admin": request.user.role == "admin"},
    )


@require_http_methods(["GET", "POST"])
@login_required
def project_create(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    pid = request.user.practice_id
    assert pid is not None  # require_practice_admin: 404 without a practice
    form = ExportProjectForm(request.POST or None, practice_id=pid)
    if request.method == "POST" and form.is_valid():
        project = form.save(commit=False)
        project.practice_id = pid
        project.created_by = request.user
        project.secret_key = exports.new_secret_key()
        project.save()
        audit.record(request.user, "research.project.create", project, request=request)
        consented, _left = consent.research_split(
            Client.objects.filter(practice_id=pid)
        )
        if len(consented) < project.k:
            messages.warning(
                request,
                _(
                    "Only %(n)s clients have given research consent; an export needs at "
                    "least k = %(k)s. Record research consent on the client pages "
                    "before running it."
                )
                % {"n": len(consented), "k": project.k},
            )
        else:
            messages.success(request, _("The export project is created."))
        return redirect("research:project", project.pk)
    return render(request, "research/project_form.html", {"form": form})


@never_cache
@require_GET
@login_required
def project_detail(request: PractitionerRequest, pk: int) -> HttpResponse:
    project = _project_or_404(request.user, pk)
    runs = project.runs.select_related("requested_by")[:20]
    titles = [instruments.short_title(i) for i in project.instruments]
    template = "research/project_detail.html"
    if request.htmx:
        template += "#runs"
    return render(
        request,
        template,
        {"project": project, "runs": runs, "titles": titles},
    )


@require_POST
@login_required
def project_run(request: PractitionerRequest, pk: int) -> HttpResponse:
    project = _project_or_404(request.user, pk)
    with transaction.atomic():
        run = ExportRun.objects.create(project=project, requested_by=request.user)
        audit.record(
            request.user, "research.export.request", project, request=request,
            run_id=run.pk,
        )  # fmt: skip
        enqueue_export(run.pk)
    messages.info(request, _("The export is queued; this page shows its progress."))
    return redirect("research:project", project.pk)


@never_cache
@require_GET
@login_required
def run_download(request: PractitionerRequest, pk: int, run_pk: int) -> HttpResponse:
    project = _project_or_404(request.user, pk)
    run = ExportRun.objects.filter(
        project=project, pk=run_pk, status=RunStatus.DONE
    ).first()
    if run is None or run.expires_at is None or run.expires_at <= timezone.now():
        raise Http404
    path = exports.file_path(run)
    if not path.is_file():
        raise Http404
    audit.record(
        request.user, "research.export.download", project, request=request,
        run_id=run.pk,
    )  # fmt: skip
    response: HttpResponse = FileResponse(  # type: ignore[assignment]
        path.open("rb"), as_attachment=True, filename=path.name
    )
    return response


@require_http_methods(["GET", "POST"])
@login_required
def sheets(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    pid = request.user.practice_id
    assert pid is not None  # require_practice_admin: 404 without a practice
    form = InformationSheetForm(request.POST or None, practice_id=pid)
    if request.method == "POST" and form.is_valid():
        sheet = form.save(commit=False)
        sheet.practice_id = pid
        sheet.created_by = request.user
        sheet.save()
        audit.record(request.user, "research.sheet.add", sheet, request=request)
        messages.success(request, _("The new information sheet version is in use."))
        return redirect("research:sheets")
    return render(
        request,
        "research/sheets.html",
        {"form": form, "sheets": InformationSheet.objects.filter(practice_id=pid)},
    )


@require_http_methods(["GET", "POST"])
@staff_view
def client_consent(request: PractitionerRequest, pk: int) -> HttpResponse:
    """The client's consent history; those who may change the client record an answer."""
    client = get_client_or_404(request, pk)
    can_record = _can_change(request, client)
    # a POST is always a bound form, so an empty one gets its "required" messages
    form = ConsentForm(
        request.POST if request.method == "POST" else None,
        practice_id=client.practice_id,
    )
    if request.method == "POST":
        if not can_record:
            raise Http404
        if form.is_valid():
            d = form.cleaned_data
            consent.record_consent(
                client, d["purpose"], d["decision"], d["sheet_version"], request.user,
                request=request,
            )  # fmt: skip
            messages.success(request, _("The client's answer is recorded."))
            return redirect("research:client_consent", client.pk)
    else:
        audit.record(request.user, "consent.view", client, request=request)
    return render(
        request,
        "research/client_consent.html",
        {
            "client": client,
            "records": client.consent_records.select_related("recorded_by"),
            "form": form if can_record else None,
            "sheet": consent.current_sheet(client.practice_id),
            "care": consent.latest(client, Purpose.CARE),
            "research": consent.latest(client, Purpose.RESEARCH),
        },
        status=400 if request.method == "POST" else 200,
    )


def _can_change(request: HttpRequest, client: Client) -> bool:
    return may_see(clients_for(request.user, change=True), client)
