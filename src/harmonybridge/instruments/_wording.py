"""Licensed item wording supplied by the practice for class C instruments.

A wording file lives outside the repository (TOML or JSON, or a mapping read
from the database) and looks like::

    instrument = "wai_sr"
    version = "1.0"                       # must match the definition's version
    source = "Licensed copy received from ... on ..."   # optional

    [stem]                                # optional
    en = "..."

    [items]
    1 = { en = "...", de = "..." }        # every item, no extra item
    2 = { en = "..." }

    [scales.frequency]                    # optional: anchor labels per language
    labels = { en = ["...", "..."] }
    # min / max only for scales marked configurable (e.g. the SAI)
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harmonybridge.errors import DefinitionError
from harmonybridge.instruments._model import Instrument, ResponseScale


@dataclass(frozen=True)
class Wording:
    """Validated wording for one instrument version."""

    instrument: str
    version: str
    languages: tuple[str, ...]
    items: Mapping[int, Mapping[str, str]]
    stem: Mapping[str, str] = field(default_factory=dict)
    scales: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""


def _read(path: Path) -> dict[str, Any]:
    try:
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise DefinitionError(f"{path.name}: not a valid wording file: {exc}") from exc


def _fail(source: str, where: str, problem: str) -> DefinitionError:
    return DefinitionError(f"{source}: wording field {where!r}: {problem}")


def _texts(source: str, where: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise _fail(source, where, "must be a table {language = text}")
    for lang, text in raw.items():
        if not isinstance(text, str) or not text.strip():
            raise _fail(source, f"{where}.{lang}", "must be non-empty text")
    return dict(raw)


def _check_scales(source: str, inst: Instrument, scales: Mapping[str, Any]) -> None:
    for sid, spec in scales.items():
        where = f"scales.{sid}"
        if sid not in inst.scales:
            raise _fail(
                source, where, f"unknown scale; scales: {', '.join(inst.scales)}"
            )
        if not isinstance(spec, Mapping):
            raise _fail(source, where, "must be a table")
        extra = set(spec) - {"labels", "min", "max"}
        if extra:
            raise _fail(source, f"{where}.{sorted(extra)[0]}", "unknown field")
        if ("min" in spec or "max" in spec) and not inst.scales[sid].configurable:
            raise _fail(source, where, "this scale's range is fixed by the definition")
        lo = spec.get("min", inst.scales[sid].min)
        hi = spec.get("max", inst.scales[sid].max)
        if type(lo) is not int or type(hi) is not int or hi <= lo:
            raise _fail(
                source,
                where,
                f"min/max must be integers with max > min, got {lo}, {hi}",
            )
        for lang, labels in dict(spec.get("labels", {})).items():
            if not isinstance(labels, list) or len(labels) != hi - lo + 1:
                raise _fail(
                    source, f"{where}.labels.{lang}", f"needs {hi - lo + 1} labels"
                )


def load_wording(source: str | Path | Mapping[str, Any]) -> Wording:
    """Read and validate a wording file (path) or mapping (e.g. from the database).

    Checks that the instrument exists, the version matches its definition,
    every item has wording in every language given, and no extra item appears.

    Raises
    ------
    DefinitionError
        Naming the file, the field and the problem.
    """
    from harmonybridge.instruments._loader import get

    if isinstance(source, Mapping):
        data, name = dict(source), "<wording>"
    else:
        path = Path(source)
        data, name = _read(path), path.name
    extra = set(data) - {"instrument", "version", "source", "stem", "items", "scales"}
    if extra:
        raise _fail(name, sorted(extra)[0], "unknown field")
    for key in ("instrument", "version", "items"):
        if key not in data:
            raise _fail(name, key, "is required but missing")
    inst = get(str(data["instrument"]))
    if str(data["version"]) != inst.version:
        raise _fail(
            name, "version",
            f"{data['version']!r} does not match {inst.id} definition version {inst.version!r}",
        )  # fmt: skip
    raw_items = data["items"]
    if not isinstance(raw_items, Mapping):
        raise _fail(name, "items", "must be a table {item number = {language = text}}")
    items: dict[int, dict[str, str]] = {}
    for key, texts in raw_items.items():
        if not str(key).isdigit() or int(key) not in inst.item_numbers:
            raise _fail(
                name, f"items.{key}",
                f"{inst.id} has no such item; items are 1..{len(inst.items)}",
            )  # fmt: skip
        items[int(key)] = _texts(name, f"items.{key}", texts)
    missing = [n for n in inst.item_numbers if n not in items]
    if missing:
        raise _fail(
            name, f"items.{missing[0]}", "wording missing (every item is needed)"
        )
    languages = tuple(next(iter(items.values())))
    for number, texts in items.items():
        if set(texts) != set(languages):
            raise _fail(
                name,
                f"items.{number}",
                f"needs wording in every language ({', '.join(languages)})",
            )
    scales = data.get("scales", {})
    _check_scales(name, inst, scales)
    stem = _texts(name, "stem", data["stem"]) if "stem" in data else {}
    return Wording(
        instrument=inst.id, version=inst.version, languages=languages, items=items,
        stem=stem, scales=scales, source=str(data.get("source", "")),
    )  # fmt: skip


def _scale(
    scale: ResponseScale, spec: Mapping[str, Any], languages: tuple[str, ...]
) -> ResponseScale:
    lo, hi = spec.get("min", scale.min), spec.get("max", scale.max)
    labels = {lang: tuple(v) for lang, v in dict(spec.get("labels", {})).items()}
    values = range(lo, hi + 1)
    first = labels.get(languages[0])
    options = tuple((v, first[k] if first else str(v)) for k, v in enumerate(values))
    changed_range = (lo, hi) != (scale.min, scale.max)
    return ResponseScale(
        id=scale.id, min=lo, max=hi, options=options, labels=labels,
        codes=() if changed_range else scale.codes,
        verified=scale.verified and not changed_range,
        configurable=scale.configurable, note=scale.note,
    )  # fmt: skip


def apply_wording(inst: Instrument, wording: Wording) -> Instrument:
    """Return ``inst`` carrying ``wording`` (see :meth:`Instrument.with_wording`)."""
    if wording.instrument != inst.id or wording.version != inst.version:
        raise DefinitionError(
            f"wording is for {wording.instrument} version {wording.version}, "
            f"not {inst.id} version {inst.version}"
        )
    items = tuple(
        dataclasses.replace(it, text=dict(wording.items[it.number]))
        for it in inst.items
    )
    scales = dict(inst.scales)
    for sid, spec in wording.scales.items():
        scales[sid] = _scale(inst.scales[sid], spec, wording.languages)
    return inst.replace(
        items=items, scales=scales, languages=wording.languages,
        stem=dict(wording.stem), has_wording=True,
    )  # fmt: skip
