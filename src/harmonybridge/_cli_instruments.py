"""The ``instruments list|show|fhir`` and ``score`` subcommands of the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from harmonybridge import schema
from harmonybridge._csv import read_csv
from harmonybridge.errors import DataValidationError

if TYPE_CHECKING:  # the parser is built without pandas; handlers import what they use
    import pandas as pd

    from harmonybridge.instruments import Instrument

NOT_VALIDATED = "not a validated instrument"


def register(subparsers: Any) -> None:
    """Add ``instruments`` (list, show, fhir) and ``score`` to the parser."""
    inst = subparsers.add_parser(
        "instruments",
        help="list, show or export (FHIR) the shipped instruments",
        description="The instrument registry: definitions, licences, FHIR export.",
    )
    sub = inst.add_subparsers(dest="instruments_command", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("list", help="ids with title, rater role and licence class")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_list)
    p = sub.add_parser("show", help="one instrument's definition")
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "--json", action="store_true", help="print the full definition as JSON"
    )
    _wording_option(p)
    p.set_defaults(func=_show)
    p = sub.add_parser("fhir", help="FHIR R4 Questionnaire JSON on stdout")
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "--language", default="en", help="language of the text (%(default)s)"
    )
    _wording_option(p)
    p.set_defaults(func=_fhir)

    p = subparsers.add_parser(
        "score",
        help="score item-level answers (one row per response_id)",
        description="Score an item-level long CSV (response_id, item, value; an "
        "instrument column is optional and must match ID; other columns constant "
        "within a response are carried through). Writes one row per response_id with "
        "total, one column per subscale, n_missing, prorated, band, safety.",
    )
    p.add_argument("id", metavar="ID", help="instrument id, e.g. phq9")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--out", metavar="FILE", help="write the CSV here instead of stdout")
    _wording_option(p)
    p.set_defaults(func=_score)


def _wording_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wording",
        metavar="FILE",
        help="the practice's licensed wording file (TOML/JSON) for a class C instrument",
    )


def _instrument(args: argparse.Namespace) -> Instrument:
    from harmonybridge.instruments import get, load_wording

    inst = get(args.id)
    if getattr(args, "wording", None):
        inst = inst.with_wording(load_wording(args.wording))
    return inst


def _list(args: argparse.Namespace) -> int:
    from harmonybridge.instruments import all_instruments

    rows: list[dict[str, Any]] = [
        {
            "id": i.id,
            "title": i.title,
            "rater_role": i.rater_role,
            "licence_class": i.licence.cls,
            "validated": i.is_validated,
            "needs_wording": i.requires_wording,
        }
        for i in all_instruments()
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    width = max(len(r["id"]) for r in rows)
    print(f"{'ID':<{width}}  ROLE          LICENCE  TITLE")
    for r in rows:
        notes = []
        if r["needs_wording"]:
            notes.append("wording supplied by the practice")
        if not r["validated"] and NOT_VALIDATED not in r["title"]:
            notes.append(NOT_VALIDATED)
        extra = f"  [{'; '.join(notes)}]" if notes else ""
        print(
            f"{r['id']:<{width}}  {r['rater_role']:<12}  {r['licence_class']:<7}  "
            f"{r['title']}{extra}"
        )
    return 0


def _describe_items(inst: Instrument) -> list[str]:
    lines = []
    for it in inst.items:
        text = it.text.get(inst.languages[0]) if it.text else None
        flags = [f"scale {it.scale}"]
        if it.subscales:
            flags.append("subscales " + ",".join(it.subscales))
        if it.reverse:
            flags.append("reverse-keyed")
        if not it.scored:
            flags.append("not scored")
        if it.condition:
            flags.append(f"only if item {it.condition[0]} = {it.condition[1]}")
        wording = text or "[wording supplied by the practice]"
        lines.append(f"  {it.number:>2}. {wording}  ({'; '.join(flags)})")
    return lines


def _norm(label: str, norm: Any) -> str:
    status = "verified" if norm.verified else "UNVERIFIED"
    return f"  {label}: {norm.value:g} ({norm.type}; {norm.source}; {norm.sample}; {status})"


def _show(args: argparse.Namespace) -> int:
    inst = _instrument(args)
    if args.json:
        print(json.dumps(inst.to_dict(), indent=2, ensure_ascii=False))
        return 0
    lic = inst.licence
    lines = [
        f"{inst.title}  [{inst.id} version {inst.version}]",
        f"Citation: {inst.citation}",
        f"Licence class {lic.cls}: {lic.terms} (source: {lic.source})",
    ]
    if lic.note:
        lines.append(f"Licence note: {lic.note}")
    if not inst.is_validated:
        lines.append(f"Note: {NOT_VALIDATED}.")
    lines.append(
        f"Rater role: {inst.rater_role}; kind: {inst.kind}; languages: "
        f"{', '.join(inst.languages)}; higher is better: {inst.higher_is_better}; "
        f"counterpart: {inst.counterpart or '-'}"
    )
    for sid, scale in inst.scales.items():
        labels = ", ".join(f"{v}={lab}" for v, lab in scale.options)
        flags = "" if scale.verified else " [UNVERIFIED]"
        flags += " [configurable in the wording file]" if scale.configurable else ""
        lines.append(f"Scale {sid} ({scale.min}-{scale.max}){flags}: {labels}")
    lines.append("Items:")
    lines.extend(_describe_items(inst))
    rules = {"total": inst.total, **inst.subscale_rules}
    for name, rule in rules.items():
        if rule.method != "none":
            lines.append(
                f"Score {name}: {rule.method} of items {list(rule.items)} x {rule.multiplier:g}"
                f" + {rule.offset:g}; needs >= {rule.min_answered} answered"
            )
    lines.extend(f"Band: {b.describe()}" for b in inst.bands)
    if inst.cutoff:
        lines.append(
            f"Clinical cut-off: {inst.cutoff.clinical_when} {inst.cutoff.value:g}"
        )
    lines.extend(f"Safety: item {r.item} {r.op} {r.value:g}" for r in inst.safety_items)
    for label in ("sd", "reliability", "rc_value"):
        if getattr(inst, label) is not None:
            lines.append(_norm(label, getattr(inst, label)))
    for c in inst.conventions:
        mark = " (default)" if c.default else ""
        lines.append(f"Caseness convention {c.name}{mark}: {c.describe()}")
    print("\n".join(lines))
    return 0


def _fhir(args: argparse.Namespace) -> int:
    from harmonybridge.reports.fhir import questionnaire

    q = questionnaire(_instrument(args), args.language)
    print(json.dumps(q, indent=2, ensure_ascii=False))
    return 0


def _read_items(path: str, instrument: str) -> pd.DataFrame:
    frame = read_csv(path)
    if schema.INSTRUMENT in frame.columns:
        other = frame.loc[frame[schema.INSTRUMENT] != instrument, schema.INSTRUMENT]
        if len(other):
            raise DataValidationError(
                f"column 'instrument' holds {other.iloc[0]!r} but the command scores "
                f"{instrument!r}; score one instrument per file"
            )
    else:
        frame.insert(1 if len(frame.columns) else 0, schema.INSTRUMENT, instrument)
    return frame


def _score(args: argparse.Namespace) -> int:
    from harmonybridge.instruments import score_frame

    inst = _instrument(args)  # unknown id -> one-line error listing the known ids
    scores = score_frame(_read_items(args.file, args.id), instruments={inst.id: inst})
    if args.out:
        scores.to_csv(args.out, index=False)
    else:
        scores.to_csv(sys.stdout, index=False)
    return 0
