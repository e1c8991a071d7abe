"""Alliance insights in the task worker: queue a fit, report progress, cache the figures.

Entries live under :func:`harmonybridge.web.ops.cache.practice_key` (the encrypted cache;
erasing a client of the practice drops them) and carry the practice's data version, so
new scores make a new computation and an old result is never shown as current.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Literal

from django.core.cache import cache
from django_tasks import task

from harmonybridge.web.insights.analyses import Filters, compute, data_version
from harmonybridge.web.ops.cache import practice_key
from harmonybridge.web.practice.policy import InsightsScope

log = logging.getLogger(__name__)

#: How long a result stays (it is keyed by the data version, so it is never stale).
RESULT_SECONDS = 7 * 24 * 3600
#: A queued or running fit not heard of for this long is queued again (a worker died).
PROGRESS_SECONDS = 15 * 60


def result_key(scope: InsightsScope, filters: Filters, version: str) -> str:
    return practice_key(scope.practice_id, "alliance", version, scope.key, filters.key)


def progress_key(key: str) -> str:
    return key + ":progress"


def cached(scope: InsightsScope, filters: Filters) -> tuple[str, Any]:
    """``(key, figures or None)`` for the current data version."""
    key = result_key(scope, filters, data_version(scope.practice_id))
    return key, cache.get(key)


def progress(key: str) -> dict[str, Any] | None:
    return cache.get(progress_key(key))


def request_fit(key: str, scope: InsightsScope, filters: Filters) -> None:
    """Queue the fit once (a second request while it is queued or running does nothing)."""
    if cache.add(
        progress_key(key),
        {"done": 0, "total": 0, "step": "queued"},
        PROGRESS_SECONDS,
    ):
        fit_alliance_insights.enqueue(
            key,
            {
                "practice_id": scope.practice_id,
                "own_practitioner": scope.own_practitioner,
                "pseudonymised": scope.pseudonymised,
                "predictions": scope.predictions,
            },
            filters.as_task_args(),
        )


FitStateName = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True)
class FitState:
    """Where the figures of one scope, filters and data version stand."""

    key: str
    state: FitStateName
    result: dict[str, Any] | None = None
    step: str = ""
    done: int = 0
    total: int = 0


def fit_state(
    scope: InsightsScope, filters: Filters, key: str | None = None
) -> FitState:
    """The figures when cached, else queue the fit (once) and say how far it is.

    The one reading of the cache and the progress that the page and the API share;
    ``key`` pins a data version (a status URL), else the current one is used.
    """
    if key is None:
        key = cached(scope, filters)[0]
    result = cache.get(key)
    if result is None:
        request_fit(key, scope, filters)
        result = cache.get(key)  # the immediate backend (demo, tests) ran it
    if result is not None:
        if result.get("failed"):
            return FitState(key, "failed")
        return FitState(key, "done", result)
    seen = progress(key) or {"done": 0, "total": 0, "step": "queued"}
    step = str(seen.get("step") or "queued")
    return FitState(
        key,
        "queued" if step == "queued" else "running",
        None,
        step,
        int(seen.get("done") or 0),
        int(seen.get("total") or 0),
    )


def status_id(key: str) -> str:
    """An opaque id of one fit (of one scope, filters and data version)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _status_key(practice_id: int, sid: str) -> str:
    return practice_key(practice_id, "alliance-status", sid)


def remember(scope: InsightsScope, filters: Filters, key: str) -> str:
    """Keep what a status id stands for (in the practice's cache); return the id."""
    sid = status_id(key)
    cache.set(
        _status_key(scope.practice_id, sid),
        {"key": key, "scope": scope.key, "filters": filters.as_task_args()},
        RESULT_SECONDS,
    )
    return sid


def recall(scope: InsightsScope, sid: str) -> tuple[str, Filters] | None:
    """``(key, filters)`` of a status id this scope asked for, else None."""
    entry = cache.get(_status_key(scope.practice_id, sid))
    if not entry or entry.get("scope") != scope.key:
        return None
    return str(entry["key"]), Filters.from_task_args(entry["filters"])


@task()
def fit_alliance_insights(
    key: str, scope_args: dict[str, Any], filter_args: dict[str, Any]
) -> int:
    """Compute the figures and cache them under ``key``; returns how many outcomes."""
    scope = InsightsScope(**scope_args)
    filters = Filters.from_task_args(filter_args)

    def report(step: str, done: int, total: int) -> None:
        cache.set(
            progress_key(key),
            {"done": done, "total": total, "step": step},
            PROGRESS_SECONDS,
        )

    try:
        result = compute(scope, filters, progress=report)
    except Exception:
        # ids only in the log; the page says the computation failed instead of polling on
        log.exception("alliance insights failed for practice %s", scope.practice_id)
        cache.set(key, {"failed": True}, PROGRESS_SECONDS)
        return -1
    finally:
        cache.delete(progress_key(key))
    cache.set(key, result, RESULT_SECONDS)
    return len(result["outcomes"])
