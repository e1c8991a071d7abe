"""One-sentence, practitioner-facing messages for each alert rule."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from harmonybridge.formatting import fmt_score

__all__ = ["MESSAGES"]

_Row = dict[str, Any]


def _n(x: Any) -> str:
    """Format a score for a sentence with the one score formatter (unrounded values
    stay in the evidence)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "no rating"
    return fmt_score(x)


def _title(k: _Row) -> str:
    """The instrument's short title (PHQ-9, WHO-5), as practitioners know it."""
    from harmonybridge.instruments import short_title

    return short_title(str(k["instrument"]))


def _who(k: _Row) -> str:
    return "client" if k.get("rater_role") == "client" else "practitioner"


def _rupture_client(k: _Row, e: _Row) -> str:
    return (
        f"The client's alliance rating fell from about {_n(e['baseline'])} to "
        f"{_n(e['score'])} in session {k['session']}, more than their usual "
        "session-to-session variation: a possible rupture."
    )


def _rupture_practitioner(k: _Row, e: _Row) -> str:
    return (
        f"Your own alliance rating fell from about {_n(e['baseline'])} to "
        f"{_n(e['score'])} in session {k['session']}: you may have sensed a strain in "
        "the relationship."
    )


def _unrecognised(k: _Row, e: _Row) -> str:
    return (
        f"The client's alliance rating dropped in session {k['session']} while your own "
        "rating did not, so the strain may have gone unnoticed in the room."
    )


def _self_report(k: _Row, e: _Row) -> str:
    resolution = e.get("resolution")
    if e.get("resolved_in_session"):
        end = ", and said it was resolved by the end"
    elif resolution is None or (
        isinstance(resolution, float) and math.isnan(resolution)
    ):
        end = ", but did not say how far it was resolved"  # "not sure" or not asked
    else:
        end = ", not resolved by the end of the session"
    return (
        f"The {_who(k)} reported a moment of tension or misunderstanding in session "
        f"{k['session']}{end}."
    )


def _low_early(k: _Row, e: _Row) -> str:
    return (
        f"The client's alliance rating in session {k['session']} ({_n(e['score'])}) is "
        "lower than for three in four of this practice's clients at the same session."
    )


def _gap(k: _Row, e: _Row) -> str:
    side = "weaker" if e["discrepancy"] < 0 else "stronger"
    unit = "standard deviations" if e.get("standardised") else "points"
    return (
        f"The client sees the alliance as {side} than you do in session {k['session']} "
        f"(a gap of {_n(abs(e['discrepancy']))} {unit})."
    )


def _split(k: _Row, e: _Row) -> str:
    return (
        f"Members of this engagement rated the alliance very differently in session "
        f"{k['session']} ({_n(e['low_score'])} versus {_n(e['high_score'])}): a possible "
        "split alliance."
    )


def _deterioration(k: _Row, e: _Row) -> str:
    return (
        f"The client's {_title(k)} score has worsened from {_n(e['intake'])} at "
        f"intake to {_n(e['score'])}, more than measurement error explains."
    )


def _not_on_track(k: _Row, e: _Row) -> str:
    if e.get("curves"):
        return (
            f"The client's {_title(k)} score ({_n(e['score'])}) is worse than "
            f"expected at this point for clients who started at {_n(e['intake'])}: not "
            "on track."
        )
    return (
        f"The client's {_title(k)} score has not improved reliably since intake "
        f"({_n(e['intake'])} then, {_n(e['score'])} now) by session {k['session']}: "
        "not on track (rational rule: the practice has no accepted expected-response "
        "curves)."
    )


def _sudden_loss(k: _Row, e: _Row) -> str:
    before = e.get("previous_session")
    since = (
        "the last session"
        if before is None or int(before) == int(k["session"]) - 1
        else f"session {int(before)}, the last with a {_title(k)} score"
    )
    return (
        f"The client's {_title(k)} score worsened sharply since {since}, "
        f"from {_n(e['previous'])} to {_n(e['score'])}."
    )


def _improvement(k: _Row, e: _Row) -> str:
    return (
        f"The client's {_title(k)} score has improved reliably, from "
        f"{_n(e['intake'])} at intake to {_n(e['score'])}."
    )


def _recovered(k: _Row, e: _Row) -> str:
    return (
        # No clinical words: the same sentence reaches coaching engagements.
        f"The client's {_title(k)} score has improved reliably and moved past the "
        f"instrument's threshold ({_n(e['intake'])} to {_n(e['score'])})."
    )


def _safety(k: _Row, e: _Row) -> str:
    return (
        f"The client answered {_title(k)} item {_n(e['item'])} with "
        f"{_n(e['value'])}, which calls for a safety check today."
    )


MESSAGES: dict[str, Callable[[_Row, _Row], str]] = {
    "rupture.client": _rupture_client,
    "rupture.practitioner": _rupture_practitioner,
    "rupture.unrecognised": _unrecognised,
    "rupture.self_report": _self_report,
    "alliance.low_early": _low_early,
    "alliance.gap": _gap,
    "alliance.split": _split,
    "outcome.reliable_deterioration": _deterioration,
    "outcome.not_on_track": _not_on_track,
    "outcome.sudden_loss": _sudden_loss,
    "outcome.reliable_improvement": _improvement,
    "outcome.recovered": _recovered,
    "safety.item": _safety,
}
