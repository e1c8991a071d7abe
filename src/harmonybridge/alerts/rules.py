"""The alert rule table as data: ids, versions, severities, parameters, messages and suggestions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from harmonybridge.errors import DataValidationError

__all__ = [
    "RULE_IDS",
    "RUPTURE_SUGGESTIONS",
    "SEVERITIES",
    "Rule",
    "default_rules",
    "rules_from_records",
]

SEVERITIES: tuple[str, ...] = ("info", "warning", "urgent")

#: The resolution strategies of the Rupture Resolution Rating System
#: (Eubanks, Muran & Safran 2015; docs/references.md), in plain words.
RUPTURE_SUGGESTIONS: tuple[str, ...] = (
    "Ask openly how the client experienced the last session and your work together.",
    "Clarify any misunderstanding about what you said or meant.",
    "Acknowledge your own part in what happened.",
    "Revisit the goals and tasks you agreed on, and change them together if they no longer fit.",
    "Explain the reason behind the task or method you are using.",
    "Accept the client's reservations as understandable rather than defending the approach.",
    "Share how you experienced the moment, if that helps the conversation.",
    "When the time is right, link what happened to patterns in this relationship or in the client's other relationships.",
    "Refocus together on what the client wants from the work.",
)
_OUTCOME_SUGGESTIONS: tuple[str, ...] = (
    "Review progress with the client and ask what is and is not helping.",
    "Check the alliance: agreement on goals and tasks, and the bond.",
    "Consider discussing the case in supervision or consultation.",
    "Review the plan: focus, frequency or approach.",
)
_GAP_SUGGESTIONS: tuple[str, ...] = (
    "Ask the client how the work is going for them and compare it with your own view.",
    "Revisit the goals and tasks you agreed on.",
)
_SPLIT_SUGGESTIONS: tuple[str, ...] = (
    "Give each member room to say how the sessions feel for them.",
    "Look for a goal that every member shares.",
    "Check whether one member feels sided against.",
)
_LOW_EARLY_SUGGESTIONS: tuple[str, ...] = (
    "Ask about the client's expectations and what would make the sessions more useful.",
    "Agree goals and tasks explicitly.",
    "Look at the next sessions before judging: single early ratings are noisy.",
)
_GOOD_NEWS: tuple[str, ...] = (
    "Share the progress with the client.",
    "Discuss what has helped and whether the goals have been met.",
)
_SAFETY_SUGGESTIONS: tuple[str, ...] = (
    "Follow your practice's safety procedure today.",
    "Ask the client directly about thoughts of self-harm and assess the risk.",
    "Record what you did.",
)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table; a practice tunes ``params``, ``severity`` and ``enabled``."""

    rule_id: str
    version: int
    severity: str
    params: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    description: str = ""
    suggestions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise DataValidationError(
                f"rule {self.rule_id!r}: severity must be one of {', '.join(SEVERITIES)}, "
                f"got {self.severity!r}"
            )
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def to_record(self) -> dict[str, Any]:
        """Return the rule as plain types (for JSON storage)."""
        return {
            "rule_id": self.rule_id,
            "version": self.version,
            "severity": self.severity,
            "params": dict(self.params),
            "enabled": self.enabled,
            "description": self.description,
            "suggestions": list(self.suggestions),
        }


_RUPTURE_PARAMS = {
    "baseline": "rolling_mean",
    "baseline_k": 3,
    "min_history": 3,
    "k_sd": 2.0,
    "min_drop_steps": 2,
    "min_sd_history": 5,
    "extended_window": 3,
    "repair_window": 3,
}

