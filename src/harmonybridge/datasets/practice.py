"""Simulated practices: engagements, sessions, item-level answers and scores with stories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge.datasets import _engine, _text
from harmonybridge.datasets._latent import Plan
from harmonybridge.datasets._plan import COACH, THERAPIST, Block, StorySpec, build_plan
from harmonybridge.datasets._specs import SERVICE_LINES
from harmonybridge.datasets._stories import MIN_STORY_SESSIONS, STORY_KINDS
from harmonybridge.errors import DataValidationError

#: The default reference date: the day the simulated data "ends" (fixed, so a seed
#: always gives the same frames).
DEFAULT_AS_OF = dt.date(2026, 6, 30)

_LINE = {name: i for i, name in enumerate(SERVICE_LINES)}


@dataclass(frozen=True)
class SimulatedPractice:
    """A simulated practice: every frame a practice accumulates, plus its planted stories.

    Attributes
    ----------
    name : str
        Practice name.
    as_of : datetime.date
        The day the data ends; active engagements had their latest session shortly before.
    practitioners : pandas.DataFrame
        ``practitioner_id``, ``name``, ``role`` (therapist or coach), ``service_lines``
        (tuple of str).
    engagements : pandas.DataFrame
        ``engagement_id``, ``client_ids`` (tuple of str), ``practitioner_id``,
        ``service_line``, ``n_members``, ``start`` (date of session 1), ``status``
        (active or closed), ``n_sessions`` (sessions scheduled so far).
    clients : pandas.DataFrame
        ``client_id``, ``engagement_id``, ``member`` (1 = index client), ``relation``,
        ``display_name`` (invented).
    sessions : pandas.DataFrame
        ``engagement_id``, ``practitioner_id``, ``session``, ``date``, ``attendance``
        (attended, cancelled, no_show), ``modality`` (in_person, video, phone, chat).
    scores : pandas.DataFrame
        The canonical score frame: ``client_id``, ``engagement_id``, ``practitioner_id``,
        ``session``, ``date``, ``rater_role``, ``respondent_id``, ``instrument``,
        ``subscale`` ("" for the total), ``score``. Check-ins also have ``goal``,
        ``task``, ``bond`` and the derived ``rupture_present``, ``rupture_intensity``,
        ``rupture_resolution`` rows (NaN when the item was not shown); goal progress
        has ``goal_1`` ... ``goal_3`` (NaN for goals not agreed). The practitioner's
        rows carry the engagement's first client in ``client_id``.
    items : pandas.DataFrame
        Item-level answers: ``response_id`` and the canonical keys, ``item``, ``value``.
    goals : pandas.DataFrame
        Agreed goals: ``engagement_id``, ``goal`` (1–3, the goal-progress item), ``text``.
    stories : pandas.DataFrame
        ``story``, ``engagement_id``, ``client_id``, ``practitioner_id``,
        ``service_line``, ``instrument``, ``session`` (where to look), ``description``.
    """

    name: str
    as_of: dt.date
    practitioners: pd.DataFrame
    engagements: pd.DataFrame
    clients: pd.DataFrame
    sessions: pd.DataFrame
    scores: pd.DataFrame
    items: pd.DataFrame
    goals: pd.DataFrame
    stories: pd.DataFrame


def _as_rng(seed: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_count(name: str, value: object, minimum: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or value < minimum
    ):
        raise DataValidationError(
            f"{name} must be an integer >= {minimum}, got {value!r}"
        )
    return int(value)


def _default_lines(n: int) -> list[tuple[int, ...]]:
    return [THERAPIST if i % 2 == 0 else COACH for i in range(n)]


def _default_stories(lines: Sequence[tuple[int, ...]]) -> list[StorySpec]:
    therapists = [i for i, ls in enumerate(lines) if ls == THERAPIST]
    coaches = [i for i, ls in enumerate(lines) if ls == COACH] or therapists
    specs = []
    for i, kind in enumerate(STORY_KINDS):
        if kind in ("unrepaired_rupture", "practitioner_client_gap", "checkin_missing"):
            prac = coaches[i % len(coaches)]
            line = lines[prac][0]
        else:
            prac = therapists[i % len(therapists)]
            line = _LINE[
                "couples_family_therapy" if "family" in kind else "individual_therapy"
            ]
        specs.append(StorySpec(kind, prac, line, 3 if "family" in kind else 1))
    return specs


def simulate_practice(
    *,
    n_practitioners: int = 4,
    n_clients: int = 40,
    n_sessions: int = 12,
    seed: np.random.Generator | int | None = 0,
    active_share: float = 0.5,
    stories: bool = True,
    as_of: dt.date = DEFAULT_AS_OF,
) -> SimulatedPractice:
    """Simulate a practice's session-by-session, two-sided measurement data.

    Clients are nested in practitioners (even-numbered practitioners are therapists
    offering individual and couples/family therapy, odd-numbered ones coaches offering
    the three coaching lines). Every attended session has the client's and the
    practitioner's check-in (``hb_checkin``, ``hb_checkin_practitioner``), PHQ-9 and
    GAD-7 for therapy, WHO-5 and goal progress for coaching (SWLS and Flourishing
    Scale every fourth session); about 13 % of sessions are missed and 6 % of client
    check-ins not returned.

    Parameters
    ----------
    n_practitioners : int
        Number of practitioners (>= 1).
    n_clients : int
        Number of clients (people; a couple or family counts each member).
    n_sessions : int
        Sessions of a completed engagement (the longest series).
    seed : numpy.random.Generator or int or None
        Random generator or seed; the same seed gives the same frames.
    active_share : float
        Expected share of ordinary engagements still active at ``as_of``.
    stories : bool
        Plant one engagement per story kind (needs >= 10 clients and >= 8 sessions).
    as_of : datetime.date
        The day the data ends.

    Returns
    -------
    SimulatedPractice
        The frames; ``scores`` is unique per (engagement_id, session,
        respondent_id, instrument, subscale).

    Raises
    ------
    DataValidationError
        For a count below its minimum or too few clients or sessions for the stories.

    Notes
    -----
    Effect sizes follow the literature in ``docs/references.md``: client and practitioner alliance
    ratings correlate about .36 and clients rate higher by about d = .6 (Tryon,
    Blackwell & Hammel 2007); practitioners account for about 5 % of outcome variance
    (Wampold & Brown 2005); the client's alliance correlates about .28 with outcome
    change (Flückiger et al. 2018); symptom scores improve log-linearly, faster from a
    higher intake; ruptures are alliance dips of 1–2 within-person SDs, about 60 % repaired
    (Stiles et al. 2004). Members of a couple/family engagement share most of their alliance (a
    family level, shared session-to-session movement, half of the ruptures together;
    an assumed within-family ICC of session totals of about .6), so an ordinary family
    splits by >= 1 point in roughly 10 % (couples) to 30 % (four members) of sessions.
    Reference test: ``tests/core/test_datasets.py``.

    References
    ----------
    Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). The
    alliance in adult psychotherapy: A meta-analytic synthesis. Psychotherapy,
    55(4), 316–340.

    Tryon, G. S., Blackwell, S. C., & Hammel, E. F. (2007). A meta-analytic
    examination of client–therapist perspectives of the working alliance.
    Psychotherapy Research, 17(6), 629–642.

    Wampold, B. E., & Brown, G. S. (2005). Estimating variability in outcomes
    attributable to therapists: A naturalistic study of outcomes in managed care.
    Journal of Consulting and Clinical Psychology, 73(5), 914–923.

    Examples
    --------
    >>> practice = simulate_practice(n_clients=20, seed=1)
    >>> sorted(practice.scores["rater_role"].unique())
    ['client', 'practitioner']
    """
    n_prac = _check_count("n_practitioners", n_practitioners, 1)
    n_cl = _check_count("n_clients", n_clients, 1)
    n_ses = _check_count("n_sessions", n_sessions, 1)
    if not 0.0 <= float(active_share) <= 1.0:
        raise DataValidationError(
            f"active_share must be between 0 and 1, got {active_share!r}"
        )
    lines = _default_lines(n_prac)
    specs = _default_stories(lines) if stories else []
    need = sum(s.members for s in specs)
    if specs and (n_cl < need or n_ses < MIN_STORY_SESSIONS):
        raise DataValidationError(
            f"stories need n_clients >= {need} and n_sessions >= {MIN_STORY_SESSIONS}, "
            f"got n_clients={n_cl}, n_sessions={n_ses}; pass stories=False for smaller data"
        )
    blocks = [Block(tuple(range(n_prac)), float(active_share), n_persons=n_cl - need)]
    names = [_practitioner_name(i) for i in range(n_prac)]
    return _simulate(
        "Simulated practice", names, lines, specs, blocks, n_ses, seed, as_of
    )


def demo_practice(
    seed: np.random.Generator | int | None = 0, *, as_of: dt.date = DEFAULT_AS_OF
) -> SimulatedPractice:
    """Return the web demo practice "HarmonyBridge Family Therapy".

    A life coach (the three coaching lines) and a family therapist (individual and
    couples/family therapy); about 30 active clients, among them every story kind
    (the coach carries the rupture, not-on-track, gap, sudden-gain and
    missing-check-in stories too), and closed past engagements (400 coaching, 320
    therapy) so that every outcome instrument, SWLS and FS included, has more than
    300 series with follow-up for expected-response curves.

    Parameters
    ----------
    seed : numpy.random.Generator or int or None
        Random generator or seed.
    as_of : datetime.date
        The day the data ends (pass today's date for a live demo).

    Returns
    -------
    SimulatedPractice
        As :func:`simulate_practice`; practitioner P01 is the coach, P02 the therapist.

    Examples
    --------
    >>> demo = demo_practice(seed=0)
    >>> demo.name
    'HarmonyBridge Family Therapy'
    """
    lines = [COACH, THERAPIST]
    specs = [
        StorySpec(kind, 0, COACH[i % len(COACH)])
        for i, kind in enumerate(STORY_KINDS)
        if kind not in ("safety_item", "split_alliance_family")
    ]
    specs += [_on(s, 1) for s in _default_stories([THERAPIST])]
    blocks = [
        Block((0,), 0.0, n_engagements=400),
        Block((1,), 0.0, n_engagements=320),
        Block((0,), 1.0, n_persons=8),
        Block((1,), 1.0, n_persons=8),
    ]
    names = ["Maya Lindqvist", "Daniel Okafor"]
    return _simulate(
        "HarmonyBridge Family Therapy", names, lines, specs, blocks, 12, seed, as_of
    )


def _on(spec: StorySpec, practitioner: int) -> StorySpec:
    return StorySpec(spec.kind, practitioner, spec.line, spec.members)


def _practitioner_name(i: int) -> str:
    names = _text.PRACTITIONER_NAMES
    suffix = f" {i // len(names) + 1}" if i >= len(names) else ""
    return names[i % len(names)] + suffix


def _simulate(
    name: str,
    practitioner_names: list[str],
    lines: list[tuple[int, ...]],
    specs: list[StorySpec],
    blocks: list[Block],
    n_sessions: int,
    seed: np.random.Generator | int | None,
    as_of: dt.date,
) -> SimulatedPractice:
    rng = _as_rng(seed)
    text_rng = np.random.default_rng(rng.integers(2**63))
    width = max(2, len(str(len(lines))))
    prac_ids = [f"P{i + 1:0{width}d}" for i in range(len(lines))]
    plan = build_plan(
        rng,
        practitioner_ids=prac_ids,
        lines=lines,
        stories=specs,
        blocks=blocks,
        n_sessions=n_sessions,
        as_of=np.datetime64(as_of, "D"),
    )
    grid = _engine.session_grid(rng, plan)
    lat, story_rows = _engine.latent_state(rng, plan, grid)
    resp = _engine.responses(rng, plan, grid, lat)
    names = _names(plan, grid)
    return SimulatedPractice(
        name=name,
        as_of=as_of,
        practitioners=_practitioner_frame(prac_ids, practitioner_names, lines),
        engagements=_engagement_frame(plan, grid, names),
        clients=_client_frame(text_rng, plan, grid, names),
        sessions=_engine.session_frame(plan, grid, names),
        scores=_engine.score_frame(plan, grid, names, resp),
        items=_engine.item_frame(plan, grid, names, resp),
        goals=_goal_frame(text_rng, plan, lat, grid, names),
        stories=_story_frame(story_rows, plan, grid, names),
    )


def _names(plan: Plan, grid: _engine.Grid) -> _engine.Names:
    n_e, n_c = plan.n_engagements, len(grid.cl_eng)
    we, wc = max(4, len(str(n_e))), max(4, len(str(n_c)))
    return _engine.Names(
        practitioner=np.array(plan.practitioner_ids, dtype=object),
        engagement=np.array([f"E{i + 1:0{we}d}" for i in range(n_e)], dtype=object),
        client=np.array([f"C{i + 1:0{wc}d}" for i in range(n_c)], dtype=object),
    )


def _practitioner_frame(
    ids: list[str], names: list[str], lines: list[tuple[int, ...]]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "practitioner_id": ids,
            "name": names,
            "role": ["therapist" if ls == THERAPIST else "coach" for ls in lines],
            "service_lines": [tuple(SERVICE_LINES[i] for i in ls) for ls in lines],
        }
    )


def _engagement_frame(
    plan: Plan, grid: _engine.Grid, names: _engine.Names
) -> pd.DataFrame:
    members = np.split(names.client, np.cumsum(plan.members)[:-1])
    return pd.DataFrame(
        {
            "engagement_id": names.engagement,
            "client_ids": [tuple(m) for m in members],
            "practitioner_id": names.practitioner[plan.prac],
            "service_line": np.array(SERVICE_LINES, dtype=object)[plan.line],
            "n_members": plan.members.astype(np.int64),
            "start": _engine._dates(plan, plan.start),
            "status": np.where(plan.active, "active", "closed").astype(object),
            "n_sessions": plan.length.astype(np.int64),
        }
    )


def _client_frame(
    rng: np.random.Generator, plan: Plan, grid: _engine.Grid, names: _engine.Names
) -> pd.DataFrame:
    n_c = len(grid.cl_eng)
    first = np.array(_text.FIRST_NAMES, dtype=object)[
        rng.integers(0, len(_text.FIRST_NAMES), n_c)
    ]
    initial = np.array(list(_text.INITIALS), dtype=object)[
        rng.integers(0, len(_text.INITIALS), n_c)
    ]
    family = initial[grid.first_client[grid.cl_eng]]  # one family name per engagement
    table = [(*_text.RELATIONS[min(n, 4)], "", "", "")[:4] for n in range(1, 5)]
    relations = np.array([r for row in table for r in row], dtype=object)
    relation = relations[
        (np.minimum(plan.members[grid.cl_eng], 4) - 1) * 4 + np.minimum(grid.member, 3)
    ]
    return pd.DataFrame(
        {
            "client_id": names.client,
            "engagement_id": names.engagement[grid.cl_eng],
            "member": (grid.member + 1).astype(np.int64),
            "relation": relation,
            "display_name": first + " " + family + ".",
        }
    )


def _goal_frame(
    rng: np.random.Generator, plan: Plan, lat, grid: _engine.Grid, names: _engine.Names
) -> pd.DataFrame:
    n_goals = (~np.isnan(lat.goals[grid.first_client, 0, :])).sum(axis=1)
    pools = [_text.GOALS[line] for line in SERVICE_LINES]
    size = min(len(p) for p in pools)
    texts = np.array([t for p in pools for t in p[:size]], dtype=object)
    picks = np.argsort(rng.random((plan.n_engagements, size)), axis=1)[:, :3]
    eng, goal = np.nonzero(np.arange(3)[None, :] < n_goals[:, None])
    return pd.DataFrame(
        {
            "engagement_id": _engine.take(names.engagement, eng),
            "goal": (goal + 1).astype(np.int64),
            "text": _engine.take(texts, plan.line[eng] * size + picks[eng, goal]),
        }
    )


def _story_frame(
    rows: list[dict[str, Any]], plan: Plan, grid: _engine.Grid, names: _engine.Names
) -> pd.DataFrame:
    out = [
        {
            "story": r["story"],
            "engagement_id": names.engagement[r["engagement"]],
            "client_id": names.client[r["client"]],
            "practitioner_id": names.practitioner[plan.prac[r["engagement"]]],
            "service_line": SERVICE_LINES[plan.line[r["engagement"]]],
            "instrument": r["instrument"],
            "session": int(r["slot"]) + 1,  # type: ignore[call-overload]
            "description": r["description"],
        }
        for r in rows
    ]
    cols = ["story", "engagement_id", "client_id", "practitioner_id", "service_line"]
    return pd.DataFrame(out, columns=[*cols, "instrument", "session", "description"])
