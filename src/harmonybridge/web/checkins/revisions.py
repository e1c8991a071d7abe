"""Correct a stored response: the earlier answers are kept as a revision, then rescored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

import harmonybridge
from harmonybridge.web import audit
from harmonybridge.web.checkins import storage
from harmonybridge.web.checkins.models import (
    Answer,
    Response,
    ResponseRevision,
    Score,
)
from harmonybridge.web.practice import catalogue


def _plain(value: float | None) -> float | int | None:
    """A stored answer as JSON: whole numbers without ".0"."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def correct_response(
    response: Response,
    inst: Any,
    answers: Mapping[int, Any],
    user: Any,
    request: Any,
) -> ResponseRevision:
    """Replace a response's answers and scores; keep the old answers; audit it.

    The caller checks that ``user`` may correct this response (their own rating).
    """
    with transaction.atomic():
        locked = Response.objects.select_for_update().get(pk=response.pk)
        revision = ResponseRevision.objects.create(
            response=locked,
            answers={str(a.item): _plain(a.value) for a in locked.answers.all()},
            instrument_version=locked.instrument_version,
            submitted_at=locked.submitted_at,
            revised_by=user,
        )
        locked.answers.all().delete()
        Answer.objects.bulk_create(
            Answer(response=locked, item=item, value=value)
            for item, value in answers.items()
        )
        locked.scores.all().delete()
        version = harmonybridge.__version__
        Score.objects.bulk_create(
            Score(response=locked, subscale=s, value=v, band=b, library_version=version)
            for s, v, b in storage.score_rows(
                catalogue.scoring_instrument(inst.id), answers
            )
        )
        locked.instrument_version = inst.version
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["instrument_version", "submitted_at", "updated_at"])
        audit.record(
            user,
            "session.rate_correct",
            locked.session,
            request=request,
            engagement_id=locked.session.engagement_id,
            instrument=inst.id,
            revision_id=revision.pk,
        )
        # also raises the practice's data stamp (datastamp.touch_engagement), which the
        # bulk writes above do not
        storage._after_commit(locked.session.engagement_id)
    return revision
