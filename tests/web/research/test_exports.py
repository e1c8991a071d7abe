"""Export projects end to end: consent at start, the zip, the log, the audit, the purge."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from harmonybridge.web.accounts.models import Role
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.research import exports
from harmonybridge.web.research.models import ExportProject, ExportRun, RunStatus
from tests.web import factories
from tests.web.research.helpers import SESSION_DAY, client_with_phq9

pytestmark = pytest.mark.django_db


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.HB_RESEARCH_EXPORT_DIR = tmp_path / "exports"
    return settings.HB_RESEARCH_EXPORT_DIR


@pytest.fixture
def admin():
    practice = factories.make_practice()
    return factories.make_practitioner(practice, role=Role.ADMIN)


def make_project(admin, **overrides):
    fields = {
        "practice_id": admin.practice_id,
        "slug": "alliance-2026",
        "name": "Alliance and outcome",
        "purpose": "Does early change predict the outcome?",
        "instruments": ["phq9"],
        "period_start": SESSION_DAY - dt.timedelta(days=30),
        "period_end": SESSION_DAY + dt.timedelta(days=90),
        "k": 5,
        "secret_key": exports.new_secret_key(),
        "created_by": admin,
    }
    return ExportProject.objects.create(**(fields | overrides))


def run_via_page(client, user, project, capture):
    client.force_login(user)
    with capture(execute=True):
        response = client.post(reverse("research:project_run", args=[project.pk]))
    assert response.status_code == 302
    return ExportRun.objects.filter(project=project).first()


def test_export_holds_consented_clients_only_logs_counts_and_audits_each(
    client, admin, export_dir, django_capture_on_commit_callbacks
):
    practitioner = factories.make_practitioner(admin.practice)
    consented = [client_with_phq9(practitioner) for _ in range(5)]
    client_with_phq9(practitioner, research="withdrawn")
    client_with_phq9(practitioner, research=None)
    project = make_project(admin)

    run = run_via_page(client, admin, project, django_capture_on_commit_callbacks)

    assert run.status == RunStatus.DONE, run.message
    assert run.left_out == {
        "no research consent recorded": 1,
        "research consent withdrawn": 1,
    }
    assert run.counts["clients"] == 5
    assert (run.steps_done, run.steps_total) == (6, 6)
    assert run.expires_at - run.finished_at == dt.timedelta(days=7)
    assert [p.name for p in export_dir.iterdir()] == [run.file_name]
    with zipfile.ZipFile(export_dir / run.file_name) as zf:
        items = pd.read_csv(io.BytesIO(zf.read("items.csv")))
        log = zf.read("export-log.txt").decode()
    assert items["client_id"].nunique() == 5  # 2 sessions x 10 items each
    assert len(items) == 5 * 2 * 10
    assert "research consent withdrawn" in log
    codes = {c.code for c in consented}
    assert not any(code in log for code in codes)
    included = AuditEvent.objects.filter(action="research.export.include")
    assert {e.client_code for e in included} == codes

    # the zip downloads for the admin
    response = client.get(reverse("research:run_download", args=[project.pk, run.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_consent_withdrawn_during_the_export_is_in_it_and_out_of_the_next(
    client, admin, export_dir, django_capture_on_commit_callbacks, monkeypatch
):
    practitioner = factories.make_practitioner(admin.practice)
    clients = [client_with_phq9(practitioner) for _ in range(6)]
    project = make_project(admin)
    real = exports.write_research_export

    def withdraw_midway(*args, **kwargs):
        factories.give_consent(clients[0], "research", practitioner, "withdrawn")
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "write_research_export", withdraw_midway)
    first = run_via_page(client, admin, project, django_capture_on_commit_callbacks)
    assert first.status == RunStatus.DONE
    assert first.counts["clients"] == 6

    monkeypatch.setattr(exports, "write_research_export", real)
    second = run_via_page(client, admin, project, django_capture_on_commit_callbacks)
    assert second.counts["clients"] == 5
    assert second.left_out == {"research consent withdrawn": 1}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("nobody", "no client of the practice has given research consent"),
        ("four", "fewer than"),
        ("no_gad7", "gad7"),
    ],
)
def test_bad_exports_fail_with_a_clear_message_and_leave_nothing(
    client, admin, export_dir, django_capture_on_commit_callbacks, setup, expected
):
    practitioner = factories.make_practitioner(admin.practice)
    n, instruments = {"nobody": (0, ["phq9"]), "four": (4, ["phq9"]),
                      "no_gad7": (6, ["phq9", "gad7"])}[setup]  # fmt: skip
    for _ in range(n):
        client_with_phq9(practitioner)
    client_with_phq9(practitioner, research=None)
    project = make_project(admin, instruments=instruments)

    run = run_via_page(client, admin, project, django_capture_on_commit_callbacks)

    assert run.status == RunStatus.FAILED
    assert expected in run.message
    assert list(export_dir.iterdir()) == []
    assert not AuditEvent.objects.filter(action="research.export.include").exists()
    page = client.get(reverse("research:project", args=[project.pk]))
    assert expected in page.content.decode()
    download = client.get(reverse("research:run_download", args=[project.pk, run.pk]))
    assert download.status_code == 404


def test_purge_deletes_zips_after_seven_days(
    client, admin, export_dir, django_capture_on_commit_callbacks
):
    practitioner = factories.make_practitioner(admin.practice)
    for _ in range(5):
        client_with_phq9(practitioner)
    project = make_project(admin)
    old = run_via_page(client, admin, project, django_capture_on_commit_callbacks)
    fresh = run_via_page(client, admin, project, django_capture_on_commit_callbacks)
    ExportRun.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    out = io.StringIO()
    call_command("purge_research_exports", stdout=out)

    assert "Deleted 1 expired" in out.getvalue()
    old.refresh_from_db()
    assert old.status == RunStatus.EXPIRED
    assert [p.name for p in export_dir.iterdir()] == [fresh.file_name]
    url = reverse("research:run_download", args=[project.pk, old.pk])
    assert client.get(url).status_code == 404


def test_export_files_live_outside_the_database_and_the_backup(settings, admin):
    from pathlib import Path

    db_dir = Path(settings.DATABASES["default"]["NAME"]).parent
    export_root = Path(settings.HB_RESEARCH_EXPORT_DIR)
    assert export_root != settings.DATA_DIR / "backups"
    assert db_dir not in (export_root, *export_root.parents) or (
        export_root.name == "research-exports"
    )
    # the run row stores a file name and counts, never the file's bytes
    field_types = {f.get_internal_type() for f in ExportRun._meta.get_fields()
                   if hasattr(f, "get_internal_type")}  # fmt: skip
    assert "BinaryField" not in field_types


def test_admin_creates_a_project_k_at_least_5_key_encrypted(client, admin):
    from django.db import connection

    client.force_login(admin)
    url = reverse("research:project_create")
    data = {
        "name": "Alliance study",
        "slug": "alliance",
        "purpose": "Early alliance and change",
        "instruments": ["phq9"],
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "k": "4",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "The minimum cell size k must be at least 5" in refused.content.decode()
    assert not ExportProject.objects.exists()

    backwards = client.post(url, data | {"k": "5", "period_end": "2025-12-31"})
    assert "The period ends before it starts" in backwards.content.decode()

    created = client.post(url, data | {"k": "5"}, follow=True)
    assert "Only 0 clients have given research consent" in created.content.decode()
    project = ExportProject.objects.get()
    assert len(bytes.fromhex(project.secret_key)) == 32
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_key FROM research_exportproject WHERE id = %s", [project.pk]
        )
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:")
    assert project.secret_key not in stored


def test_an_unexpected_error_marks_the_run_failed_and_leaves_nothing(
    admin, export_dir, monkeypatch
):
    practitioner = factories.make_practitioner(admin.practice)
    for _ in range(5):
        client_with_phq9(practitioner)
    project = make_project(admin)
    run = ExportRun.objects.create(project=project, requested_by=admin)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exports, "write_research_export", disk_full)
    with pytest.raises(OSError, match="No space left"):
        exports.run_export(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "nothing was kept" in run.message
    assert list(export_dir.iterdir()) == []


def test_progress_partial_polls_while_an_export_runs(client, admin):
    project = make_project(admin)
    run = ExportRun.objects.create(
        project=project, requested_by=admin, status=RunStatus.RUNNING,
        step="spss", steps_done=2, steps_total=6,
    )  # fmt: skip
    client.force_login(admin)
    url = reverse("research:project", args=[project.pk])

    running = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert running.lstrip().startswith('<div id="runs"')  # the partial only
    assert 'hx-trigger="every 2s"' in running
    assert '<progress max="6" value="2">' in running

    ExportRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    finished = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in finished  # polling stops
