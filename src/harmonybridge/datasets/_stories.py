"""Planting named stories (rupture, gap, safety item, sudden gain ...) into latent arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harmonybridge.datasets._latent import Latent, Plan
from harmonybridge.datasets._specs import SERVICE_LINES, THERAPY_LINES

STORY_KINDS: tuple[str, ...] = (
    "repaired_rupture",
    "unrepaired_rupture",
    "not_on_track",
    "practitioner_client_gap",
    "split_alliance_family",
    "safety_item",
    "sudden_gain",
    "checkin_missing",
)

#: Kinds that need a therapy line (PHQ-9) or a family engagement.
THERAPY_ONLY = frozenset({"safety_item", "split_alliance_family"})
#: Minimum scheduled sessions a story needs to be visible.
MIN_STORY_SESSIONS = 8


def _is_therapy(line: int) -> bool:
    return SERVICE_LINES[line] in THERAPY_LINES


def _calm(rng: np.random.Generator, lat: Latent, e: int, clients: np.ndarray) -> None:
    """Give a story engagement a clear, on-track background to tell its story against."""
    n_slots = lat.alliance_client.shape[1]
    lnt = np.log(np.arange(1, n_slots + 1, dtype=float))
    for c in clients:
        lat.alliance_client[c] = 4.25 + 0.1 * lnt + rng.normal(0, 0.1, n_slots)
        lat.phq9[c] = (14 - 2.6 * lnt + rng.normal(0, 1.0, n_slots)).clip(0, 27)
        lat.gad7[c] = (11 - 2.0 * lnt + rng.normal(0, 1.0, n_slots)).clip(0, 21)
        lat.wellbeing[c] = -0.6 + 0.45 * lnt + rng.normal(0, 0.12, n_slots)
        lat.goals[c] = np.where(np.isnan(lat.goals[c]), np.nan, _goal_curves(lnt))
        lat.item9[c] = 0.0
        lat.noise[c] = 0.4  # steadier answers so the story reads at a glance
    lat.rupture_client[clients] = np.nan
    lat.rupture_client[clients, :, 0] = 0.0
    lat.alliance_practitioner[e] = 3.95 + 0.1 * lnt + rng.normal(0, 0.1, n_slots)
    lat.noise_practitioner[e] = 0.4
    lat.rupture_practitioner[e] = np.nan
    lat.rupture_practitioner[e, :, 0] = 0.0


def _goal_curves(lnt: np.ndarray) -> np.ndarray:
    goal = np.arange(3)[None, :]  # each goal moves at its own pace
    result: np.ndarray = (2.8 - 0.6 * goal + (2.3 - 0.4 * goal) * lnt[:, None]).clip(
        0, 10
    )
    return result


def plant(
    rng: np.random.Generator,
    plan: Plan,
    lat: Latent,
    first_client: np.ndarray,
) -> list[dict[str, object]]:
    """Plant every planned story; return one row per story (indices, not ids)."""
    rows: list[dict[str, object]] = []
    for e in np.flatnonzero(plan.story != ""):
        kind = str(plan.story[e])
        clients = first_client[e] + np.arange(plan.members[e])
        _calm(rng, lat, int(e), clients)
        row = _PLANTERS[kind](
            rng, lat, int(e), clients, int(plan.length[e]), _is_therapy(plan.line[e])
        )
        rows.append({"story": kind, "engagement": int(e), **row})
    return rows


def _rupture(lat: Latent, c: int, e: int, s0: int, *, repaired: bool) -> None:
    if repaired:
        lat.alliance_client[c, s0] -= 1.8
        # repair tends to lift the next sessions (Chen et al. 2018)
        lat.alliance_client[c, s0 + 1 :] += 0.4
        lat.rupture_client[c, s0] = (1.0, 4.0, 3.0)
        lat.alliance_practitioner[e, s0] -= 0.6
        lat.rupture_practitioner[e, s0] = (1.0, 3.0, 3.0)
    else:
        lat.alliance_client[c, s0:] -= 1.8
        lat.rupture_client[c, s0] = (1.0, 4.0, 1.0)


def _repaired(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    s0 = length - 4
    _rupture(lat, int(clients[0]), e, s0, repaired=True)
    return {
        "client": int(clients[0]),
        "instrument": "hb_checkin",
        "slot": s0,
        "description": (
            f"client alliance dips sharply at session {s0 + 1} with self-reported tension "
            f"and is back to its earlier level at session {s0 + 2}; the practitioner "
            "also noticed the moment"
        ),
    }


def _unrepaired(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    s0 = length - 3
    c = int(clients[0])
    _rupture(lat, c, e, s0, repaired=False)
    if therapy:
        lat.phq9[c, s0:] = (lat.phq9[c, s0:] + 3.0).clip(0, 27)
    else:
        lat.wellbeing[c, s0:] -= 0.4
    return {
        "client": c,
        "instrument": "hb_checkin",
        "slot": s0,
        "description": (
            f"client alliance drops at session {s0 + 1} (tension reported, not resolved) "
            "and stays down to the latest session; the practitioner's ratings did not move"
        ),
    }


def _not_on_track(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    c = int(clients[0])
    n_slots = lat.phq9.shape[1]
    lnt = np.log(np.arange(1, n_slots + 1, dtype=float))
    if therapy:
        lat.phq9[c] = (14 + 2.0 * lnt + rng.normal(0, 0.8, n_slots)).clip(0, 27)
        lat.gad7[c] = (10 + 1.4 * lnt + rng.normal(0, 0.8, n_slots)).clip(0, 21)
        what, instrument = "PHQ-9 worsens from intake", "phq9"
    else:
        lat.wellbeing[c] = -0.4 - 0.55 * lnt + rng.normal(0, 0.1, n_slots)
        lat.goals[c] = np.where(np.isnan(lat.goals[c]), np.nan, 1.5)
        what, instrument = "WHO-5 falls and goal progress stalls", "who5"
    return {
        "client": c,
        "instrument": instrument,
        "slot": length - 1,
        "description": f"{what} instead of following the expected improvement",
    }


def _gap(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    n_slots = lat.alliance_client.shape[1]
    for c in clients:
        lat.alliance_client[c] = 4.85 + rng.normal(0, 0.05, n_slots)
    lat.alliance_practitioner[e] = 2.2 + rng.normal(0, 0.05, n_slots)
    return {
        "client": int(clients[0]),
        "instrument": "hb_checkin",
        "slot": length - 1,
        "description": (
            "client rates the alliance near the top every session while the "
            "practitioner rates it low: a persistent gap between the two views"
        ),
    }


def _split(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    n_slots = lat.alliance_client.shape[1]
    for c in clients[:-1]:
        lat.alliance_client[c] = 4.85 + rng.normal(0, 0.05, n_slots)
    low = int(clients[-1])
    lat.alliance_client[low] = 2.2 + rng.normal(0, 0.05, n_slots)
    return {
        "client": low,
        "instrument": "hb_checkin",
        "slot": length - 1,
        "description": (
            "split alliance: one family member rates the alliance low at every session "
            "while the others rate it high"
        ),
    }


def _safety(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    c = int(clients[0])
    n_slots = lat.phq9.shape[1]
    lnt = np.log(np.arange(1, n_slots + 1, dtype=float))
    lat.phq9[c] = (16 - 0.6 * lnt + rng.normal(0, 0.8, n_slots)).clip(0, 27)
    lat.item9[c, length - 1] = 1.0
    return {
        "client": c,
        "instrument": "phq9",
        "slot": length - 1,
        "description": "PHQ-9 item 9 (thoughts of self-harm) is above 0 at the latest session",
    }


def _sudden_gain(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    c = int(clients[0])
    n_slots = lat.phq9.shape[1]
    pre = min(4, length - 4)  # slot of the pre-gain session
    after = np.arange(n_slots) > pre
    if therapy:
        lat.phq9[c] = np.where(after, 7.5, 17.0) + rng.normal(0, 0.6, n_slots)
        lat.gad7[c] = np.where(after, 6.0, 12.0) + rng.normal(0, 0.6, n_slots)
        instrument, what = "phq9", "PHQ-9 falls by about 9-10 points"
    else:
        lat.wellbeing[c] = np.where(after, 1.0, -1.0) + rng.normal(0, 0.08, n_slots)
        instrument, what = "who5", "WHO-5 rises by about 30 points"
    return {
        "client": c,
        "instrument": instrument,
        "slot": pre,
        "description": (
            f"sudden gain: {what} between sessions {pre + 1} and {pre + 2} "
            "and stays improved"
        ),
    }


def _checkin_missing(rng, lat, e, clients, length, therapy):  # type: ignore[no-untyped-def]
    # The missing answers themselves are made in _engine.session_grid.
    return {
        "client": int(clients[0]),
        "instrument": "hb_checkin",
        "slot": length - 1,
        "description": (
            f"the client's check-in after the latest session ({length}) has not come "
            "back; the practitioner's has"
        ),
    }


_PLANTERS: dict[str, Callable[..., Any]] = {
    "repaired_rupture": _repaired,
    "unrepaired_rupture": _unrepaired,
    "not_on_track": _not_on_track,
    "practitioner_client_gap": _gap,
    "split_alliance_family": _split,
    "safety_item": _safety,
    "sudden_gain": _sudden_gain,
    "checkin_missing": _checkin_missing,
}
