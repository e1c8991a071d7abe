"""Frozen dataclasses describing an instrument definition and a scored response."""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harmonybridge.errors import DataValidationError, WordingRequiredError

if TYPE_CHECKING:
    from harmonybridge.instruments._wording import Wording

LICENCE_CLASSES = ("A", "B", "C", "D")
KINDS = ("alliance", "outcome", "rupture", "goals")
RATER_ROLES = ("client", "practitioner")
CLINICAL_WHEN = ("at_or_above", "above", "at_or_below", "below")
SAFETY_OPS = (">", ">=", "==", "<=", "<")
SCORE_METHODS = ("sum", "mean", "none")
_OPS = {">": operator.gt, ">=": operator.ge, "==": operator.eq, "<=": operator.le,
        "<": operator.lt}  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Licence:
    """Licence class (A-D, ADR 0005), terms in words, and where they come from."""

    cls: str
    terms: str
    source: str
    note: str = ""

    @property
    def ships_wording(self) -> bool:
        """Whether the repository may carry the item wording (class A only)."""
        return self.cls == "A"


@dataclass(frozen=True)
class Code:
    """A code (LOINC or answer code) with its provenance and verification state."""

    code: str
    system: str = "http://loinc.org"
    display: str = ""
    verified: bool = False
    source: str = ""


@dataclass(frozen=True)
class ResponseScale:
    """A labelled response scale; ``options`` are ``(value, label)`` in the default language."""

    id: str
    min: int
    max: int
    options: tuple[tuple[int, str], ...]
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    codes: tuple[Code | None, ...] = ()
    verified: bool = True
    configurable: bool = False
    note: str = ""

    @property
    def values(self) -> tuple[int, ...]:
        """The allowed answer values, lowest first."""
        return tuple(v for v, _ in self.options)

    def option_labels(self, language: str = "en") -> tuple[tuple[int, str], ...]:
        """Return ``(value, label)`` pairs in ``language`` (numbers when no label exists)."""
        labels = self.labels.get(language)
        if not labels:
            return self.options
        return tuple(zip(self.values, labels, strict=True))


@dataclass(frozen=True)
class Item:
    """One item: wording per language (empty when not shipped), scale and scoring keys.

    ``private`` marks an answer meant for its respondent's own use (such as the
    practitioner's prediction): it is never exported and feeds no exported score.
    """

    number: int
    text: Mapping[str, str]
    scale: str
    subscales: tuple[str, ...] = ()
    reverse: bool = False
    scored: bool = True
    condition: tuple[int, int] | None = None
    free_text_label: str = ""
    loinc: Code | None = None
    required: bool = True
    private: bool = False


@dataclass(frozen=True)
class Norm:
    """A reliability, SD or reliable-change value with its provenance."""

    value: float
    source: str
    sample: str = ""
    n: int | None = None
    type: str = ""
    verified: bool = False


@dataclass(frozen=True)
class Cutoff:
    """A clinical cut-off; ``clinical_when`` says which side (and whether inclusive)."""

    value: float
    clinical_when: str
    source: str = ""
    verified: bool = False

    def is_clinical(self, x: float | None) -> bool | None:
        """Return whether score ``x`` lies in the clinical range (None for no score)."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        compare = {"at_or_above": ">=", "above": ">", "at_or_below": "<=", "below": "<"}
        result: bool | None = _OPS[compare[self.clinical_when]](x, self.value)
        return result


@dataclass(frozen=True)
class Convention:
    """A caseness convention: one cut-off and the reliable-change criterion paired with it.

    A definition may declare several (``[conventions.<name>]``), exactly one marked
    ``default``; :meth:`Instrument.with_convention` applies one. The change criterion
    is either a published value (``rc_value``) or ``sd`` with ``reliability`` (Jacobson
    & Truax 1991); ``pairing`` says why this criterion goes with this cut-off.
    """

    name: str
    title: str
    description: str
    cutoff: Cutoff
    rc_value: Norm | None = None
    sd: Norm | None = None
    reliability: Norm | None = None
    default: bool = False
    pairing: str = ""

    def describe(self) -> str:
        """One line: the cut-off and its change criterion, with their sources."""
        when = {"at_or_above": ">=", "above": ">", "at_or_below": "<=", "below": "<"}
        text = (
            f"{self.title}: caseness {when[self.cutoff.clinical_when]} "
            f"{self.cutoff.value:g} ({self.cutoff.source})"
        )
        if self.rc_value is not None:
            return text + (
                f"; reliable change >= {self.rc_value.value:g} points "
                f"({self.rc_value.source})"
            )
        assert self.sd is not None
        assert self.reliability is not None
        return text + (
            f"; reliable change from SD {self.sd.value:g} ({self.sd.source}) and "
            f"reliability {self.reliability.value:g} ({self.reliability.source})"
        )


@dataclass(frozen=True)
class Band:
    """A labelled score band; each bound says whether it is inclusive."""

    label: str
    low: float
    high: float
    low_inclusive: bool = True
    high_inclusive: bool = True

    def contains(self, x: float) -> bool:
        """Return whether ``x`` falls in this band."""
        above = x >= self.low if self.low_inclusive else x > self.low
        below = x <= self.high if self.high_inclusive else x < self.high
        return above and below

    def describe(self) -> str:
        """Return the band in interval notation, e.g. ``[5, 10) mild``."""
        lo = "[" if self.low_inclusive else "("
        hi = "]" if self.high_inclusive else ")"
        return f"{lo}{self.low:g}, {self.high:g}{hi} {self.label}"


@dataclass(frozen=True)
class SafetyRule:
    """A rule that flags one answer regardless of the total, e.g. PHQ-9 item 9 > 0."""

    item: int
    op: str
    value: float
    message_key: str

    def fires(self, x: float | None) -> bool:
        """Return whether answer ``x`` triggers the rule (never for a missing answer)."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return False
        result: bool = _OPS[self.op](x, self.value)
        return result


