"""The definition schema: validate a parsed definition mapping into an Instrument.

The schema is written as code: each table has its own parser that checks field
names, types and cross-references. Every problem raises
:class:`~harmonybridge.errors.DefinitionError` naming the file, the field (dotted
path) and what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harmonybridge.errors import DefinitionError
from harmonybridge.instruments._model import (
    CLINICAL_WHEN,
    KINDS,
    LICENCE_CLASSES,
    RATER_ROLES,
    SAFETY_OPS,
    SCORE_METHODS,
    Band,
    Code,
    Convention,
    Cutoff,
    InfoFlag,
    Instrument,
    Item,
    Licence,
    Norm,
    ResponseScale,
    SafetyRule,
    ScoreRule,
)

_TOP = {
    "id": str, "version": str, "title": str, "short_title": str, "citation": str,
    "rater_role": str, "kind": str, "languages": list, "higher_is_better": bool,
    "is_validated": bool, "counterpart": str, "notes": str, "stem": dict,
    "licence": dict, "scales": dict, "items": list, "scoring": dict, "bands": list,
    "cutoff": dict, "norms": dict, "safety": list, "derived": dict, "loinc": dict,
    "flags": list, "conventions": dict,
}  # fmt: skip
_REQUIRED_TOP = (
    "id", "version", "title", "citation", "rater_role", "kind", "languages",
    "higher_is_better", "licence", "scales", "items", "scoring",
)  # fmt: skip
_NUMBER = (int, float)


class _Ctx:
    """Carries the file name so that every error names it."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> DefinitionError:
        return DefinitionError(f"{self.source}: field {path!r}: {problem}")

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        types: type | tuple[type, ...],
        path: str,
        *,
        default: Any = ...,
    ) -> Any:
        """Return ``table[key]`` checked against ``types`` (bool is never a number)."""
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "is required but missing")
            return default
        value = table[key]
        wanted = types if isinstance(types, tuple) else (types,)
        if isinstance(value, bool) and bool not in wanted:
            ok = False
        else:
            ok = isinstance(value, wanted)
        if not ok:
            names = " or ".join(t.__name__ for t in wanted)
            raise self.fail(
                full, f"must be {names}, got {type(value).__name__} {value!r}"
            )
        return value

    def only(self, table: Mapping[str, Any], allowed: Any, path: str) -> None:
        """Reject keys not in ``allowed`` (catches typos such as ``reverce``)."""
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                raise self.fail(
                    where, f"unknown field; allowed: {', '.join(sorted(allowed))}"
                )

    def choice(self, value: str, allowed: tuple[str, ...], path: str) -> str:
        if value not in allowed:
            raise self.fail(path, f"{value!r} is not one of {', '.join(allowed)}")
        return value


def _code(ctx: _Ctx, raw: Any, path: str) -> Code:
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table {code=..., verified=..., source=...}")
    ctx.only(raw, {"code", "system", "display", "verified", "source"}, path)
    return Code(
        code=ctx.get(raw, "code", str, path),
        system=ctx.get(raw, "system", str, path, default="http://loinc.org"),
        display=ctx.get(raw, "display", str, path, default=""),
        verified=ctx.get(raw, "verified", bool, path, default=False),
        source=ctx.get(raw, "source", str, path, default=""),
    )


def _scale(ctx: _Ctx, sid: str, raw: Any, languages: tuple[str, ...]) -> ResponseScale:
    path = f"scales.{sid}"
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table")
    keys = {"min", "max", "labels", "codes", "verified", "configurable", "note"}
    ctx.only(raw, keys, path)
    lo, hi = ctx.get(raw, "min", int, path), ctx.get(raw, "max", int, path)
    if hi <= lo:
        raise ctx.fail(f"{path}.max", f"must be greater than min ({lo}), got {hi}")
    values = tuple(range(lo, hi + 1))
    labels: dict[str, tuple[str, ...]] = {}
    for lang, lab in ctx.get(raw, "labels", dict, path, default={}).items():
        lpath = f"{path}.labels.{lang}"
        if lang not in languages:
            raise ctx.fail(lpath, f"language not in languages ({', '.join(languages)})")
        if not isinstance(lab, list) or not all(isinstance(x, str) for x in lab):
            raise ctx.fail(lpath, "must be a list of strings")
        if len(lab) != len(values):
            raise ctx.fail(
                lpath, f"needs {len(values)} labels ({lo}..{hi}), got {len(lab)}"
            )
        labels[lang] = tuple(lab)
    codes_raw = ctx.get(raw, "codes", list, path, default=[])
    if codes_raw and len(codes_raw) != len(values):
        raise ctx.fail(
            f"{path}.codes", f"needs {len(values)} codes, got {len(codes_raw)}"
        )
    codes = tuple(_code(ctx, c, f"{path}.codes[{i}]") for i, c in enumerate(codes_raw))
    first = labels.get(languages[0]) if languages else None
    options = tuple((v, first[k] if first else str(v)) for k, v in enumerate(values))
    return ResponseScale(
        id=sid, min=lo, max=hi, options=options, labels=labels, codes=codes,
        verified=ctx.get(raw, "verified", bool, path, default=True),
        configurable=ctx.get(raw, "configurable", bool, path, default=False),
        note=ctx.get(raw, "note", str, path, default=""),
    )  # fmt: skip


