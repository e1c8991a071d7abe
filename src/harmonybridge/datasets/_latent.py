"""Latent session-by-session trajectories (alliance, symptoms, wellbeing) as numpy arrays.

Every array is ``(rows, slots)``: a row is a client (or, for the practitioner's
alliance view, an engagement), a slot is a scheduled session (slot 0 = session 1).
Effect sizes follow the literature in docs/references.md (Tryon et al. 2007: r = .36 between
raters, clients higher by d = .63; Wampold & Brown 2005: ~5 % practitioner share of
outcome variance) and Stiles et al. 2004 (ruptures as dips of ≥ 1–2 within-person SDs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Calibrated on a 20,000-engagement sample so that single-session client and
# practitioner check-in totals correlate about .36 and differ by about d = .6.
CLIENT_ALLIANCE_MEAN = 3.95
PRACTITIONER_ALLIANCE_MEAN = 3.52
ALLIANCE_SD_BETWEEN = 0.42
ALLIANCE_SD_WITHIN = 0.22
ALLIANCE_GROWTH = 0.12  # per ln(session): alliance builds slowly over early sessions
RATER_LATENT_R = 0.53  # latent client–practitioner correlation before session noise

# Members of one couple/family engagement rate the same practitioner in the same
# sessions, so much of their alliance is shared: a family-level share of the stable
# level, a shared share of the session-to-session movement, and ruptures that half of
# the time happen with the whole family in the room. ASSUMPTION, not a published value
# (no within-family ICC of session alliance ratings was found to cite): the shares give
# members' single-session check-in totals a within-family intraclass correlation of
# about .55-.6 -- the upper end of the .3-.5 that a conservative reading assumes, because
# with each member's own level, session noise, answer noise and own ruptures (all kept)
# a lower ICC makes the >= 1.0-point split rule fire in about a quarter of ordinary
# family sessions. tests/core/test_datasets.py checks the ICC and the split rate.
FAMILY_SHARED_LEVEL = 0.8  # share of the between-person alliance variance
FAMILY_SHARED_SESSION = 0.7  # share of the session-to-session alliance variance
FAMILY_SHARED_RUPTURE = 0.5  # share of families whose ruptures involve every member


@dataclass
class Plan:
    """Engagement-level plan the generator fills in (one entry per engagement)."""

    practitioner_ids: list[str]
    prac: np.ndarray  # practitioner index
    line: np.ndarray  # index into SERVICE_LINES
    members: np.ndarray  # number of clients in the engagement
    length: np.ndarray  # scheduled sessions so far
    active: np.ndarray  # bool
    start: np.ndarray  # day offset of session 1 relative to as_of (<= 0)
    story: np.ndarray  # story kind or "" per engagement
    as_of: np.datetime64

    @property
    def n_engagements(self) -> int:
        """Number of engagements."""
        return len(self.prac)


@dataclass
class Latent:
    """Mutable latent state the stories edit before items are drawn."""

    z_client: np.ndarray
    alliance_client: np.ndarray
    alliance_practitioner: np.ndarray
    rupture_client: (
        np.ndarray
    )  # (C, S, 3): present, intensity, resolution (NaN = not shown)
    rupture_practitioner: np.ndarray  # (E, S, 3)
    phq9: np.ndarray
    gad7: np.ndarray
    wellbeing: np.ndarray  # z-metric, mapped to who5/swls/fs
    goals: np.ndarray  # (C, S, 3) 0–10, NaN for goals not agreed
    item9: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))  # override
    noise: np.ndarray = field(default_factory=lambda: np.empty(0))  # answer noise scale
    noise_practitioner: np.ndarray = field(default_factory=lambda: np.empty(0))


def _log_session(n_slots: int) -> np.ndarray:
    return np.log(np.arange(1, n_slots + 1, dtype=float))


def alliance(
    rng: np.random.Generator, plan: Plan, cl_eng: np.ndarray, n_slots: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return client z, client alliance (C,S), practitioner alliance (E,S), z_prac."""
    n_prac = len(plan.practitioner_ids)
    lnt = _log_session(n_slots)
    u_prac = rng.normal(0.0, 0.15, n_prac)  # practitioner effect on clients' alliance
    lenience = rng.normal(0.0, 0.15, n_prac)  # practitioner's own rating habit
    z_c = rng.standard_normal(len(cl_eng))
    # The family's shared components come from a child generator, which does not
    # advance the main stream: a one-client engagement's alliance draws are unchanged.
    fam_rng = _child(rng)
    family = plan.members[cl_eng] >= 2
    z_c = _share(
        z_c,
        fam_rng.standard_normal(plan.n_engagements)[cl_eng],
        family,
        FAMILY_SHARED_LEVEL,
    )
    # the practitioner's view follows the family's mean level, rescaled to unit SD
    n = np.maximum(plan.members, 1)
    sd_mean = np.sqrt(
        np.where(n >= 2, FAMILY_SHARED_LEVEL + (1 - FAMILY_SHARED_LEVEL) / n, 1.0 / n)
    )
    mean_z = np.bincount(cl_eng, z_c, minlength=plan.n_engagements) / n
    mean_z = np.where(n >= 2, mean_z / sd_mean, mean_z)
    z_p = RATER_LATENT_R * mean_z + np.sqrt(
        1 - RATER_LATENT_R**2
    ) * rng.standard_normal(plan.n_engagements)
    prac_c = plan.prac[cl_eng]
    own = rng.normal(0.0, ALLIANCE_SD_WITHIN, (len(cl_eng), n_slots))
    shared = fam_rng.normal(0.0, ALLIANCE_SD_WITHIN, (plan.n_engagements, n_slots))
    a_c = (
        CLIENT_ALLIANCE_MEAN
        + ALLIANCE_SD_BETWEEN * z_c[:, None]
        + u_prac[prac_c][:, None]
        + ALLIANCE_GROWTH * lnt
        + _share(own, shared[cl_eng], family, FAMILY_SHARED_SESSION)
    )
    a_p = (
        PRACTITIONER_ALLIANCE_MEAN
        + ALLIANCE_SD_BETWEEN * z_p[:, None]
        + (u_prac + lenience)[plan.prac][:, None]
        + ALLIANCE_GROWTH * lnt
        + rng.normal(0.0, ALLIANCE_SD_WITHIN, (plan.n_engagements, n_slots))
    )
    return z_c, a_c, a_p, z_p


