"""Reading one engagement's scores into chart lines, markers and text summaries."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.errors import DataValidationError
from harmonybridge.reports._svg.geometry import marker_name, missing_sessions
from harmonybridge.reports._svg.model import MARKER_KINDS, Marker, Series, fmt

# --- input ----------------------------------------------------------------------------


def one_engagement(scores: object) -> pd.DataFrame:
    data = schema.validate_long(
        scores,
        required=[
            schema.SESSION,
            schema.RESPONDENT_ID,
            schema.INSTRUMENT,
            schema.SCORE,
        ],
        numeric=[schema.SESSION, schema.SCORE],
        name="scores",
    )
    if (
        schema.ENGAGEMENT_ID in data.columns
        and data[schema.ENGAGEMENT_ID].nunique() > 1
    ):
        raise DataValidationError(
            f"scores hold {data[schema.ENGAGEMENT_ID].nunique()} engagements in column "
            "'engagement_id'; a chart shows one engagement, filter the frame first"
        )
    if schema.SUBSCALE not in data.columns:
        data = data.assign(**{schema.SUBSCALE: ""})
    if schema.RATER_ROLE not in data.columns:
        data = data.assign(**{schema.RATER_ROLE: "client"})
    return data.assign(**{schema.SUBSCALE: data[schema.SUBSCALE].fillna("")})


def points(frame: pd.DataFrame) -> tuple[tuple[int, float], ...]:
    session = frame[schema.SESSION].to_numpy(dtype=float)
    score = frame[schema.SCORE].to_numpy(dtype=float)
    keep = ~np.isnan(score) & ~np.isnan(session)
    session, score = session[keep], score[keep]
    order = np.argsort(session, kind="stable")
    session, score = session[order].astype(int), score[order]
    if len(session) > 1 and (np.diff(session) == 0).any():
        dup = int(session[1:][np.diff(session) == 0][0])
        raise DataValidationError(
            f"one line has two scores at session {dup}; the key (engagement_id, session, "
            "respondent_id, instrument, subscale) must be unique"
        )
    return tuple(zip(session.tolist(), score.tolist(), strict=True))


def step(frame: pd.DataFrame) -> int:
    """The series' schedule from every row it has, a missing score included."""
    sessions = np.unique(frame[schema.SESSION].dropna().astype(int).to_numpy())
    return int(np.diff(sessions).min()) if len(sessions) > 1 else 1


def parse_markers(markers: Iterable[Mapping[str, Any]] | None) -> tuple[Marker, ...]:
    out = []
    for m in markers or ():
        kind = m.get("kind")
        if kind not in MARKER_KINDS:
            raise DataValidationError(
                f"marker kind {kind!r} is not known; allowed: {', '.join(MARKER_KINDS)}"
            )
        session = m.get("session")
        if isinstance(session, bool) or not isinstance(
            session, int | np.integer | float
        ):
            raise DataValidationError(
                f"marker session must be a number, got {session!r}"
            )
        if isinstance(session, float) and (
            math.isnan(session) or session != int(session)
        ):
            raise DataValidationError(
                f"marker session must be a whole number, got {session!r}"
            )
        out.append(
            Marker(
                str(kind),
                int(session),
                str(m.get("label") or ""),
                str(m.get("source") or ""),
            )
        )
    return tuple(sorted(out, key=lambda x: (x.session, MARKER_KINDS.index(x.kind))))


def label(
    row_role: str, respondent: str, labels: Mapping[str, str] | None, n_prac: int
) -> str:
    if labels and respondent in labels:
        return str(labels[respondent])
    if row_role == "practitioner":
        return "Practitioner" if n_prac <= 1 else f"Practitioner {respondent}"
    return f"Client {respondent}"


# --- summaries -------------------------------------------------------------------------


def ranges(sessions: Sequence[int]) -> str:
    runs: list[list[int]] = []
    for s in sessions:
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs)


def describe(
    title: str,
    series: Sequence[Series],
    markers: Sequence[Marker],
    extra: Sequence[str],
    decimals: int = 1,
) -> str:
    f = lambda v: fmt(v, decimals)  # noqa: E731 - local formatter
    sessions = sorted({s for x in series for s, _ in x.points})
    parts = [
        f"{title}: sessions {sessions[0]} to {sessions[-1]}."
        if sessions
        else f"{title}."
    ]
    for x in series:
        if not x.points:
            continue
        (s0, v0), (s1, v1) = x.points[0], x.points[-1]
        lo = min(x.points, key=lambda p: p[1])
        hi = max(x.points, key=lambda p: p[1])
        text = f"{x.label}: {len(x.points)} score{'s' if len(x.points) != 1 else ''}"
        if len(x.points) == 1:
            text += f", {f(v0)} at session {s0}"
        else:
            text += (
                f", first {f(v0)} (session {s0}), latest {f(v1)} (session {s1}), "
                f"lowest {f(lo[1])} (session {lo[0]}), highest {f(hi[1])} (session {hi[0]})"
            )
        missing = missing_sessions(x.points, x.step)
        if missing:
            text += f"; no score at session{'s' if len(missing) > 1 else ''} {ranges(missing)}"
        parts.append(text + ".")
    parts.extend(extra)
    if markers:
        events = "; ".join(
            (m.label or marker_name(m.kind))
            + f" at session {m.session}"
            + (f" ({m.source.replace('_', ' ')})" if m.source else "")
            for m in markers
        )
        parts.append(f"Events: {events}.")
    return " ".join(parts)