_TABLE: tuple[Rule, ...] = (
    Rule(
        "rupture.client",
        2,
        "warning",
        _RUPTURE_PARAMS,
        description="Client's alliance total drops from their rolling baseline by at least "
        "max(k_sd x SD_ref, min_drop_steps response steps of the instrument's total); "
        "SD_ref = own SD once min_sd_history earlier sessions exist, else the practice's "
        "pooled reference (Stiles et al. 2004; Gumz et al. 2012; see docs/alert-rules.md).",
        suggestions=RUPTURE_SUGGESTIONS,
    ),
    Rule(
        "rupture.practitioner",
        2,
        "info",
        _RUPTURE_PARAMS,
        description="The practitioner's own alliance total drops by the same criterion.",
        suggestions=RUPTURE_SUGGESTIONS,
    ),
    Rule(
        "rupture.unrecognised",
        1,
        "warning",
        {"practitioner_drop_min": 0.25},
        description="Client rupture (statistical or reported) while the practitioner's rating "
        "did not drop by practitioner_drop_min and no tension was reported (Chen et al. 2018).",
        suggestions=RUPTURE_SUGGESTIONS,
    ),
    Rule(
        "rupture.self_report",
        1,
        "warning",
        {"tension_min": 2, "resolved_min": 4},
        description="Client or practitioner reports a moment of tension (yes, intensity >= "
        "tension_min on 1-5) in the session (PSQ rupture items, Muran et al.).",
        suggestions=RUPTURE_SUGGESTIONS,
    ),
    Rule(
        "alliance.low_early",
        1,
        "info",
        {"quantile": 0.25, "max_session": 5, "min_reference_n": 20},
        description="Client alliance total in sessions 1-5 below the practice's 25th "
        "percentile at the same session number (project choice; docs/alert-rules.md).",
        suggestions=_LOW_EARLY_SUGGESTIONS,
    ),
    Rule(
        "alliance.gap",
        1,
        "info",
        {"min_abs_z": 2.0, "fallback_raw_gap": 1.5},
        description="|z(client) - z(practitioner)| >= min_abs_z with each rater standardised "
        "on the practice's reference; without a reference, a raw item-mean gap >= "
        "fallback_raw_gap (Marmarosh & Kivlighan 2012; Tryon et al. 2007).",
        suggestions=_GAP_SUGGESTIONS,
    ),
    Rule(
        "alliance.split",
        1,
        "warning",
        {"min_gap": 1.0},
        description="Client members of one engagement differ by >= min_gap item-mean points "
        "in the same session (Friedlander et al. 2011).",
        suggestions=_SPLIT_SUGGESTIONS,
    ),
    Rule(
        "outcome.reliable_deterioration",
        1,
        "warning",
        {"z": 1.96},
        description="Reliable worsening since intake: published reliable-change value "
        "(inclusive) or |RCI| > z (Jacobson & Truax 1991).",
        suggestions=_OUTCOME_SUGGESTIONS,
    ),
    Rule(
        "outcome.not_on_track",
        1,
        "warning",
        {"z_yellow": 1.2816, "z_red": 1.6449, "check_session": 4, "z": 1.96},
        description="Yellow or red against the practice's expected-response curves (Finch et "
        "al. 2001); without curves, no reliable improvement by check_session (Lambert et "
        "al. 2002 rational rule).",
        suggestions=_OUTCOME_SUGGESTIONS,
    ),
    Rule(
        "outcome.sudden_loss",
        1,
        "warning",
        {"min_pct": 0.25, "z": 1.96},
        description="Worsening since the previous session of at least the reliable-change "
        "size and at least min_pct of the previous score (Tang & DeRubeis 1999 criteria 1-2; "
        "criterion 3 needs later sessions).",
        suggestions=_OUTCOME_SUGGESTIONS,
    ),
    Rule(
        "outcome.reliable_improvement",
        1,
        "info",
        {"z": 1.96},
        description="Reliable improvement since intake, first reached in this session.",
        suggestions=_GOOD_NEWS,
    ),
    Rule(
        "outcome.recovered",
        1,
        "info",
        {"z": 1.96},
        description="Clinical at intake, outside the clinical range now, with reliable "
        "improvement (Jacobson & Truax 1991), first reached in this session.",
        suggestions=_GOOD_NEWS,
    ),
    Rule(
        "safety.item",
        1,
        "urgent",
        {},
        description="An item the instrument marks as a safety item (e.g. PHQ-9 item 9 > 0) "
        "was answered in the flagged range.",
        suggestions=_SAFETY_SUGGESTIONS,
    ),
)

RULE_IDS: tuple[str, ...] = tuple(r.rule_id for r in _TABLE)


def default_rules() -> tuple[Rule, ...]:
    """Return the default rule table (see ``docs/alert-rules.md``).

    Returns
    -------
    tuple of Rule
        One rule per id in :data:`RULE_IDS`, each with ``rule_id``,
        ``version``, ``severity``, ``params`` and ``enabled``.
    """
    return _TABLE


def rules_from_records(
    records: Iterable[Mapping[str, Any]], *, base: Iterable[Rule] | None = None
) -> tuple[Rule, ...]:
    """Return the rule table with a practice's overrides applied.

    Parameters
    ----------
    records : iterable of mapping
        Each with ``rule_id`` and any of ``severity``, ``params`` (merged into
        the default parameters), ``enabled``, ``version``.
    base : iterable of Rule, optional
        The table to start from (default :func:`default_rules`).

    Returns
    -------
    tuple of Rule
        The tuned table.
    """
    table = {r.rule_id: r for r in (base or default_rules())}
    for rec in records:
        rid = rec.get("rule_id")
        if rid not in table:
            raise DataValidationError(
                f"unknown rule_id {rid!r}; known: {', '.join(table)}"
            )
        old = table[rid]
        unknown = set(rec.get("params", {})) - set(old.params)
        if unknown:
            raise DataValidationError(
                f"rule {rid!r} has no parameter(s) {sorted(unknown)}"
            )
        table[rid] = replace(
            old,
            severity=rec.get("severity", old.severity),
            enabled=bool(rec.get("enabled", old.enabled)),
            version=int(rec.get("version", old.version)),
            params={**old.params, **dict(rec.get("params", {}))},
        )
    return tuple(table.values())