def _child(rng: np.random.Generator) -> np.random.Generator:
    """Return an independent child generator without advancing ``rng``'s stream."""
    try:
        return rng.spawn(1)[0]
    except (TypeError, ValueError):  # a bit generator that cannot spawn
        return np.random.default_rng(rng.integers(2**63))


def _share(
    own: np.ndarray, shared: np.ndarray, where: np.ndarray, share: float
) -> np.ndarray:
    """Mix a shared component into ``own`` (same variance) for the rows in ``where``."""
    mixed = np.sqrt(share) * shared + np.sqrt(1.0 - share) * own
    mask = where.reshape(-1, *([1] * (own.ndim - 1)))
    return np.where(mask, mixed, own)


def background_ruptures(
    rng: np.random.Generator,
    lat: Latent,
    length_c: np.ndarray,
    cl_eng: np.ndarray,
    *,
    rate: float = 0.22,
) -> np.ndarray:
    """Plant ruptures (about 60 % repaired) and return each client's unrepaired onset slot."""
    n_c, n_slots = (int(x) for x in lat.alliance_client.shape)
    slots = np.arange(n_slots)
    eligible = length_c >= 5
    has = eligible & (rng.random(n_c) < rate)
    onset = (2 + (rng.random(n_c) * np.maximum(length_c - 3, 1)).astype(int)).clip(
        max=np.maximum(length_c - 1, 0)
    )
    depth = rng.uniform(0.9, 1.5, n_c)
    repaired = rng.random(n_c) < 0.6
    extended = rng.random(n_c) < 0.3
    # In a family, part of the ruptures happen with the whole family in the room: every
    # member dips at the same session (the first member's rupture, shared).
    first = np.searchsorted(cl_eng, cl_eng)  # clients are ordered by engagement
    family = np.bincount(cl_eng)[cl_eng] >= 2
    together = (
        family
        & (
            _child(rng).random(int(cl_eng.max()) + 1 if n_c else 0)
            < FAMILY_SHARED_RUPTURE
        )[cl_eng]
    )
    for a in (has, onset, depth, repaired, extended):
        a[together] = a[first[together]]
    at = has[:, None] & (slots == onset[:, None])
    after = has[:, None] & (slots > onset[:, None])
    dip = np.where(at, depth[:, None], 0.0)
    dip += np.where(
        after & repaired[:, None] & extended[:, None] & (slots == onset[:, None] + 1),
        0.4 * depth[:, None],
        0.0,
    )
    dip += np.where(after & ~repaired[:, None], 0.85 * depth[:, None], 0.0)
    lat.alliance_client -= dip
    # About half of the clients also say so on the check-in's rupture items.
    told = at & (rng.random(n_c) < 0.5)[:, None]
    intensity = np.rint(2 + 1.5 * depth + rng.normal(0, 0.5, n_c)).clip(1, 5)
    resolution = np.where(
        repaired,
        np.rint(4 + rng.normal(0, 0.6, n_c)),
        np.rint(2 + rng.normal(0, 0.6, n_c)),
    ).clip(1, 5)
    _report(lat.rupture_client, told, intensity, resolution)
    # The practitioner notices about 40 % of them (Chen et al. 2018: few are noticed).
    noticed = has & (rng.random(n_c) < 0.4)
    rows = cl_eng[noticed]
    lat.alliance_practitioner[rows, onset[noticed]] -= 0.5 * depth[noticed]
    seen = np.zeros(lat.alliance_practitioner.shape, dtype=bool)
    seen[rows, onset[noticed]] = True
    three = np.full(len(seen), 3.0)
    _report(lat.rupture_practitioner, seen, three, three)
    return np.where(has & ~repaired, onset, n_slots)


