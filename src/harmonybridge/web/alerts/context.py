"""The practice's alert context, fitted on its closed engagements and stored, read on each save."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

from django.db import transaction
from django.utils import timezone

from harmonybridge import __version__
from harmonybridge.alerts import AlertContext
from harmonybridge.errors import HarmonyBridgeWarning
from harmonybridge.web.alerts.curves import curve_sets_for
from harmonybridge.web.alerts.models import AlertReference
from harmonybridge.web.checkins import frames
from harmonybridge.web.practice.models import Engagement, EngagementStatus

__all__ = ["build_context", "practice_context", "refresh_alert_reference"]

#: ``{practice_id: (fitted_at, AlertContext)}``: parsed contexts of this process, reused
#: while the stored row's ``fitted_at`` is unchanged.
_PARSED: dict[int, tuple[Any, Any]] = {}


def json_safe(value: Any) -> Any:
    """NaN and infinities as null: JSON (and PostgreSQL's jsonb) has no NaN."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _library_version() -> str:

    return str(__version__)


def build_context(practice_id: int) -> tuple[Any, int] | None:
    """Fit the practice's alert context on its CLOSED engagements (None when it has none).

    The reference set is fixed history, never the data being screened: active
    engagements never enter it. Curve sets are the practice's cached ones
    (``alerts.curves.curve_sets_for``), not refitted here.
    """

    closed = list(
        Engagement.objects.filter(
            practice_id=practice_id, status=EngagementStatus.CLOSED
        ).values_list("pk", flat=True)
    )
    if not closed:
        return None
    reference = frames.stored_scores(engagement_ids=closed)
    if reference.empty:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        ctx = AlertContext.from_reference(reference, fit_curves=False)
    ctx = dataclasses.replace(ctx, curve_sets=curve_sets_for(practice_id))
    return ctx, len(closed)


def refresh_alert_reference(practice_id: int) -> AlertReference | None:
    """Rebuild and store the practice's alert context; None when it has no closed work."""
    built = build_context(practice_id)
    if built is None:
        AlertReference.objects.filter(practice_id=practice_id).delete()
        _PARSED.pop(practice_id, None)
        return None
    ctx, n = built
    # Only the references are stored: the rule table comes from the installed library
    # when the context is read, so an upgraded rule applies without a refit.
    stored = {k: v for k, v in ctx.to_dict().items() if k != "rules"}
    with transaction.atomic():
        ref, _ = AlertReference.objects.update_or_create(
            practice_id=practice_id,
            defaults={
                "context": json_safe(stored),
                "fitted_at": timezone.now(),
                "library_version": _library_version(),
                "n_engagements": n,
            },
        )
    _PARSED.pop(practice_id, None)  # read back from the stored JSON on next use
    return ref


def practice_context(practice_id: int | None) -> Any:
    """The practice's stored alert context; ``AlertContext()`` when it has none yet.

    Reads the stored row (one query); never fits anything, so a check-in save
    stays cheap. Refit with the ``refresh_alert_reference`` command.
    """

    if practice_id is None:
        return AlertContext()
    ref = (
        AlertReference.objects.filter(practice_id=practice_id)
        .only("context", "fitted_at")
        .first()
    )
    if ref is None:
        _PARSED.pop(practice_id, None)
        return AlertContext()
    cached = _PARSED.get(practice_id)
    if cached is not None and cached[0] == ref.fitted_at:
        return cached[1]
    try:
        ctx = AlertContext.from_dict(ref.context)
    except (KeyError, TypeError, ValueError):
        return AlertContext()  # stored by an older version: refresh_alert_reference
    _PARSED[practice_id] = (ref.fitted_at, ctx)
    return ctx
