"""Drawing the engagement plan: who sees whom, for which service line, since when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harmonybridge.datasets._latent import Plan
from harmonybridge.datasets._specs import COACHING_LINES, SERVICE_LINES, THERAPY_LINES

THERAPIST: tuple[int, ...] = tuple(SERVICE_LINES.index(x) for x in THERAPY_LINES)
COACH: tuple[int, ...] = tuple(SERVICE_LINES.index(x) for x in COACHING_LINES)
_INDIVIDUAL = SERVICE_LINES.index("individual_therapy")
_FAMILY = SERVICE_LINES.index("couples_family_therapy")


@dataclass(frozen=True)
class Block:
    """A group of ordinary engagements to draw for some practitioners."""

    practitioners: tuple[int, ...]
    active_share: float
    n_persons: int | None = None
    n_engagements: int | None = None


@dataclass(frozen=True)
class StorySpec:
    """One engagement that will carry a planted story."""

    kind: str
    practitioner: int
    line: int
    members: int = 1


def _draw_block(
    rng: np.random.Generator, block: Block, lines: Sequence[tuple[int, ...]]
) -> tuple[np.ndarray, ...]:
    n = block.n_engagements if block.n_engagements is not None else block.n_persons or 0
    prac = rng.choice(np.array(block.practitioners), n)
    table = np.array([(*ls, *([ls[0]] * (5 - len(ls)))) for ls in lines])
    n_lines = np.array([len(ls) for ls in lines])
    line = table[prac, (rng.random(n) * n_lines[prac]).astype(int)]
    members = np.where(
        line == _FAMILY, rng.choice([2, 3, 4], n, p=[0.6, 0.25, 0.15]), 1
    )
    if block.n_engagements is None and n:
        total = np.cumsum(members)
        keep = int(np.searchsorted(total, n)) + 1
        prac, line, members = prac[:keep], line[:keep], members[:keep].copy()
        members[-1] -= int(total[keep - 1]) - n
        if members[-1] == 1 and line[-1] == _FAMILY:
            line = line.copy()
            line[-1] = _INDIVIDUAL
    active = rng.random(len(prac)) < block.active_share
    return prac, line, members, active


def build_plan(
    rng: np.random.Generator,
    *,
    practitioner_ids: list[str],
    lines: Sequence[tuple[int, ...]],
    stories: Sequence[StorySpec],
    blocks: Sequence[Block],
    n_sessions: int,
    as_of: np.datetime64,
) -> Plan:
    """Return the plan: story engagements first, then every block's engagements."""
    parts: list[tuple[np.ndarray, ...]] = [
        (
            np.array([s.practitioner for s in stories], dtype=int),
            np.array([s.line for s in stories], dtype=int),
            np.array([s.members for s in stories], dtype=int),
            np.ones(len(stories), dtype=bool),
        )
    ]
    parts += [_draw_block(rng, b, lines) for b in blocks]
    prac, line, members, active = (
        np.concatenate([p[i] for p in parts]) for i in range(4)
    )
    story = np.array(
        [s.kind for s in stories] + [""] * (len(prac) - len(stories)), dtype=object
    )
    n = len(prac)
    full = rng.random(n) < 0.65
    dropout = (
        rng.integers(2, max(n_sessions, 2) + 1, n)
        if n_sessions > 1
        else np.ones(n, int)
    )
    length = np.where(
        active, rng.integers(1, n_sessions + 1, n), np.where(full, n_sessions, dropout)
    ).clip(1, n_sessions)
    length[: len(stories)] = n_sessions
    interval = np.where(np.isin(line, THERAPIST), 7, 14)
    span = (length - 1) * interval + 2
    start = np.where(
        active, -span - rng.integers(0, 6, n), -span - rng.integers(14, 3 * 365, n)
    )
    return Plan(
        practitioner_ids=practitioner_ids,
        prac=prac.astype(int),
        line=line.astype(int),
        members=members.astype(int),
        length=length.astype(int),
        active=active,
        start=start.astype(int),
        story=story,
        as_of=as_of,
    )
