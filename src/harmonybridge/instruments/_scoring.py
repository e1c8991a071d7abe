"""Exact scoring of one completed questionnaire (``Instrument.score``)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from harmonybridge.errors import DataValidationError
from harmonybridge.instruments._model import Instrument, ScoreResult, ScoreRule


def _allowed(inst: Instrument, number: int) -> str:
    values = inst.scales[inst.item(number).scale].values
    return f"allowed: {', '.join(map(str, values))} (or empty for a missing answer)"


def _item_number(inst: Instrument, key: Any) -> int:
    number: int | None = None
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        number = int(key)
    elif isinstance(key, str) and key.strip().isdigit():
        number = int(key.strip())
    elif isinstance(key, float) and key.is_integer():
        number = int(key)
    if number is None or number not in inst.item_numbers:
        raise DataValidationError(
            f"instrument {inst.id!r} has no item {key!r}; "
            f"items are {', '.join(map(str, inst.item_numbers))}"
        )
    return number


def _value(inst: Instrument, number: int, raw: Any) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        value: float | None = None
    elif isinstance(raw, numbers.Real):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = None
    else:
        value = None
    if value is None:
        raise DataValidationError(
            f"instrument {inst.id!r} item {number}: value {raw!r} is not a number; "
            + _allowed(inst, number)
        )
    if math.isnan(value):
        return None
    if value not in inst.scales[inst.item(number).scale].values:
        raise DataValidationError(
            f"instrument {inst.id!r} item {number}: value {raw!r} is off the response "
            "scale; " + _allowed(inst, number)
        )
    return value


def clean_answers(
    inst: Instrument, answers: Mapping[Any, Any]
) -> dict[int, float | None]:
    """Validate ``answers`` and return ``{item: value or None}`` for every item.

    An answer to a conditional item whose condition is not met (e.g. "how tense"
    when the respondent said there was no tension) is not applicable and is
    treated as missing.
    """
    if not isinstance(answers, Mapping):
        raise DataValidationError(
            f"answers must be a mapping of item number to value, got {type(answers).__name__}"
        )
    values: dict[int, float | None] = dict.fromkeys(inst.item_numbers)
    for key, raw in answers.items():
        number = _item_number(inst, key)
        values[number] = _value(inst, number, raw)
    for it in inst.items:
        if it.condition is not None:
            ref, wanted = it.condition
            if values[ref] != wanted:
                values[it.number] = None
    return values


def keyed(inst: Instrument, number: int, value: float) -> float:
    """Return ``value`` reverse-keyed when the item is reversed: ``min + max - value``."""
    it = inst.item(number)
    if not it.reverse:
        return value
    scale = inst.scales[it.scale]
    return scale.min + scale.max - value


def apply_rule(
    inst: Instrument, rule: ScoreRule, values: Mapping[int, float | None]
) -> tuple[float | None, int, bool, str | None]:
    """Return ``(score, n_missing, prorated, reason)`` for one score rule.

    Sum scores are prorated as ``sum(answered) * n_items / n_answered``; mean
    scores are the mean of the answered items. Either needs at least
    ``rule.min_answered`` answered items, otherwise the score is None with a reason.
    """
    if rule.method == "none":
        return None, 0, False, None
    answered = [keyed(inst, n, v) for n in rule.items if (v := values[n]) is not None]
    n_items, n_answered = len(rule.items), len(answered)
    n_missing = n_items - n_answered if rule.count_missing else 0
    if n_answered < rule.min_answered:
        reason = (
            f"{n_items - n_answered} of {n_items} items unanswered; "
            f"at least {rule.min_answered} must be answered"
        )
        return None, n_missing, False, reason
    total = math.fsum(answered)
    if rule.method == "sum":
        raw = total * n_items / n_answered if n_answered < n_items else total
    else:
        raw = total / n_answered
    prorated = rule.count_missing and n_answered < n_items
    return raw * rule.multiplier + rule.offset, n_missing, prorated, None


def band_of(inst: Instrument, score: float | None) -> str | None:
    """Return the label of the band holding ``score`` (None if no band or no score)."""
    if score is None:
        return None
    for band in inst.bands:
        if band.contains(score):
            return band.label
    return None


def score_answers(inst: Instrument, answers: Mapping[Any, Any]) -> ScoreResult:
    """Score one completed questionnaire exactly.

    Parameters
    ----------
    inst : Instrument
        The instrument definition.
    answers : mapping
        Item number -> raw answer (a number on the item's scale, or None/NaN
        for a missing answer). Items not given count as missing.

    Returns
    -------
    ScoreResult
        Total and subscale scores (unrounded), ``n_missing`` of the total's
        items, ``prorated``, ``band``, ``clinical`` (cut-off status),
        ``safety`` (the safety rules that fired, independent of the total),
        ``reason`` when no total could be computed, and ``derived`` raw item
        scores (e.g. ``rupture_present``).

    Raises
    ------
    DataValidationError
        For an unknown item, a non-numeric value or a value off the item's
        response scale, naming the item, the value and the allowed values.

    References
    ----------
    Scoring rules per instrument are in its definition file, with their sources
    (``docs/references.md``). Reference tests:
    ``tests/core/test_scoring_instruments.py``.
    """
    values = clean_answers(inst, answers)
    total, n_missing, prorated, reason = apply_rule(inst, inst.total, values)
    subscales = {
        name: apply_rule(inst, rule, values)[0]
        for name, rule in inst.subscale_rules.items()
    }
    return ScoreResult(
        instrument=inst.id,
        total=total,
        subscales=subscales,
        n_missing=n_missing,
        prorated=prorated,
        band=band_of(inst, total),
        clinical=inst.cutoff.is_clinical(total) if inst.cutoff is not None else None,
        safety=tuple(r for r in inst.safety_items if r.fires(values[r.item])),
        reason=reason,
        derived={name: values[number] for name, number in inst.derived_items.items()},
        flags=tuple(f.key for f in inst.info_flags if f.fires(values)),
        prorating=(
            inst.total.prorating
            or "project choice: no published rule for missing items"
        )
        if prorated
        else None,
    )