def _text(ctx: _Ctx, raw: Any, path: str, languages: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table {language = text}")
    for lang, text in raw.items():
        if lang not in languages:
            raise ctx.fail(
                f"{path}.{lang}", f"language not in languages ({', '.join(languages)})"
            )
        if not isinstance(text, str) or not text.strip():
            raise ctx.fail(f"{path}.{lang}", "must be non-empty text")
    return dict(raw)


_ITEM_KEYS = {
    "number", "text", "scale", "subscales", "reverse", "scored", "condition",
    "free_text_label", "loinc", "required", "private",
}  # fmt: skip


def _item(
    ctx: _Ctx,
    k: int,
    raw: Any,
    lic: Licence,
    langs: tuple[str, ...],
    scales: dict[str, Any],
) -> Item:
    path = f"items[{k}]"
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table")
    number = ctx.get(raw, "number", int, path)
    path = f"items[{k}] (item {number})"
    ctx.only(raw, _ITEM_KEYS, path)
    text = _text(ctx, raw.get("text", {}), f"{path}.text", langs)
    if text and not lic.ships_wording:
        raise ctx.fail(
            f"{path}.text",
            f"licence class {lic.cls} forbids shipping item wording; supply it in a wording file",
        )
    if lic.ships_wording and set(text) != set(langs):
        raise ctx.fail(
            f"{path}.text", f"needs wording in every language ({', '.join(langs)})"
        )
    scale = ctx.get(raw, "scale", str, path)
    if scale not in scales:
        raise ctx.fail(
            f"{path}.scale", f"unknown scale {scale!r}; scales: {', '.join(scales)}"
        )
    subs = ctx.get(raw, "subscales", list, path, default=[])
    if not all(isinstance(s, str) for s in subs):
        raise ctx.fail(f"{path}.subscales", "must be a list of subscale names")
    cond = ctx.get(raw, "condition", list, path, default=None)
    if cond is not None and (len(cond) != 2 or not all(type(c) is int for c in cond)):
        raise ctx.fail(f"{path}.condition", "must be [item_number, value]")
    loinc = raw.get("loinc")
    return Item(
        number=number, text=text, scale=scale, subscales=tuple(subs),
        reverse=ctx.get(raw, "reverse", bool, path, default=False),
        scored=ctx.get(raw, "scored", bool, path, default=True),
        condition=(cond[0], cond[1]) if cond is not None else None,
        free_text_label=ctx.get(raw, "free_text_label", str, path, default=""),
        loinc=_code(ctx, loinc, f"{path}.loinc") if loinc is not None else None,
        required=ctx.get(raw, "required", bool, path, default=True),
        private=ctx.get(raw, "private", bool, path, default=False),
    )  # fmt: skip


def _check_items(ctx: _Ctx, items: tuple[Item, ...], scales: dict[str, Any]) -> None:
    numbers = [i.number for i in items]
    if numbers != list(range(1, len(items) + 1)):
        raise ctx.fail(
            "items", f"item numbers must run 1..{len(items)} in order, got {numbers}"
        )
    by_number = {i.number: i for i in items}
    for it in items:
        if it.condition is None:
            continue
        ref, value = it.condition
        where = f"items[{it.number - 1}] (item {it.number}).condition"
        if ref not in by_number or ref == it.number:
            raise ctx.fail(where, f"refers to unknown item {ref}")
        if value not in scales[by_number[ref].scale].values:
            raise ctx.fail(where, f"value {value} is not on item {ref}'s scale")


def _rule(
    ctx: _Ctx, raw: Any, path: str, default_items: tuple[int, ...], n_items: int
) -> ScoreRule:
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table")
    keys = {
        "method", "items", "min_answered", "multiplier", "offset", "count_missing",
        "prorating",
    }  # fmt: skip
    ctx.only(raw, keys, path)
    method = ctx.choice(
        ctx.get(raw, "method", str, path), SCORE_METHODS, f"{path}.method"
    )
    items = tuple(ctx.get(raw, "items", list, path, default=list(default_items)))
    if any(type(i) is not int or not 1 <= i <= n_items for i in items):
        raise ctx.fail(
            f"{path}.items", f"must be item numbers 1..{n_items}, got {list(items)}"
        )
    if method != "none" and not items:
        raise ctx.fail(f"{path}.items", "no items to score")
    default_min = len(items) if method != "none" else 0
    min_answered = ctx.get(raw, "min_answered", int, path, default=default_min)
    if method != "none" and not 1 <= min_answered <= len(items):
        raise ctx.fail(
            f"{path}.min_answered",
            f"must be between 1 and {len(items)}, got {min_answered}",
        )
    return ScoreRule(
        method=method, items=items, min_answered=min_answered,
        multiplier=float(ctx.get(raw, "multiplier", _NUMBER, path, default=1.0)),
        offset=float(ctx.get(raw, "offset", _NUMBER, path, default=0.0)),
        count_missing=ctx.get(raw, "count_missing", bool, path, default=True),
        prorating=ctx.get(raw, "prorating", str, path, default=""),
    )  # fmt: skip


def _scoring(
    ctx: _Ctx, raw: dict[str, Any], items: tuple[Item, ...]
) -> tuple[ScoreRule, dict[str, Any]]:
    ctx.only(raw, {"total", "subscales"}, "scoring")
    scored = tuple(i.number for i in items if i.scored)
    total = _rule(
        ctx, ctx.get(raw, "total", dict, "scoring"), "scoring.total", scored, len(items)
    )
    declared = ctx.get(raw, "subscales", dict, "scoring", default={})
    used = {s for i in items for s in i.subscales}
    for name in used - set(declared):
        raise ctx.fail(
            "scoring.subscales", f"items use subscale {name!r} but it is not defined"
        )
    subs = {}
    for name, sub in declared.items():
        members = tuple(i.number for i in items if name in i.subscales and i.scored)
        subs[name] = _rule(ctx, sub, f"scoring.subscales.{name}", members, len(items))
    return total, subs


def _bands(ctx: _Ctx, raw: list[Any]) -> tuple[Band, ...]:
    bands: list[Band] = []
    for k, b in enumerate(raw):
        path = f"bands[{k}]"
        if not isinstance(b, dict):
            raise ctx.fail(path, "must be a table")
        ctx.only(b, {"label", "low", "high", "low_inclusive", "high_inclusive"}, path)
        band = Band(
            label=ctx.get(b, "label", str, path),
            low=float(ctx.get(b, "low", _NUMBER, path)),
            high=float(ctx.get(b, "high", _NUMBER, path)),
            low_inclusive=ctx.get(b, "low_inclusive", bool, path, default=True),
            high_inclusive=ctx.get(b, "high_inclusive", bool, path, default=True),
        )
        if band.high < band.low:
            raise ctx.fail(f"{path}.high", f"must not be below low ({band.low:g})")
        if bands and (
            band.low < bands[-1].high
            or (
                band.low == bands[-1].high
                and band.low_inclusive
                and bands[-1].high_inclusive
            )
        ):
            raise ctx.fail(
                path, f"overlaps band {bands[-1].label!r} (list bands low to high)"
            )
        bands.append(band)
    return tuple(bands)


def _norm(ctx: _Ctx, raw: Any, path: str) -> Norm:
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table")
    ctx.only(raw, {"value", "source", "sample", "n", "type", "verified"}, path)
    return Norm(
        value=float(ctx.get(raw, "value", _NUMBER, path)),
        source=ctx.get(raw, "source", str, path),
        sample=ctx.get(raw, "sample", str, path, default=""),
        n=ctx.get(raw, "n", int, path, default=None),
        type=ctx.get(raw, "type", str, path, default=""),
        verified=ctx.get(raw, "verified", bool, path),
    )


def _safety(
    ctx: _Ctx, raw: list[Any], items: tuple[Item, ...], scales: dict[str, Any]
) -> tuple[SafetyRule, ...]:
    rules = []
    for k, r in enumerate(raw):
        path = f"safety[{k}]"
        if not isinstance(r, dict):
            raise ctx.fail(path, "must be a table")
        ctx.only(r, {"item", "op", "value", "message_key"}, path)
        item = ctx.get(r, "item", int, path)
        if not 1 <= item <= len(items):
            raise ctx.fail(f"{path}.item", f"unknown item {item}")
        rules.append(SafetyRule(
            item=item, op=ctx.choice(ctx.get(r, "op", str, path), SAFETY_OPS, f"{path}.op"),
            value=float(ctx.get(r, "value", _NUMBER, path)),
            message_key=ctx.get(r, "message_key", str, path),
        ))  # fmt: skip
    return tuple(rules)


def _flags(ctx: _Ctx, raw: list[Any], items: tuple[Item, ...]) -> tuple[InfoFlag, ...]:
    out = []
    for k, r in enumerate(raw):
        path = f"flags[{k}]"
        if not isinstance(r, dict):
            raise ctx.fail(path, "must be a table")
        ctx.only(r, {"key", "items", "op", "value", "text", "source"}, path)
        nums = tuple(ctx.get(r, "items", list, path))
        if not nums or any(
            type(i) is not int or not 1 <= i <= len(items) for i in nums
        ):
            raise ctx.fail(f"{path}.items", f"must be item numbers 1..{len(items)}")
        out.append(InfoFlag(
            key=ctx.get(r, "key", str, path), items=nums,
            op=ctx.choice(ctx.get(r, "op", str, path), SAFETY_OPS, f"{path}.op"),
            value=float(ctx.get(r, "value", _NUMBER, path)),
            text=ctx.get(r, "text", str, path), source=ctx.get(r, "source", str, path),
        ))  # fmt: skip
    return tuple(out)


def _cutoff(
    ctx: _Ctx, raw: dict[str, Any] | None, path: str = "cutoff"
) -> Cutoff | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table")
    ctx.only(raw, {"value", "clinical_when", "source", "verified"}, path)
    when = ctx.get(raw, "clinical_when", str, path)
    return Cutoff(
        value=float(ctx.get(raw, "value", _NUMBER, path)),
        clinical_when=ctx.choice(when, CLINICAL_WHEN, f"{path}.clinical_when"),
        source=ctx.get(raw, "source", str, path),
        verified=ctx.get(raw, "verified", bool, path),
    )


_CONVENTION_KEYS = {
    "title", "description", "default", "pairing", "cutoff", "rc_value", "sd",
    "reliability",
}  # fmt: skip


def _convention(ctx: _Ctx, name: str, raw: Any, reliability: Norm | None) -> Convention:
    """One caseness convention: a cut-off paired with its reliable-change criterion."""
    path = f"conventions.{name}"
    if not isinstance(raw, dict):
        raise ctx.fail(path, "must be a table")
    ctx.only(raw, _CONVENTION_KEYS, path)
    if "cutoff" not in raw:
        raise ctx.fail(
            f"{path}.cutoff",
            "a caseness convention needs its cut-off (a convention is a cut-off paired "
            "with its reliable-change criterion)",
        )
    norms = {
        k: _norm(ctx, raw[k], f"{path}.{k}")
        for k in ("rc_value", "sd", "reliability")
        if k in raw
    }
    if "rc_value" in norms and "sd" in norms:
        raise ctx.fail(
            path,
            "give either rc_value (a published reliable-change value) or sd with "
            "reliability, not both: one criterion decides",
        )
    computed = "sd" in norms and "reliability" in norms
    if "rc_value" not in norms and not computed:
        raise ctx.fail(
            path,
            "a caseness convention needs its reliable-change criterion: rc_value (a "
            "published value), or sd and reliability",
        )
    cutoff = _cutoff(ctx, raw["cutoff"], f"{path}.cutoff")
    assert cutoff is not None
    return Convention(
        name=name,
        title=ctx.get(raw, "title", str, path),
        description=ctx.get(raw, "description", str, path),
        cutoff=cutoff,
        rc_value=norms.get("rc_value"),
        sd=norms.get("sd"),
        reliability=norms.get("reliability", reliability),
        default=ctx.get(raw, "default", bool, path, default=False),
        pairing=ctx.get(raw, "pairing", str, path),
    )


def _conventions(
    ctx: _Ctx,
    data: Mapping[str, Any],
    norms: Mapping[str, Any],
    reliability: Norm | None,
) -> tuple[Convention, ...]:
    raw = ctx.get(data, "conventions", dict, "", default={})
    if not raw:
        return ()
    for key in ("cutoff",):
        if key in data:
            raise ctx.fail(
                key,
                "the definition declares caseness conventions: each convention carries "
                "its own cut-off, so a top-level [cutoff] would be a second, unpaired one",
            )
    for key in ("rc_value", "sd"):
        if key in norms:
            raise ctx.fail(
                f"norms.{key}",
                "the definition declares caseness conventions: each convention carries "
                "its own reliable-change criterion, so it may not be given at the top",
            )
    found = tuple(_convention(ctx, n, c, reliability) for n, c in raw.items())
    defaults = [c.name for c in found if c.default]
    if len(defaults) != 1:
        raise ctx.fail(
            "conventions",
            "exactly one caseness convention must be marked default = true, got "
            + (", ".join(defaults) if defaults else "none"),
        )
    return found


def build_instrument(
    data: Mapping[str, Any], *, source: str = "<definition>"
) -> Instrument:
    """Validate a parsed definition mapping and return the :class:`Instrument`."""
    ctx = _Ctx(source)
    ctx.only(data, _TOP, "")
    for key in _REQUIRED_TOP:
        ctx.get(data, key, _TOP[key], "")
    langs = tuple(ctx.get(data, "languages", list, ""))
    if not langs or not all(isinstance(x, str) for x in langs):
        raise ctx.fail("languages", "must be a non-empty list of language codes")
    lic_raw = data["licence"]
    ctx.only(lic_raw, {"class", "terms", "source", "note"}, "licence")
    lic = Licence(
        cls=ctx.choice(
            ctx.get(lic_raw, "class", str, "licence"), LICENCE_CLASSES, "licence.class"
        ),
        terms=ctx.get(lic_raw, "terms", str, "licence"),
        source=ctx.get(lic_raw, "source", str, "licence"),
        note=ctx.get(lic_raw, "note", str, "licence", default=""),
    )
    scales = {sid: _scale(ctx, sid, s, langs) for sid, s in data["scales"].items()}
    items = tuple(
        _item(ctx, k, r, lic, langs, scales) for k, r in enumerate(data["items"])
    )
    if not items:
        raise ctx.fail("items", "needs at least one item")
    _check_items(ctx, items, scales)
    total, subs = _scoring(ctx, data["scoring"], items)
    safety = _safety(ctx, data.get("safety", []), items, scales)
    derived = dict(ctx.get(data, "derived", dict, "", default={}))
    for name, num in derived.items():
        if type(num) is not int or not 1 <= num <= len(items):
            raise ctx.fail(f"derived.{name}", f"must be an item number 1..{len(items)}")
    norms = ctx.get(data, "norms", dict, "", default={})
    ctx.only(norms, {"sd", "reliability", "rc_value"}, "norms")
    loinc = ctx.get(data, "loinc", dict, "", default={})
    ctx.only(loinc, {"panel", "total"}, "loinc")
    reliability = (
        _norm(ctx, norms["reliability"], "norms.reliability")
        if "reliability" in norms
        else None
    )
    conventions = _conventions(ctx, data, norms, reliability)
    inst = Instrument(
        id=data["id"], version=data["version"], title=data["title"],
        short_title=ctx.get(data, "short_title", str, "", default=data["id"]),
        citation=data["citation"], licence=lic,
        rater_role=ctx.choice(data["rater_role"], RATER_ROLES, "rater_role"),
        kind=ctx.choice(data["kind"], KINDS, "kind"), languages=langs,
        scales=scales, items=items, total=total, subscale_rules=subs,
        higher_is_better=data["higher_is_better"],
        is_validated=ctx.get(data, "is_validated", bool, "", default=True),
        stem=_text(ctx, data.get("stem", {}), "stem", langs),
        counterpart=ctx.get(data, "counterpart", str, "", default=None),
        bands=_bands(ctx, ctx.get(data, "bands", list, "", default=[])),
        cutoff=_cutoff(ctx, ctx.get(data, "cutoff", dict, "", default=None)),
        sd=_norm(ctx, norms["sd"], "norms.sd") if "sd" in norms else None,
        reliability=reliability,
        rc_value=_norm(ctx, norms["rc_value"], "norms.rc_value") if "rc_value" in norms else None,
        safety_items=safety, derived_items=derived,
        info_flags=_flags(ctx, ctx.get(data, "flags", list, "", default=[]), items),
        loinc_panel=_code(ctx, loinc["panel"], "loinc.panel") if "panel" in loinc else None,
        loinc_total=_code(ctx, loinc["total"], "loinc.total") if "total" in loinc else None,
        has_wording=lic.ships_wording,
        notes=ctx.get(data, "notes", str, "", default=""),
        source_path=source,
        conventions=conventions,
    )  # fmt: skip
    return inst.with_convention(None)