@dataclass(frozen=True)
class ScoreRule:
    """How a total or subscale is computed from its items.

    ``score = raw * multiplier + offset`` where ``raw`` is the item sum (prorated
    to all items when some are missing) or the item mean; the score exists only
    when at least ``min_answered`` of its items are answered.
    """

    method: str
    items: tuple[int, ...]
    min_answered: int
    multiplier: float = 1.0
    offset: float = 0.0
    count_missing: bool = True
    #: Provenance of the missing-item rule ("published: source" or "project choice:
    #: reason"), reported with every prorated score.
    prorating: str = ""


@dataclass(frozen=True)
class InfoFlag:
    """An information flag on a score, e.g. WHO-5 "any item 0 or 1" (not an alert)."""

    key: str
    items: tuple[int, ...]
    op: str
    value: float
    text: str
    source: str

    def fires(self, values: Mapping[int, float | None]) -> bool:
        """Return whether any of the flag's items (answered) meets ``op value``."""
        return any(
            v is not None
            and not (isinstance(v, float) and math.isnan(v))
            and _OPS[self.op](v, self.value)
            for n in self.items
            if (v := values.get(n)) is not None
        )


@dataclass(frozen=True)
class ScoreResult:
    """The scores of one completed questionnaire."""

    instrument: str
    total: float | None
    subscales: Mapping[str, float | None]
    n_missing: int
    prorated: bool
    band: str | None
    clinical: bool | None
    safety: tuple[SafetyRule, ...]
    reason: str | None = None
    derived: Mapping[str, float | None] = field(default_factory=dict)
    #: Keys of the information flags that fired (e.g. ``who5_item_0_or_1``).
    flags: tuple[str, ...] = ()
    #: For a prorated score: the missing-item rule used and its provenance.
    prorating: str | None = None

    @property
    def has_safety_flag(self) -> bool:
        """Whether any safety rule fired."""
        return bool(self.safety)


