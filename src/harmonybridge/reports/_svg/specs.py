"""Chart specifications: which lines, bands, cut-offs and markers each chart shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import find
from harmonybridge.reports._svg import inputs as _in
from harmonybridge.reports._svg.model import (
    DASHES,
    PALETTE,
    PRACTITIONER_COLOUR,
    Band,
    HLine,
    Series,
    Spec,
    fmt,
)

ALLIANCE_SUBSCALES: tuple[str, ...] = ("goal", "task", "bond")
_RANGES: dict[str, tuple[float, float]] = {
    "hb_checkin": (1, 5),
    "hb_checkin_practitioner": (1, 5),
    "wai_sr": (1, 5),
    "wai_sr_t": (1, 5),
    "phq9": (0, 27),
    "gad7": (0, 21),
    "who5": (0, 100),
    "swls": (5, 35),
    "fs": (8, 56),
    "goal_progress": (0, 10),
}
_NAMES = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "who5": "WHO-5",
    "swls": "SWLS",
    "fs": "Flourishing Scale",
    "goal_progress": "Goal progress",
}


# --- alliance ----------------------------------------------------------------------------


def alliance_spec(
    scores: object,
    *,
    instruments: Sequence[str],
    subscales: bool | Sequence[str],
    markers: Iterable[Mapping[str, Any]] | None,
    labels: Mapping[str, str] | None,
    title: str,
    sessions: tuple[int, int] | None,
) -> Spec:
    data = _in.one_engagement(scores)
    wanted = [""] + (
        list(ALLIANCE_SUBSCALES) if subscales is True else list(subscales or [])
    )
    bad = [s for s in wanted if s not in ("", *ALLIANCE_SUBSCALES)]
    if bad:
        raise DataValidationError(
            f"subscale {bad[0]!r} is not an alliance subscale; allowed: goal, task, bond"
        )
    d = data[
        data[schema.INSTRUMENT].isin(instruments) & data[schema.SUBSCALE].isin(wanted)
    ]
    keys = [schema.RATER_ROLE, schema.RESPONDENT_ID, schema.INSTRUMENT, schema.SUBSCALE]
    groups = sorted(
        d.groupby(keys, sort=False),
        key=lambda kv: (
            kv[0][0] == "practitioner",
            str(kv[0][1]),
            wanted.index(str(kv[0][3])),
        ),
    )
    n_prac = d.loc[
        d[schema.RATER_ROLE] == "practitioner", schema.RESPONDENT_ID
    ].nunique()
    colours: dict[str, str] = {}
    series = []
    for group_key, frame in groups:
        role, resp, inst, sub = (str(k) for k in group_key)
        name = _in.label(role, resp, labels, n_prac)
        if role == "practitioner":
            colour = colours.setdefault(
                str(resp),
                PRACTITIONER_COLOUR if n_prac <= 1 else PALETTE[-1 - len(colours) % 3],
            )
        else:
            colour = colours.setdefault(str(resp), PALETTE[len(colours) % 6])
        series.append(
            Series(
                key=f"{role}:{resp}:{inst}:{sub or 'total'}",
                label=name + (f" – {sub}" if sub else ""),
                points=_in.points(frame),
                step=_in.step(frame),
                colour=colour,
                dash=DASHES[sub]
                if sub
                else ("7 4" if role == "practitioner" else None),
                width=1.5 if sub else 2.5,
                attrs=(
                    ("rater-role", str(role)),
                    ("respondent", str(resp)),
                    ("subscale", sub),
                ),
            )
        )
    marks = _in.parse_markers(markers)
    desc = _in.describe(title, series, marks, ["Scale 1 (low) to 5 (high alliance)."])
    return Spec(
        chart="alliance",
        title=title,
        desc=desc,
        y_range=(1.0, 5.0),
        y_label="Alliance (1–5)",
        series=tuple(x for x in series if x.points),
        markers=marks,
        x_range=sessions,
        empty_message="No alliance check-ins yet.",
    )


# --- outcome ----------------------------------------------------------------------------


def _expected(
    expected_band: pd.DataFrame | None,
) -> tuple[tuple[float, float, float], ...] | None:
    if expected_band is None:
        return None
    band = pd.DataFrame(expected_band)
    lower = "lower" if "lower" in band.columns else "expected"
    upper = "upper" if "upper" in band.columns else "yellow_bound"
    missing = [c for c in (schema.SESSION, lower, upper) if c not in band.columns]
    if missing:
        raise DataValidationError(
            f"expected_band has no column {missing[0]!r}; give session with lower/upper, "
            "or the output of harmonybridge.change.predict_bands"
        )
    band = band.sort_values(schema.SESSION)
    lo = np.minimum(band[lower], band[upper])
    hi = np.maximum(band[lower], band[upper])
    return tuple(
        zip(
            band[schema.SESSION].astype(float),
            lo.astype(float),
            hi.astype(float),
            strict=True,
        )
    )


def outcome_spec(
    scores: object,
    *,
    instrument: str,
    cutoff: float | None,
    rc_band: float | None,
    expected_band: pd.DataFrame | None,
    markers: Iterable[Mapping[str, Any]] | None,
    labels: Mapping[str, str] | None,
    title: str | None,
    y_range: tuple[float, float] | None,
    sessions: tuple[int, int] | None,
) -> Spec:
    data = _in.one_engagement(scores)
    name = _NAMES.get(instrument, instrument)
    title = title or f"{name} over sessions"
    d = data[(data[schema.INSTRUMENT] == instrument) & (data[schema.SUBSCALE] == "")]
    series = []
    for i, (resp, frame) in enumerate(
        sorted(d.groupby(schema.RESPONDENT_ID), key=lambda kv: str(kv[0]))
    ):
        role = str(frame[schema.RATER_ROLE].iloc[0])
        series.append(
            Series(
                key=f"{role}:{resp}:{instrument}:total",
                label=_in.label(role, str(resp), labels, 1),
                points=_in.points(frame),
                step=_in.step(frame),
                colour=PALETTE[i % 6],
                attrs=(("rater-role", role), ("respondent", str(resp))),
            )
        )
    lo, hi = y_range or _RANGES.get(instrument) or _data_range(d[schema.SCORE])
    bands, lines, extra = [], [], []
    if rc_band is not None:
        for s in series:
            if s.points:
                intake = s.points[0][1]
                bands.append(
                    Band(
                        "rc_band",
                        f"Reliable-change band: {fmt(intake)} ± {fmt(rc_band)}",
                        intake - rc_band,
                        intake + rc_band,
                        series=s.key,
                    )
                )
                extra.append(
                    f"{s.label}: change smaller than {fmt(rc_band)} points from the intake score {fmt(intake)} (between {fmt(intake - rc_band)} and {fmt(intake + rc_band)}) is not reliable."
                )
    exp = _expected(expected_band)
    expected_line: tuple[tuple[float, float], ...] = ()
    if exp:
        bands.append(
            Band("expected_band", "Expected response band", points=exp, fill="#0072B2")
        )
        if (
            expected_band is not None
            and "expected" in pd.DataFrame(expected_band).columns
        ):
            e = pd.DataFrame(expected_band).sort_values(schema.SESSION)
            expected_line = tuple(
                zip(
                    e[schema.SESSION].astype(float),
                    e["expected"].astype(float),
                    strict=True,
                )
            )
        extra.append("Expected-response band shown from the practice's curves.")
    direction = _direction(instrument)
    if direction:
        extra.append(direction)
    if cutoff is not None:
        lines.append(
            HLine("cutoff", float(cutoff), f"clinical cut-off {fmt(float(cutoff))}")
        )
        extra.append(f"Clinical cut-off at {fmt(float(cutoff))}.")
    marks = _in.parse_markers(markers)
    return Spec(
        chart="outcome",
        title=title,
        desc=_in.describe(title, series, marks, extra),
        y_range=(float(lo), float(hi)),
        y_label=name,
        series=tuple(x for x in series if x.points),
        bands=tuple(bands),
        lines=tuple(lines),
        expected=expected_line,
        markers=marks,
        x_range=sessions,
        empty_message=f"No {name} scores yet.",
        extra={"instrument": instrument},
    )


def _direction(instrument: str) -> str:
    inst = find(instrument)
    if inst is None:
        return ""
    better = inst.higher_is_better
    return "Higher scores are better." if better else "Lower scores are better."


def _data_range(values: pd.Series) -> tuple[float, float]:
    v = values.dropna()
    if v.empty:
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    pad = (hi - lo) * 0.1 or 1.0
    return (lo - pad, hi + pad)


# --- goal progress ------------------------------------------------------------------------


def _goal_rows(data: pd.DataFrame) -> pd.DataFrame:
    """Return (rater_role, respondent_id, goal, session, score) from scores or items."""
    gp = data[data[schema.INSTRUMENT] == "goal_progress"]
    if (
        schema.SUBSCALE in gp.columns
        and gp[schema.SUBSCALE].astype(str).str.startswith("goal_").any()
    ):
        gp = gp[gp[schema.SUBSCALE].astype(str).str.startswith("goal_")]
        goal = gp[schema.SUBSCALE].astype(str).str.removeprefix("goal_").astype(int)
        return gp.assign(goal=goal)
    if schema.ITEM in gp.columns and schema.VALUE in gp.columns:
        return gp.assign(
            goal=gp[schema.ITEM].astype(int), **{schema.SCORE: gp[schema.VALUE]}
        )
    return gp.assign(
        goal=pd.Series(dtype=int), **{schema.SCORE: pd.Series(dtype=float)}
    ).iloc[:0]


def goal_spec(
    scores: object,
    *,
    goals: Mapping[int, str] | None,
    markers: Iterable[Mapping[str, Any]] | None,
    labels: Mapping[str, str] | None,
    title: str,
    sessions: tuple[int, int] | None,
) -> Spec:
    if (
        isinstance(scores, pd.DataFrame)
        and schema.SCORE not in scores.columns
        and schema.VALUE in scores.columns
    ):
        scores = scores.assign(**{schema.SCORE: scores[schema.VALUE]})
    data = _in.one_engagement(scores)
    rows = _goal_rows(data)
    respondents = sorted(rows[schema.RESPONDENT_ID].astype(str).unique())
    series = []
    for group_key, frame in sorted(
        rows.groupby([schema.RESPONDENT_ID, "goal"]),
        key=lambda kv: (str(kv[0][0]), int(kv[0][1])),  # type: ignore[call-overload]
    ):
        resp, goal = str(group_key[0]), int(group_key[1])  # type: ignore[call-overload]
        text = (goals or {}).get(int(goal), "")
        name = f"Goal {goal}" + (f": {_short(text)}" if text else "")
        if len(respondents) > 1:
            name = f"{_in.label('client', str(resp), labels, 1)} – {name}"
        series.append(
            Series(
                key=f"goal:{resp}:{goal}",
                label=name,
                points=_in.points(frame),
                step=_in.step(frame),
                colour=PALETTE[(int(goal) - 1) % 6],
                dash=(None, "6 3", "2 3")[respondents.index(str(resp)) % 3],
                attrs=(("goal", str(goal)), ("respondent", str(resp))),
            )
        )
    marks = _in.parse_markers(markers)
    extra = [f"Goal {g}: {t}." for g, t in sorted((goals or {}).items())]
    return Spec(
        chart="goal-progress",
        title=title,
        desc=_in.describe(
            title,
            series,
            marks,
            ["Scale 0 (no progress) to 10 (goal reached).", *extra],
        ),
        y_range=(0.0, 10.0),
        y_label="Progress (0–10)",
        series=tuple(x for x in series if x.points),
        markers=marks,
        x_range=sessions,
        empty_message="No goal ratings yet.",
    )


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
