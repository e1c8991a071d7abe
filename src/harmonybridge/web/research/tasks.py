"""Background work of research mode: run an export, delete exports older than 7 days."""

from __future__ import annotations

from django_tasks import task


@task()
def run_export_task(run_id: int) -> str:
    """Run one queued export; returns its status."""
    from harmonybridge.web.research.exports import run_export

    return str(run_export(run_id).status)


@task()
def purge_expired_exports_task() -> int:
    """Delete the export zips whose 7 days are over; returns how many."""
    from harmonybridge.web.research.exports import purge_expired

    return purge_expired()


def enqueue_export(run_id: int) -> None:
    """Queue an export after the run's row is committed (the worker reads it)."""
    from django.db import transaction

    transaction.on_commit(lambda: run_export_task.enqueue(run_id))
