"""The ``export-research`` subcommand: a research export zip from long CSV files."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from harmonybridge import schema
from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import get, score_frame
from harmonybridge.research import load_project, write_research_export

_KEYS = (schema.CLIENT_ID, schema.ENGAGEMENT_ID, schema.PRACTITIONER_ID, schema.SESSION,
         schema.DATE, schema.RATER_ROLE, schema.RESPONDENT_ID, schema.INSTRUMENT,
         schema.RESPONSE_ID)  # fmt: skip


def register(subparsers: Any) -> None:
    """Add ``export-research`` to the parser."""
    p = subparsers.add_parser(
        "export-research",
        help="write a pseudonymised research export zip (CSV, Parquet, SPSS, FHIR)",
        description="Write one research export zip from item-level long CSV of the "
        "clients who gave research consent; see docs/research-export.md.",
    )
    p.add_argument("items", metavar="LONG.csv", help="item-level long CSV (with date)")
    p.add_argument("--project", required=True, help="project TOML (id, instruments, "
                   "period_start, period_end, k, key_file, epoch)")  # fmt: skip
    p.add_argument("--out", required=True, help="the zip to write")
    p.add_argument(
        "--scores", help="score-level long CSV (default: scored from LONG.csv)"
    )
    p.add_argument("--left-out", action="append", default=[], metavar="REASON=N",
                   help="clients left out before the export, by reason (repeatable)")  # fmt: skip
    p.set_defaults(func=_export)


def _left_out(pairs: list[str]) -> dict[str, int]:
    out = {}
    for pair in pairs:
        reason, _, count = pair.rpartition("=")
        if not reason or not count.isdigit():
            raise DataValidationError(
                f"--left-out {pair!r}: give REASON=N, e.g. 'no research consent=3'"
            )
        out[reason] = int(count)
    return out


def long_scores(items: pd.DataFrame) -> pd.DataFrame:
    """Score item-level long data into the canonical score-level long frame."""
    wide = score_frame(items)
    keys = [c for c in _KEYS if c in wide.columns]
    parts = []
    for instrument_id, part in wide.groupby(schema.INSTRUMENT, sort=False):
        inst = get(str(instrument_id))
        for name in ("", *inst.subscales, *inst.derived_items):
            frame = part[keys].copy()
            frame[schema.SUBSCALE] = name
            frame[schema.SCORE] = part[name or "total"]
            parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _export(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    left_out = _left_out(args.left_out)
    items = pd.read_csv(args.items)
    scores = pd.read_csv(args.scores, keep_default_na=False, na_values={schema.SCORE: [""]}) \
        if args.scores else long_scores(items)  # fmt: skip
    summary = write_research_export(items, scores, project, args.out, left_out=left_out)
    print(f"wrote {summary.path}")
    for name, count in summary.counts.items():
        print(f"  {name}: {count}")
    return 0
