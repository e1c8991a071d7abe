"""Chart markers built from other frames: sessions, rupture episodes, sudden gains."""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmonybridge import schema
from harmonybridge.reports._svg.model import fmt

# --- markers from other frames ---------------------------------------------------------------


def markers_from_sessions(sessions: pd.DataFrame) -> list[dict[str, Any]]:
    """Return missed-session and modality-change markers from one engagement's sessions.

    Parameters
    ----------
    sessions : pandas.DataFrame
        ``session``, ``attendance`` (attended, cancelled, no_show) and optionally
        ``modality``, as in :attr:`harmonybridge.datasets.SimulatedPractice.sessions`.

    Returns
    -------
    list of dict
        ``kind``, ``session``, ``label`` for each session not attended and each change
        of modality from the previous attended session.
    """
    data = schema.validate_long(
        sessions,
        required=[schema.SESSION, "attendance"],
        numeric=[schema.SESSION],
        name="sessions",
    )
    data = data.sort_values(schema.SESSION)
    out: list[dict[str, Any]] = []
    previous = None
    for row in data.to_dict("records"):
        session = int(row[schema.SESSION])
        attendance = str(row["attendance"])
        if attendance != "attended":
            out.append(
                {
                    "kind": "missed_session",
                    "session": session,
                    "label": f"session {session} {attendance.replace('_', ' ')}",
                }
            )
            continue
        modality = row.get("modality")
        if modality is not None and previous is not None and modality != previous:
            out.append(
                {
                    "kind": "modality_change",
                    "session": session,
                    "label": f"changed from {str(previous).replace('_', ' ')} to {str(modality).replace('_', ' ')}",
                }
            )
        previous = modality if modality is not None else previous
    return out


def markers_from_ruptures(events: pd.DataFrame) -> list[dict[str, Any]]:
    """Return rupture and repair markers from :func:`harmonybridge.change.detect_ruptures` rows.

    Parameters
    ----------
    events : pandas.DataFrame
        ``onset_session``, ``source`` and ``repair_session`` (missing when unrepaired),
        optionally ``rater`` and ``type``.

    Returns
    -------
    list of dict
        A ``rupture`` marker at each onset (``source`` kept) and a ``repair`` marker at
        each repair session.
    """
    data = schema.validate_long(
        events, required=["onset_session", "source"], name="events"
    )
    out: list[dict[str, Any]] = []
    for row in data.to_dict("records"):
        source = str(row["source"])
        rater = row.get("rater")
        who = f"{rater} " if isinstance(rater, str) and rater else ""
        onset = int(row["onset_session"])
        out.append(
            {
                "kind": "rupture",
                "session": onset,
                "source": source,
                "label": f"{who}rupture ({source.replace('_', ' ')})".strip(),
            }
        )
        repair = row.get("repair_session")
        if repair is not None and not pd.isna(repair):
            out.append(
                {
                    "kind": "repair",
                    "session": int(repair),
                    "source": source,
                    "label": f"{who}repair of the session {onset} rupture".strip(),
                }
            )
    return out


def markers_from_sudden_gains(
    gains: pd.DataFrame, *, losses: bool = False
) -> list[dict[str, Any]]:
    """Return sudden-gain (or loss) markers from :func:`harmonybridge.change.sudden_gains` rows.

    Parameters
    ----------
    gains : pandas.DataFrame
        ``pregain_session``, ``postgain_session`` and optionally ``magnitude``.
    losses : bool
        The rows are sudden losses (``sudden_gains(..., losses=True)``).

    Returns
    -------
    list of dict
        One marker per row at the post-gain session.
    """
    data = schema.validate_long(
        gains, required=["pregain_session", "postgain_session"], name="gains"
    )
    kind = "sudden_loss" if losses else "sudden_gain"
    out: list[dict[str, Any]] = []
    for row in data.to_dict("records"):
        size = row.get("magnitude")
        what = kind.replace("_", " ")
        if size is not None and not pd.isna(size):
            what += f" of {fmt(abs(float(size)))} points"
        pre, post = int(row["pregain_session"]), int(row["postgain_session"])
        out.append(
            {
                "kind": kind,
                "session": post,
                "label": f"{what} (sessions {pre} to {post})",
            }
        )
    return out
