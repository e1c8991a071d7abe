"""Join detected, self-reported and practitioner-recorded ruptures into one episode list.

Pure pandas (no database, no Django): the views pass frames built by
``checkins/frames.py``; the tests pass hand-made frames.

Joining rule
------------
Each signal covers a span of sessions of one engagement. A detected or self-reported
event (:func:`harmonybridge.change.detect_ruptures` rows) lasts from its onset until
the session before its repair; an event never repaired stays open for
``repair_window`` sessions after its nadir (the strain goes on, so what the
practitioner records then belongs to it). A practitioner's record covers its own
session. Spans are sorted by their first session and merged into one episode while
the next span starts no more than ``gap`` sessions after the episode's end (``gap=1``:
a rupture the client reports at session 5 and the practitioner records at session 6
are one episode).

Repair status. Detected signals alone: ``repaired`` when every one of them was
repaired, ``partly_repaired`` when some were, otherwise ``open`` while a repair window
is still running and ``unrepaired`` when it has elapsed. The practitioner's latest
record (yes / partly / no) takes precedence, unless every detected signal was repaired
at a session after that record (the latest evidence wins).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harmonybridge import schema
from harmonybridge.errors import DataValidationError

__all__ = ["EPISODE_COLUMNS", "REPAIR_STATUSES", "join_episodes"]

#: Repair statuses, from best to worst.
REPAIR_STATUSES: tuple[str, ...] = ("repaired", "partly_repaired", "open", "unrepaired")
_RECORD_STATUS = {"yes": "repaired", "partly": "partly_repaired", "no": "unrepaired"}

EPISODE_COLUMNS: tuple[str, ...] = (
    schema.ENGAGEMENT_ID,
    "episode",
    "first_session",
    "last_session",
    "sources",
    "respondents",
    "detected_types",
    "repair_session",
    "record_ids",
    "record_sessions",
    "markers",
    "strategies",
    "recorded_resolution",
    "status",
)
_DETECTED = (schema.ENGAGEMENT_ID, "source", "onset_session", "nadir_session")
_RECORDS = (schema.ENGAGEMENT_ID, schema.SESSION, "resolved")


def _check(frame: pd.DataFrame, name: str, required: tuple[str, ...]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"{name} must be a pandas DataFrame")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{name} has no column {missing[0]!r}; needed: {', '.join(required)}"
        )


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _signals(
    detected: pd.DataFrame, records: pd.DataFrame, repair_window: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in detected.to_dict("records"):
        onset = int(row["onset_session"])
        nadir: Any = row.get("nadir_session")
        end = onset if _is_missing(nadir) else max(onset, int(nadir))
        repair: Any = row.get("repair_session")
        repair = None if _is_missing(repair) else int(repair)
        reach = max(end, repair - 1) if repair is not None else end + repair_window
        out.append(
            {
                "eid": row[schema.ENGAGEMENT_ID],
                "start": onset,
                "end": end,
                "reach": reach,
                "source": str(row["source"]),
                "respondent": row.get(schema.RESPONDENT_ID),
                "type": row.get("type"),
                "repair": repair,
                "record": None,
            }
        )
    for row in records.to_dict("records"):
        resolved = str(row["resolved"])
        if resolved not in _RECORD_STATUS:
            raise DataValidationError(
                f"records column 'resolved' holds {resolved!r}; allowed: yes, partly, no"
            )
        session = int(row[schema.SESSION])
        out.append(
            {
                "eid": row[schema.ENGAGEMENT_ID],
                "start": session,
                "end": session,
                "reach": session,
                "source": "practitioner_record",
                "respondent": None,
                "type": None,
                "repair": None,
                "record": row,
            }
        )
    return out


def _status(group: list[dict[str, Any]]) -> tuple[str, str, float]:
    """Return (status, recorded resolution, detected repair session) of one episode."""
    detected = [s for s in group if s["record"] is None]
    repairs = [s["repair"] for s in detected if s["repair"] is not None]
    all_repaired = bool(detected) and len(repairs) == len(detected)
    repair = float(max(repairs) if all_repaired else min(repairs, default=math.nan))
    recs = [s for s in group if s["record"] is not None]
    latest = max(
        recs, key=lambda s: (s["start"], str(s["record"].get("id", ""))), default=None
    )
    recorded = "" if latest is None else str(latest["record"]["resolved"])
    if latest is not None and not (all_repaired and max(repairs) > latest["start"]):
        return _RECORD_STATUS[recorded], recorded, repair
    if all_repaired:
        return "repaired", recorded, repair
    if repairs:
        return "partly_repaired", recorded, repair
    if any(str(s["type"]) == "censored" for s in detected):
        return "open", recorded, repair
    return "unrepaired", recorded, repair


def _unique(values: Any) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(v for v in values if not _is_missing(v) and v != ""))


def _episode(eid: Any, number: int, group: list[dict[str, Any]]) -> dict[str, Any]:
    status, recorded, repair = _status(group)
    recs = [s["record"] for s in group if s["record"] is not None]
    return {
        schema.ENGAGEMENT_ID: eid,
        "episode": number,
        "first_session": min(s["start"] for s in group),
        "last_session": max(s["end"] for s in group),
        "sources": tuple(sorted({s["source"] for s in group})),
        "respondents": _unique(s["respondent"] for s in group),
        "detected_types": _unique(s["type"] for s in group if s["record"] is None),
        "repair_session": repair,
        "record_ids": _unique(r.get("id") for r in recs),
        "record_sessions": tuple(int(r[schema.SESSION]) for r in recs),
        "markers": _unique(m for r in recs for m in (r.get("markers") or ())),
        "strategies": _unique(m for r in recs for m in (r.get("strategies") or ())),
        "recorded_resolution": recorded,
        "status": status,
    }


def join_episodes(
    detected: pd.DataFrame,
    records: pd.DataFrame,
    *,
    gap: int = 1,
    repair_window: int = 3,
) -> pd.DataFrame:
    """Return one row per rupture episode with all its sources and its repair status.

    ``detected``: rows of ``detect_ruptures`` (``engagement_id``, ``source``,
    ``onset_session``, ``nadir_session``, optional ``repair_session``, ``type``,
    ``respondent_id``). ``records``: the practitioner's records (``engagement_id``,
    ``session``, ``resolved`` in yes/partly/no, optional ``id``, ``markers``,
    ``strategies``). ``repair_window`` is the detector's (3). Columns of the result:
    :data:`EPISODE_COLUMNS`, sorted by engagement and first session; ``last_session``
    is the latest observed session (nadir or record); inputs are not changed.
    """
    _check(detected, "detected", _DETECTED)
    _check(records, "records", _RECORDS)
    for name, value in (("gap", gap), ("repair_window", repair_window)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DataValidationError(
                f"{name} must be a whole number ≥ 0, got {value!r}"
            )
    signals = sorted(
        _signals(detected, records, repair_window),
        key=lambda s: (str(s["eid"]), s["start"], s["end"]),
    )
    rows: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    for s in signals:
        same = bool(group) and s["eid"] == group[0]["eid"]
        if same and s["start"] <= max(g["reach"] for g in group) + gap:
            group.append(s)
            continue
        if group:
            rows.append(_episode(group[0]["eid"], _number(rows, group), group))
        group = [s]
    if group:
        rows.append(_episode(group[0]["eid"], _number(rows, group), group))
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EPISODE_COLUMNS})
    return pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))


def _number(rows: list[dict[str, Any]], group: list[dict[str, Any]]) -> int:
    """Episode number within its engagement (1, 2, ...)."""
    eid = group[0]["eid"]
    return 1 + sum(1 for r in rows if r[schema.ENGAGEMENT_ID] == eid)


#: Alliance and rupture-question rows that feed the rupture detector.
_RUPTURE_INPUT_SUBSCALES = (
    "",
    "rupture_present",
    "rupture_intensity",
    "rupture_resolution",
)


def detect_episodes(
    scores: pd.DataFrame,
    records: pd.DataFrame,
    *,
    alliance_instruments: tuple[str, ...],
    reference_sd: Any = None,
    gap: int = 1,
) -> pd.DataFrame:
    """Detect ruptures in the alliance scores, then join them with the records.

    ``scores`` is the canonical score frame; only the totals and rupture-question rows
    of ``alliance_instruments`` are screened (prospective defaults of
    :func:`harmonybridge.change.detect_ruptures`).
    """
    import warnings

    from harmonybridge.change import detect_ruptures
    from harmonybridge.errors import HarmonyBridgeWarning

    keep = scores[schema.INSTRUMENT].isin(alliance_instruments) & scores[
        schema.SUBSCALE
    ].isin(_RUPTURE_INPUT_SUBSCALES)
    alliance = scores.loc[keep]
    if alliance.empty:
        detected = pd.DataFrame(columns=list(_DETECTED))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HarmonyBridgeWarning)
            detected = detect_ruptures(alliance, reference_sd=reference_sd)
    return join_episodes(detected, records, gap=gap)
