"""Turn an engagement plan into sessions, latent trajectories, items and scores (vectorised)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge.datasets import _latent, _stories
from harmonybridge.datasets._latent import Latent, Plan
from harmonybridge.datasets._specs import (
    ATTENDANCE,
    INSTRUMENT_ORDER,
    ITEM_COLUMNS,
    LAYOUTS,
    MODALITIES,
    SCORE_COLUMNS,
    SERVICE_LINES,
    THERAPY_LINES,
    score_matrix,
)

_THERAPY = np.array([line in THERAPY_LINES for line in SERVICE_LINES])
_OFFSETS = {
    "phq9": np.array([0.15, 0.25, 0.3, 0.35, 0.05, 0.1, 0.05, -0.25, -1.0]),
    "gad7": np.array([0.1, 0.15, 0.2, 0.1, -0.3, 0.05, -0.3]),
    "who5": np.array([0.1, -0.1, -0.1, -0.2, 0.3]),
    "swls": np.array([0.2, 0.0, 0.3, 0.0, -0.5]),
    "fs": np.array([0.1, 0.0, 0.1, 0.2, 0.1, 0.4, -0.2, -0.7]),
}
_ALLIANCE_OFFSETS = np.array([0.0, -0.08, 0.08])  # goal, task, bond


@dataclass
class Grid:
    """Session grid and client index arrays shared by every step."""

    n_slots: int
    valid: np.ndarray  # (E, S) scheduled
    attendance: np.ndarray  # (E, S) index into ATTENDANCE
    modality: np.ndarray  # (E, S)
    day: np.ndarray  # (E, S) day offset relative to as_of
    cl_eng: np.ndarray  # (C,)
    member: np.ndarray  # (C,)
    first_client: np.ndarray  # (E,)
    client_obs: np.ndarray  # (C, S) client check-in completed
    prac_obs: np.ndarray  # (E, S) practitioner check-in completed


def session_grid(rng: np.random.Generator, plan: Plan) -> Grid:
    """Draw attendance, modality, dates and which check-ins were completed."""
    n_e = plan.n_engagements
    n_slots = int(plan.length.max()) if n_e else 0
    slots = np.arange(n_slots)
    valid = slots < plan.length[:, None]
    story = plan.story != ""
    u = rng.random((n_e, n_slots))
    att = np.where(u < 0.87, 0, np.where(u < 0.95, 1, 2))
    att[:, :1] = 0
    att[story] = 0
    closed = np.flatnonzero(~plan.active & (plan.length > 0))
    att[closed, plan.length[closed] - 1] = 0  # a closed engagement ends with a session
    base = rng.choice(len(MODALITIES), n_e, p=[0.5, 0.35, 0.1, 0.05])
    change = rng.random((n_e, n_slots)) < 0.04
    change[:, :1] = False
    since = np.maximum.accumulate(np.where(change, slots, 0), axis=1)
    drawn = rng.integers(0, len(MODALITIES), (n_e, n_slots))
    modality = np.where(
        since == 0, base[:, None], np.take_along_axis(drawn, since, axis=1)
    )
    interval = np.where(_THERAPY[plan.line], 7, 14)
    jitter = rng.integers(0, 3, (n_e, n_slots))
    jitter[:, :1] = 0
    day = plan.start[:, None] + slots * interval[:, None] + jitter
    cl_eng = np.repeat(np.arange(n_e), plan.members)
    first_client = np.cumsum(plan.members) - plan.members
    member = np.arange(len(cl_eng)) - first_client[cl_eng]
    attended = valid & (att == 0)
    client_obs = attended[cl_eng] & (rng.random((len(cl_eng), n_slots)) > 0.06)
    client_obs[story[cl_eng]] = attended[cl_eng][story[cl_eng]]
    prac_obs = attended & (rng.random((n_e, n_slots)) > 0.03)
    prac_obs[story] = attended[story]
    silent = plan.story[cl_eng] == "checkin_missing"  # story: latest check-in missing
    client_obs[silent, plan.length[cl_eng][silent] - 1] = False
    return Grid(
        n_slots,
        valid,
        att,
        modality,
        day,
        cl_eng,
        member,
        first_client,
        client_obs,
        prac_obs,
    )


def latent_state(
    rng: np.random.Generator, plan: Plan, grid: Grid
) -> tuple[Latent, list[Any]]:
    """Draw every latent trajectory, background events and the planted stories."""
    n_slots, cl_eng = grid.n_slots, grid.cl_eng
    n_c = len(cl_eng)
    z_c, a_c, a_p, _ = _latent.alliance(rng, plan, cl_eng, n_slots)
    phq, gad = _latent.symptoms(rng, plan, cl_eng, z_c, n_slots)
    well = _latent.wellbeing(rng, plan, cl_eng, z_c, n_slots)
    n_goals = rng.choice([1, 2, 3], plan.n_engagements, p=[0.2, 0.4, 0.4])[cl_eng]
    lat = Latent(
        z_client=z_c,
        alliance_client=a_c,
        alliance_practitioner=a_p,
        rupture_client=_latent.empty_reports(n_c, n_slots),
        rupture_practitioner=_latent.empty_reports(plan.n_engagements, n_slots),
        phq9=phq,
        gad7=gad,
        wellbeing=well,
        goals=_latent.goal_ratings(rng, n_goals, z_c * 0.1 + 0.3, n_slots),
        item9=np.full((n_c, n_slots), np.nan),
        noise=np.ones(n_c),
        noise_practitioner=np.ones(plan.n_engagements),
    )
    length_c = plan.length[cl_eng]
    unrepaired = _latent.background_ruptures(rng, lat, length_c, cl_eng)
    after = np.arange(n_slots) >= unrepaired[:, None]
    lat.phq9 = (lat.phq9 + 2.0 * after).clip(0, 27)
    lat.wellbeing -= 0.3 * after
    _latent.minor_tension(rng, lat.rupture_client, 0.02)
    _latent.minor_tension(rng, lat.rupture_practitioner, 0.015)
    therapy = _THERAPY[plan.line][cl_eng]
    _latent.sudden_shifts(
        rng, lat.phq9, length_c, therapy, rate=0.12, size=(-8.0, -5.0)
    )
    lat.phq9 = lat.phq9.clip(0, 27)
    _latent.sudden_shifts(
        rng, lat.wellbeing, length_c, ~therapy, rate=0.1, size=(0.9, 1.4)
    )
    rows = _stories.plant(rng, plan, lat, grid.first_client)
    return lat, rows


def _round_items(
    rng: np.random.Generator,
    mean: np.ndarray,
    offsets: np.ndarray,
    sd: np.ndarray,
    lo: int,
    hi: int,
) -> np.ndarray:
    noise = rng.standard_normal((len(mean), len(offsets))) * sd[:, None]
    return np.asarray(np.rint(mean[:, None] + offsets[None, :] + noise).clip(lo, hi))


def draw_items(
    rng: np.random.Generator,
    instrument: str,
    lat: Latent,
    rows: np.ndarray,
    cols: np.ndarray,
) -> np.ndarray:
    """Return the ``(n, n_items)`` answers of one instrument (NaN = item not shown)."""
    if instrument == "hb_checkin_practitioner":
        level = lat.alliance_practitioner[rows, cols]
        sd = 0.35 * lat.noise_practitioner[rows]
        alliance = _round_items(rng, level, _ALLIANCE_OFFSETS, sd, 1, 5)
        return np.column_stack([alliance, lat.rupture_practitioner[rows, cols]])
    scale = lat.noise[rows]
    if instrument == "hb_checkin":
        level = lat.alliance_client[rows, cols]
        alliance = _round_items(rng, level, _ALLIANCE_OFFSETS, 0.35 * scale, 1, 5)
        return np.asarray(np.column_stack([alliance, lat.rupture_client[rows, cols]]))
    if instrument == "goal_progress":
        return np.asarray(np.rint(lat.goals[rows, cols]))
    if instrument in ("phq9", "gad7"):
        total = getattr(lat, instrument)[rows, cols]
        offsets = _OFFSETS[instrument]
        out = _round_items(rng, total / len(offsets), offsets, 0.45 * scale, 0, 3)
        if instrument == "phq9":
            forced = lat.item9[rows, cols]
            out[:, 8] = np.where(np.isnan(forced), out[:, 8], forced)
        return out
    well = lat.wellbeing[rows, cols] + rng.normal(0, 0.3, len(rows)) * scale
    if instrument == "who5":
        return _round_items(
            rng, (50 + 15 * well) / 20, _OFFSETS["who5"], 0.5 * scale, 0, 5
        )
    if instrument == "swls":
        return _round_items(
            rng, (21 + 5.5 * well) / 5, _OFFSETS["swls"], 0.55 * scale, 1, 7
        )
    return _round_items(rng, (41 + 6.5 * well) / 8, _OFFSETS["fs"], 0.5 * scale, 1, 7)


def _masks(plan: Plan, grid: Grid) -> dict[str, np.ndarray]:
    therapy = _THERAPY[plan.line][grid.cl_eng][:, None]
    fourth = (np.arange(grid.n_slots) % 4 == 0)[None, :]
    obs = grid.client_obs
    return {
        "hb_checkin": obs,
        "phq9": obs & therapy,
        "gad7": obs & therapy,
        "who5": obs & ~therapy,
        "swls": obs & ~therapy & fourth,
        "fs": obs & ~therapy & fourth,
        "goal_progress": obs & ~therapy,
        "hb_checkin_practitioner": grid.prac_obs,
    }


@dataclass
class Responses:
    """One entry per completed questionnaire, in response-id order."""

    eng: np.ndarray
    slot: np.ndarray
    client: np.ndarray  # client index, -1 for the practitioner
    code: np.ndarray  # index into INSTRUMENT_ORDER
    values: dict[
        str, tuple[np.ndarray, np.ndarray]
    ]  # instrument -> (response idx, values)


def responses(
    rng: np.random.Generator,
    plan: Plan,
    grid: Grid,
    lat: Latent,
    instruments: tuple[str, ...] = INSTRUMENT_ORDER,
) -> Responses:
    """Draw the answers of every completed questionnaire and order them."""
    masks = _masks(plan, grid)
    n_pos = int(plan.members.max()) + 1 if plan.n_engagements else 1
    parts = []
    for code, instrument in enumerate(INSTRUMENT_ORDER):
        if instrument not in instruments:
            continue
        rows, cols = np.nonzero(masks[instrument])
        prac = LAYOUTS[instrument].rater_role == "practitioner"
        eng = rows if prac else grid.cl_eng[rows]
        pos = np.full(len(rows), n_pos - 1) if prac else grid.member[rows]
        key = ((eng * grid.n_slots + cols) * n_pos + pos) * len(INSTRUMENT_ORDER) + code
        values = draw_items(rng, instrument, lat, rows, cols)
        client = np.full(len(rows), -1) if prac else rows
        parts.append(
            (instrument, key, eng, cols, client, np.full(len(rows), code), values)
        )
    keys = np.concatenate([p[1] for p in parts])
    order = np.argsort(keys, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    out_values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    start = 0
    for instrument, key, *_rest, values in parts:
        out_values[instrument] = (rank[start : start + len(key)], values)
        start += len(key)
    eng_o, slot_o, client_o, code_o = (
        np.concatenate([p[i] for p in parts])[order] for i in (2, 3, 4, 5)
    )
    return Responses(eng_o, slot_o, client_o, code_o, out_values)


@dataclass
class Names:
    """String ids for every index."""

    practitioner: np.ndarray
    engagement: np.ndarray
    client: np.ndarray


def take(
    labels: np.ndarray | tuple[str, ...], idx: np.ndarray
) -> pd.api.extensions.ExtensionArray:
    """Return ``labels[idx]`` as a pandas string array (fast: no per-row objects)."""
    return pd.array(np.asarray(labels, dtype=object), dtype="str").take(idx)


def _key_columns(
    plan: Plan, grid: Grid, names: Names, resp: Responses, idx: np.ndarray
) -> dict[str, Any]:
    eng = resp.eng[idx]
    slot = resp.slot[idx]
    client = resp.client[idx]
    is_prac = client < 0
    shown = np.where(is_prac, grid.first_client[eng], client)
    prac = plan.prac[eng]
    people = np.concatenate([names.client, names.practitioner])
    return {
        "client_id": take(names.client, shown),
        "engagement_id": take(names.engagement, eng),
        "practitioner_id": take(names.practitioner, prac),
        "session": (slot + 1).astype(np.int64),
        "date": _dates(plan, grid.day[eng, slot]),
        "rater_role": take(("client", "practitioner"), is_prac.astype(np.int64)),
        "respondent_id": take(
            people, np.where(is_prac, len(names.client) + prac, shown)
        ),
        "instrument": take(INSTRUMENT_ORDER, resp.code[idx]),
    }


def _dates(plan: Plan, day: np.ndarray) -> np.ndarray:
    return (plan.as_of + day.astype("timedelta64[D]")).astype("datetime64[ns]")


def simulated_scores(
    plan: Plan, grid: Grid, names: Names, resp: Responses
) -> pd.DataFrame:
    """Return the canonical score frame (total and subscale rows per response)."""
    idx_parts, sub_parts, score_parts, order_parts = [], [], [], []
    all_subs = tuple(
        dict.fromkeys(s for lay in LAYOUTS.values() for s in ("", *lay.subscales))
    )
    for instrument, (ridx, values) in resp.values.items():
        scores = score_matrix(instrument, values)
        subs = ("", *LAYOUTS[instrument].subscales)
        n_sub = len(subs)
        idx_parts.append(np.repeat(ridx, n_sub))
        sub_parts.append(
            np.tile(np.array([all_subs.index(x) for x in subs]), len(ridx))
        )
        score_parts.append(scores.reshape(-1))
        order_parts.append(
            np.repeat(ridx, n_sub) * 16 + np.tile(np.arange(n_sub), len(ridx))
        )
    if not idx_parts:
        return pd.DataFrame({c: [] for c in SCORE_COLUMNS})
    order = np.argsort(np.concatenate(order_parts), kind="stable")
    idx = np.concatenate(idx_parts)[order]
    cols = _key_columns(plan, grid, names, resp, idx)
    cols["subscale"] = take(all_subs, np.concatenate(sub_parts)[order])
    cols["score"] = np.concatenate(score_parts)[order].astype(float)
    return pd.DataFrame(cols, columns=list(SCORE_COLUMNS))


def item_frame(plan: Plan, grid: Grid, names: Names, resp: Responses) -> pd.DataFrame:
    """Return the item-level long frame (one row per shown item)."""
    idx_parts, item_parts, value_parts = [], [], []
    for ridx, values in resp.values.values():
        r, c = np.nonzero(~np.isnan(values))
        idx_parts.append(ridx[r])
        item_parts.append(c + 1)
        value_parts.append(values[r, c])
    if not idx_parts:
        return pd.DataFrame({c: [] for c in ITEM_COLUMNS})
    idx = np.concatenate(idx_parts)
    item = np.concatenate(item_parts)
    order = np.argsort(idx * 16 + item, kind="stable")
    idx = idx[order]
    cols = {"response_id": (idx + 1).astype(np.int64)}
    cols.update(_key_columns(plan, grid, names, resp, idx))
    cols["item"] = item[order].astype(np.int64)
    cols["value"] = np.concatenate(value_parts)[order].astype(float)
    return pd.DataFrame(cols, columns=list(ITEM_COLUMNS))


def session_frame(plan: Plan, grid: Grid, names: Names) -> pd.DataFrame:
    """Return one row per scheduled session with attendance and modality."""
    eng, slot = np.nonzero(grid.valid)
    return pd.DataFrame(
        {
            "engagement_id": take(names.engagement, eng),
            "practitioner_id": take(names.practitioner, plan.prac[eng]),
            "session": (slot + 1).astype(np.int64),
            "date": _dates(plan, grid.day[eng, slot]),
            "attendance": take(ATTENDANCE, grid.attendance[eng, slot]),
            "modality": take(MODALITIES, grid.modality[eng, slot]),
        }
    )