@dataclass(frozen=True)
class Instrument:
    """A validated instrument definition (see ``definitions/<id>.toml``)."""

    id: str
    version: str
    title: str
    short_title: str
    citation: str
    licence: Licence
    rater_role: str
    kind: str
    languages: tuple[str, ...]
    scales: Mapping[str, ResponseScale]
    items: tuple[Item, ...]
    total: ScoreRule
    subscale_rules: Mapping[str, ScoreRule]
    higher_is_better: bool
    is_validated: bool = True
    stem: Mapping[str, str] = field(default_factory=dict)
    counterpart: str | None = None
    bands: tuple[Band, ...] = ()
    cutoff: Cutoff | None = None
    sd: Norm | None = None
    reliability: Norm | None = None
    rc_value: Norm | None = None
    safety_items: tuple[SafetyRule, ...] = ()
    info_flags: tuple[InfoFlag, ...] = ()
    derived_items: Mapping[str, int] = field(default_factory=dict)
    loinc_panel: Code | None = None
    loinc_total: Code | None = None
    has_wording: bool = True
    notes: str = ""
    source_path: str = ""
    #: Named caseness conventions (cut-off + reliable-change criterion pairs); the
    #: ``cutoff``, ``rc_value``, ``sd`` and ``reliability`` above are those of the
    #: applied one, named in ``convention`` (the default unless chosen).
    conventions: tuple[Convention, ...] = ()
    convention: str | None = None

    @property
    def default_convention(self) -> str | None:
        """Name of the default caseness convention (None: the definition has none)."""
        return next((c.name for c in self.conventions if c.default), None)

    @property
    def convention_names(self) -> tuple[str, ...]:
        """Names of the declared caseness conventions, in definition order."""
        return tuple(c.name for c in self.conventions)

    def get_convention(self, name: str | None = None) -> Convention:
        """Return the convention ``name`` (the default for None).

        Raises ``DataValidationError`` naming the known conventions for an unknown
        name, or saying the instrument declares none.
        """
        if not self.conventions:
            raise DataValidationError(
                f"instrument {self.id!r} declares no caseness conventions; its cut-off "
                "and reliable-change criterion are fixed by its definition"
            )
        wanted = self.default_convention if name is None else name
        for c in self.conventions:
            if c.name == wanted:
                return c
        raise DataValidationError(
            f"instrument {self.id!r} has no caseness convention {name!r}; known "
            f"conventions: {', '.join(self.convention_names)} "
            f"(default {self.default_convention})"
        )

    def with_convention(self, name: str | None = None) -> Instrument:
        """Return a copy whose cut-off and reliable-change criterion are convention ``name``.

        ``None`` applies the default convention (and returns the instrument unchanged
        when it declares none). The pair is applied together: the convention's cut-off,
        published change value, SD and reliability replace the current ones.
        """
        if name is None and not self.conventions:
            return self
        c = self.get_convention(name)
        return dataclasses.replace(
            self,
            cutoff=c.cutoff,
            rc_value=c.rc_value,
            sd=c.sd,
            reliability=c.reliability,
            convention=c.name,
        )

    @property
    def subscales(self) -> tuple[str, ...]:
        """Names of the subscales, in definition order."""
        return tuple(self.subscale_rules)

    @property
    def requires_wording(self) -> bool:
        """Whether the practice must supply licensed wording (class C/B/D)."""
        return not self.licence.ships_wording

    @property
    def item_numbers(self) -> tuple[int, ...]:
        """All item numbers, in order."""
        return tuple(i.number for i in self.items)

    @property
    def private_items(self) -> frozenset[int]:
        """Numbers of the items flagged ``private`` (never exported)."""
        return frozenset(i.number for i in self.items if i.private)

    @property
    def private_scores(self) -> frozenset[str]:
        """Subscales and derived scores that expose or use a private item.

        A subscale whose rule includes a private item, a derived score that is a
        private item's raw answer, and ``""`` (the total) when the total uses one.
        """
        private = self.private_items
        names = {
            n for n, rule in self.subscale_rules.items() if private & set(rule.items)
        }
        names |= {n for n, number in self.derived_items.items() if number in private}
        if private & set(self.total.items):
            names.add("")
        return frozenset(names)

    def item(self, number: int) -> Item:
        """Return item ``number`` or raise naming the allowed numbers."""
        for it in self.items:
            if it.number == number:
                return it
        raise DataValidationError(
            f"instrument {self.id!r} has no item {number!r}; "
            f"items are {', '.join(map(str, self.item_numbers))}"
        )

    def score(self, answers: Mapping[Any, Any]) -> ScoreResult:
        """Score one questionnaire; see :func:`harmonybridge.instruments.score_answers`."""
        from harmonybridge.instruments._scoring import score_answers

        return score_answers(self, answers)

    def with_wording(self, wording: Wording) -> Instrument:
        """Return a copy carrying the practice's licensed wording (validated)."""
        from harmonybridge.instruments._wording import apply_wording

        return apply_wording(self, wording)

    def require_wording(self) -> Instrument:
        """Return self, or raise ``WordingRequiredError`` when wording is still missing."""
        if not self.has_wording:
            raise WordingRequiredError(
                f"instrument {self.id!r} ({self.title}) is licence class "
                f"{self.licence.cls}: its item wording is not shipped; load the "
                "practice's licensed wording file (load_wording) and use "
                "inst.with_wording(wording) before administering it"
            )
        return self

    def form(self, language: str = "en") -> tuple[tuple[Item, str], ...]:
        """Return ``(item, text)`` pairs to show a respondent, in ``language``.

        Raises ``WordingRequiredError`` for a licensed instrument without wording
        and ``DataValidationError`` for a language the definition does not have.
        """
        self.require_wording()
        if language not in self.languages:
            raise DataValidationError(
                f"instrument {self.id!r} has no wording in language {language!r}; "
                f"languages: {', '.join(self.languages)}"
            )
        return tuple(
            (it, it.text.get(language, it.free_text_label)) for it in self.items
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as JSON-ready data (``licence.cls`` shown as ``class``)."""
        data = _plain(dataclasses.asdict(self))
        data["licence"]["class"] = data["licence"].pop("cls")
        data["subscales"] = list(self.subscales)
        data["requires_wording"] = self.requires_wording
        data.pop("source_path", None)
        result: dict[str, Any] = data
        return result

    def replace(self, **changes: Any) -> Instrument:
        """Return a copy with ``changes`` applied (dataclasses.replace)."""
        return dataclasses.replace(self, **changes)


def total_step(inst: Instrument) -> float:
    """The smallest possible change of the instrument's total: one response step.

    One step of an item (the smallest gap between the item's response values),
    divided by the number of items for a mean score, times the multiplier. The
    3-item check-in (1-5, mean) moves in steps of 1/3, the 12-item WAI-SR in 1/12.
    """
    rule = inst.total
    if rule.method == "none" or not rule.items:
        raise DataValidationError(f"instrument {inst.id!r} has no total score")
    steps = []
    for n in rule.items:
        values = sorted(inst.scales[inst.item(n).scale].values)
        steps.append(min(b - a for a, b in itertools.pairwise(values)))
    step = float(min(steps))
    if rule.method == "mean":
        step /= len(rule.items)
    return step * abs(rule.multiplier)
