"""Warm a web process at start, so that no request pays for imports or first calls.

The first dashboard after a restart used to take seconds: the request imported pandas,
scipy.stats and the curve code, built the URL resolver, compiled the templates and ran the
core's analyses for the first time. ``warm()`` does all of that when the process starts
(``wsgi.py`` calls it; with gunicorn's ``--preload`` once in the master, before the
workers fork). It reads no database and no client data: the analyses run on a few rows
of synthetic scores.
"""

from __future__ import annotations

import logging
import time
import warnings

logger = logging.getLogger(__name__)

#: Templates of the pages people wait for (check-in screens, dashboard, caseload).
TEMPLATES = (
    "checkins/step.html",
    "checkins/done.html",
    "insights/dashboard.html",
    "insights/caseload.html",
    "insights/report.html",
)


def _exercise_core() -> None:
    """Run the analyses the dashboard uses once on synthetic rows (first-call costs)."""
    import pandas as pd

    from harmonybridge.change import (
        detect_ruptures,
        predict_bands,  # noqa: F401  (expected-response bands of the charts)
        reliable_change,
        sudden_gains,
    )
    from harmonybridge.reports import charts

    scores = pd.DataFrame(
        {
            "engagement_id": ["W"] * 6,
            "respondent_id": ["C"] * 6,
            "rater_role": ["client"] * 6,
            "instrument": ["phq9"] * 6,
            "subscale": [""] * 6,
            "session": [1, 2, 3, 4, 5, 6],
            "score": [20.0, 19.0, 12.0, 11.0, 10.0, 9.0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sudden_gains(scores, id="engagement_id", cutoff=5)
        reliable_change(scores, id="engagement_id", instrument="phq9")
        alliance = scores.assign(
            instrument="hb_checkin", score=[4.5, 4.4, 3.0, 4.2, 4.3, 4.4]
        )
        detect_ruptures(alliance, id=["engagement_id", "respondent_id"], min_history=2)
        charts.outcome_chart(scores, instrument="phq9")
        charts.alliance_chart(alliance)


def warm() -> float:
    """Import and exercise what requests need; returns the seconds it took."""
    start = time.perf_counter()
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    for name in TEMPLATES:
        get_template(name)
    try:
        _exercise_core()
    except Exception:  # warming is an optimisation: never stop the server for it
        logger.warning("warm-up of the analyses failed; first requests will be slower")
    took = time.perf_counter() - start
    logger.info("process warmed in %.1f s", took)
    return took
