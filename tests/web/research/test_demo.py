"""The demo practice has research mode set up, and its export project runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.accounts.models import Role, User
from harmonybridge.web.demo import loader as demo
from harmonybridge.web.practice.models import Client
from harmonybridge.web.research import consent
from harmonybridge.web.research.models import (
    ExportProject,
    ExportRun,
    Purpose,
    RunStatus,
)

pytestmark = pytest.mark.django_db


def test_demo_practice_has_consent_and_a_project_that_exports(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.HB_RESEARCH_EXPORT_DIR = tmp_path
    demo.load()
    admin = User.objects.get(username="admin")
    clients = Client.objects.filter(practice=admin.practice)

    assert all(consent.is_given(c, Purpose.CARE) for c in clients)
    included, left_out = consent.research_split(clients)
    assert 0 < len(included) < clients.count()
    assert left_out == {"no research consent recorded": clients.count() - len(included)}
    project = ExportProject.objects.get(practice=admin.practice)

    researcher = User.objects.get(username="rosa")
    assert researcher.role == Role.RESEARCHER
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("research:project_run", args=[project.pk]))
    run = ExportRun.objects.get(project=project)
    assert run.status == RunStatus.DONE, run.message
    assert run.counts["clients"] > 0
    assert [p.name for p in tmp_path.iterdir()] == [run.file_name]
