"""Run an export project: consent at start, canonical frames, the core's zip, purge after 7 days.

Export files live in ``settings.HB_RESEARCH_EXPORT_DIR`` (outside the database and
outside what ``manage backup`` copies): a zip is downloadable for
:data:`KEEP_DAYS` days, then :func:`purge_expired` deletes it.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from harmonybridge import schema
from harmonybridge.research import (
    ResearchExportError,
    ResearchProject,
    write_research_export,
)
from harmonybridge.web import audit
from harmonybridge.web.checkins import frames
from harmonybridge.web.checkins.models import Answer
from harmonybridge.web.practice.models import Client, EngagementClient
from harmonybridge.web.research import consent
from harmonybridge.web.research.models import ExportProject, ExportRun, RunStatus

logger = logging.getLogger(__name__)

#: Days a finished export stays downloadable.
KEEP_DAYS = 7


def new_secret_key() -> str:
    """A fresh project key (hex of 32 random bytes), stored encrypted on the project."""
    return secrets.token_hex(32)


def export_dir() -> Path:
    path = Path(settings.HB_RESEARCH_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(run: ExportRun) -> Path:
    return export_dir() / run.file_name


def core_project(project: ExportProject) -> ResearchProject:
    return ResearchProject(
        id=project.slug,
        key=bytes.fromhex(project.secret_key),
        instruments=tuple(project.instruments),
        period=(project.period_start, project.period_end),
        k=project.k,
        title=project.name,
        purpose=project.purpose,
    )


def _item_frame(engagement_ids: list[int], client_codes: set[str]) -> pd.DataFrame:
    rows = list(
        Answer.objects.filter(
            response__session__engagement_id__in=engagement_ids
        ).values_list(
            "response_id",
            "response__session__engagement_id",
            "response__session__engagement__lead_id",
            "response__session__number",
            "response__session__starts_at",
            "response__rater_role",
            "response__respondent_client__code",
            "response__respondent_user_id",
            "response__instrument_id",
            "item",
            "value",
        )
    )
    cols = ["rid", "eid", "lead", "number", "starts_at", "role", "code", "user",
            "instrument", "item", "value"]  # fmt: skip
    raw = pd.DataFrame(rows, columns=cols)
    first = _first_client(engagement_ids)
    is_client = raw["code"].notna()
    frame = pd.DataFrame(
        {
            schema.CLIENT_ID: raw["code"].where(is_client, raw["eid"].map(first)),
            schema.ENGAGEMENT_ID: "E" + raw["eid"].astype(str),
            schema.PRACTITIONER_ID: "P" + raw["lead"].astype(str),
            schema.SESSION: raw["number"].astype("int64"),
            schema.DATE: pd.to_datetime(raw["starts_at"], utc=True).dt.tz_localize(
                None
            ),
            schema.RATER_ROLE: raw["role"].astype(str),
            schema.RESPONDENT_ID: raw["code"].where(
                is_client, "P" + raw["user"].astype("Int64").astype(str)
            ),
            schema.INSTRUMENT: raw["instrument"].astype(str),
            schema.RESPONSE_ID: "R" + raw["rid"].astype(str),
            schema.ITEM: raw["item"].astype("int64"),
            schema.VALUE: raw["value"].astype("float64"),
        }
    )
    return frame[frame[schema.CLIENT_ID].isin(client_codes)]


def _first_client(engagement_ids: list[int]) -> dict[int, str]:
    first: dict[int, str] = {}
    for eid, code in (
        EngagementClient.objects.filter(engagement_id__in=engagement_ids)
        .order_by("id")
        .values_list("engagement_id", "client__code")
    ):
        first.setdefault(eid, code)
    return first


def _engagement_starts(engagement_ids: list[int]) -> dict[str, dt.date]:
    from harmonybridge.web.practice.models import Engagement

    return {
        frames.engagement_code(pk): start
        for pk, start in Engagement.objects.filter(pk__in=engagement_ids).values_list(
            "pk", "start_date"
        )
    }


def consent_at_start(run: ExportRun) -> tuple[list[Client], dict[str, int]]:
    """The clients included (latest research consent "given" now) and counts left out."""
    practice_clients = Client.objects.filter(practice_id=run.project.practice_id)
    included_ids, left_out = consent.research_split(practice_clients)
    return list(Client.objects.filter(pk__in=included_ids).only("pk", "code")), left_out


def run_export(run_id: int) -> ExportRun:
    """Run one queued export (the task worker calls this); never raises for bad input."""
    run = ExportRun.objects.select_related("project").get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at", "updated_at"])
    # the state of consent when the export starts decides, whatever changes later
    included, left_out = consent_at_start(run)
    codes = {c.code for c in included}
    engagement_ids = sorted(
        set(
            EngagementClient.objects.filter(client__in=included).values_list(
                "engagement_id", flat=True
            )
        )
    )
    target = export_dir() / f"{run.project.slug}-{run.pk}.zip"

    def progress(step: str, done: int, total: int) -> None:
        ExportRun.objects.filter(pk=run.pk).update(
            step=step, steps_done=done, steps_total=total, updated_at=timezone.now()
        )

    try:
        if not codes:
            raise ResearchExportError(
                "no_consented_clients",
                "no client of the practice has given research consent; record "
                "consent on the client pages first",
            )
        items = _item_frame(engagement_ids, codes)
        scores = frames.stored_scores(engagement_ids=engagement_ids)
        scores = scores[scores[schema.CLIENT_ID].isin(codes)]
        summary = write_research_export(
            items,
            scores,
            core_project(run.project),
            target,
            left_out=left_out,
            engagement_starts=_engagement_starts(engagement_ids),  # type: ignore[arg-type]
            progress=progress,
        )
    except ResearchExportError as exc:
        run.refresh_from_db(fields=["step", "steps_done", "steps_total"])
        run.status = RunStatus.FAILED
        run.message = str(exc)
        run.left_out = left_out
        run.finished_at = timezone.now()
        run.save()
        logger.info("research export %s failed: %s", run.pk, exc.reason)
        return run
    except Exception:
        # the core removed its partial files; the page must not show "running" forever
        ExportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            message="The export stopped on an internal error; nothing was kept. "
            "The server log names the error.",
            finished_at=timezone.now(),
        )
        logger.exception("research export %s stopped", run.pk)
        raise
    exported = _exported_codes(run.project, items, scores, codes)
    with transaction.atomic():
        run.refresh_from_db(fields=["step", "steps_done", "steps_total"])
        run.status = RunStatus.DONE
        run.file_name = target.name
        run.counts = dict(summary.counts)
        run.left_out = {k: v for k, v in summary.left_out.items() if v}
        run.finished_at = timezone.now()
        run.expires_at = run.finished_at + dt.timedelta(days=KEEP_DAYS)
        run.save()
        for client in included:
            if client.code in exported:
                audit.record(
                    run.requested_by,
                    "research.export.include",
                    client,
                    project_id=run.project_id,
                    run_id=run.pk,
                )
    return run


def _exported_codes(
    project: ExportProject, items: pd.DataFrame, scores: pd.DataFrame, codes: set[str]
) -> set[str]:
    """Consented clients with at least one row of the project's instruments and period."""
    rows = pd.concat(
        [items[[schema.CLIENT_ID, schema.INSTRUMENT, schema.DATE]],
         scores[[schema.CLIENT_ID, schema.INSTRUMENT, schema.DATE]]]
    )  # fmt: skip
    day = pd.to_datetime(rows[schema.DATE]).dt.date
    keep = rows[schema.INSTRUMENT].isin(project.instruments) & day.between(
        project.period_start, project.period_end
    )
    return set(rows.loc[keep, schema.CLIENT_ID]) & codes


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete the zips whose 7 days are over; returns how many runs expired."""
    now = now or timezone.now()
    expired = 0
    for run in ExportRun.objects.filter(status=RunStatus.DONE, expires_at__lte=now):
        if run.file_name:
            (export_dir() / run.file_name).unlink(missing_ok=True)
        run.status = RunStatus.EXPIRED
        run.file_name = ""
        run.save(update_fields=["status", "file_name", "updated_at"])
        expired += 1
    return expired
