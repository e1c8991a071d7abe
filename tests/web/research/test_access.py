"""Every role x every research-mode action: allowed, or 404 (anonymous: to the login)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from harmonybridge.web.accounts.models import Role
from harmonybridge.web.research.models import ExportRun, RunStatus
from tests.web import factories
from tests.web.research.test_exports import make_project

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "practitioner", "supervisor", "researcher", "admin", "stranger")
OK = {"GET": 200, "POST": 302}

# action -> roles allowed
ALLOWED = {
    "projects": {"researcher", "admin", "stranger"},  # a stranger sees their own list
    "project_create": {"admin", "stranger"},
    "project": {"researcher", "admin"},
    "project_run": {"researcher", "admin"},
    "run_download": {"researcher", "admin"},
    "sheets": {"admin", "stranger"},
    "client_consent_view": {"practitioner", "supervisor", "admin"},
    "client_consent_record": {"practitioner", "admin"},
}


@pytest.fixture
def world(settings, tmp_path):
    settings.HB_RESEARCH_EXPORT_DIR = tmp_path
    practice = factories.make_practice()
    admin = factories.make_practitioner(practice, role=Role.ADMIN)
    practitioner = factories.make_practitioner(practice)
    supervisor = factories.make_practitioner(practice, role=Role.SUPERVISOR)
    supervisor.supervisees.add(practitioner)
    person = factories.make_client(practitioner)
    factories.make_engagement(
        practitioner, [person]
    )  # the supervisor sees it through this
    project = make_project(admin)
    run = ExportRun.objects.create(
        project=project,
        requested_by=admin,
        status=RunStatus.DONE,
        file_name="alliance-2026-1.zip",
        finished_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    (tmp_path / run.file_name).write_bytes(b"PK\x05\x06" + b"\0" * 18)
    users = {
        "anonymous": None,
        "practitioner": practitioner,
        "supervisor": supervisor,
        "researcher": factories.make_practitioner(practice, role=Role.RESEARCHER),
        "admin": admin,
        "stranger": factories.make_practitioner(role=Role.ADMIN),
    }
    requests = {
        "projects": ("GET", reverse("research:projects"), None),
        "project_create": ("GET", reverse("research:project_create"), None),
        "project": ("GET", reverse("research:project", args=[project.pk]), None),
        "project_run": ("POST", reverse("research:project_run", args=[project.pk]), {}),
        "run_download": (
            "GET",
            reverse("research:run_download", args=[project.pk, run.pk]),
            None,
        ),
        "sheets": ("GET", reverse("research:sheets"), None),
        "client_consent_view": (
            "GET",
            reverse("research:client_consent", args=[person.pk]),
            None,
        ),
        "client_consent_record": (
            "POST",
            reverse("research:client_consent", args=[person.pk]),
            {"purpose": "care", "decision": "given"},
        ),
    }
    return users, requests


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_role_action(client, world, role, action, django_capture_on_commit_callbacks):
    users, requests = world
    method, url, data = requests[action]
    if users[role] is not None:
        client.force_login(users[role])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get(url) if method == "GET" else client.post(url, data or {})
    if role == "anonymous":
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif role in ALLOWED[action]:
        assert response.status_code == OK[method], (role, action)
    else:
        assert response.status_code == 404, (role, action)