def _report(
    store: np.ndarray, mask: np.ndarray, intensity: np.ndarray, resolution: np.ndarray
) -> None:
    rows, cols = np.nonzero(mask)
    store[rows, cols, 0] = 1.0
    store[rows, cols, 1] = intensity[rows]
    store[rows, cols, 2] = resolution[rows]


def minor_tension(rng: np.random.Generator, store: np.ndarray, p: float) -> None:
    """Mark occasional small, resolved moments of tension (item 4 = yes)."""
    mask = (store[:, :, 0] == 0) & (rng.random(store.shape[:2]) < p)
    rows, cols = np.nonzero(mask)
    store[rows, cols, 0] = 1.0
    store[rows, cols, 1] = rng.integers(1, 3, len(rows))
    store[rows, cols, 2] = rng.integers(4, 6, len(rows))


def empty_reports(n_rows: int, n_slots: int) -> np.ndarray:
    """Return a rupture-report array with "no tension" everywhere."""
    out = np.full((n_rows, n_slots, 3), np.nan)
    out[:, :, 0] = 0.0
    return out


def symptoms(
    rng: np.random.Generator,
    plan: Plan,
    cl_eng: np.ndarray,
    z_alliance: np.ndarray,
    n_slots: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return PHQ-9 and GAD-7 total-score trajectories (log-linear, intake dependent)."""
    n_c = len(cl_eng)
    lnt = _log_session(n_slots)
    intake = rng.normal(14.5, 5.0, n_c).clip(3, 26)
    gad_intake = (11 + 0.63 * (intake - 14.5) + rng.normal(0, 3.2, n_c)).clip(2, 20)
    # Practitioner share of outcome variance ~5 % (Wampold & Brown 2005).
    u_prac = rng.normal(0.0, 0.5, len(plan.practitioner_ids))[plan.prac[cl_eng]]
    slope = (
        -(1.9 + 0.22 * (intake - 14.5))
        - 0.7 * z_alliance
        + u_prac
        + rng.normal(0, 1.1, n_c)
    )
    gad_slope = slope * (gad_intake / np.maximum(intake, 1)) + rng.normal(0, 0.5, n_c)
    phq = intake[:, None] + slope[:, None] * lnt + rng.normal(0, 2.0, (n_c, n_slots))
    gad = (
        gad_intake[:, None]
        + gad_slope[:, None] * lnt
        + rng.normal(0, 1.7, (n_c, n_slots))
    )
    return phq.clip(0, 27), gad.clip(0, 21)


def wellbeing(
    rng: np.random.Generator,
    plan: Plan,
    cl_eng: np.ndarray,
    z_alliance: np.ndarray,
    n_slots: int,
) -> np.ndarray:
    """Return a wellbeing trajectory in SD units of a coaching intake sample."""
    n_c = len(cl_eng)
    lnt = _log_session(n_slots)
    w0 = rng.standard_normal(n_c)
    u_prac = rng.normal(0.0, 0.07, len(plan.practitioner_ids))[plan.prac[cl_eng]]
    slope = 0.3 - 0.08 * w0 + 0.12 * z_alliance + u_prac + rng.normal(0, 0.15, n_c)
    return w0[:, None] + slope[:, None] * lnt


def goal_ratings(
    rng: np.random.Generator, n_goals: np.ndarray, growth: np.ndarray, n_slots: int
) -> np.ndarray:
    """Return 0–10 goal-progress trajectories (C, S, 3); NaN for goals not agreed."""
    n_c = len(n_goals)
    lnt = _log_session(n_slots)
    start = rng.normal(2.5, 1.0, (n_c, 1, 3))
    rate = (1.6 + 2.5 * growth)[:, None, None] + rng.normal(0, 0.4, (n_c, 1, 3))
    g = start + rate * lnt[None, :, None] + rng.normal(0, 0.8, (n_c, n_slots, 3))
    g = g.clip(0, 10)
    absent = np.arange(3)[None, None, :] >= n_goals[:, None, None]
    return np.where(absent, np.nan, g)


def sudden_shifts(
    rng: np.random.Generator,
    series: np.ndarray,
    length: np.ndarray,
    eligible: np.ndarray,
    *,
    rate: float,
    size: tuple[float, float],
) -> None:
    """Shift some series by a step after a random pre-gain slot (sudden gains)."""
    n, n_slots = (int(x) for x in series.shape)
    has = eligible & (length >= 7) & (rng.random(n) < rate)
    pre = 2 + (rng.random(n) * np.maximum(length - 6, 1)).astype(int)
    step = rng.uniform(size[0], size[1], n)
    later = has[:, None] & (np.arange(n_slots) > pre[:, None])
    series += np.where(later, step[:, None], 0.0)
