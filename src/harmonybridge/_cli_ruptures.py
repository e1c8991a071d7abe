"""The ``ruptures`` subcommand: rupture–repair events from a long CSV of alliance scores."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from harmonybridge import schema
from harmonybridge._csv import read_csv
from harmonybridge.errors import DataValidationError

if TYPE_CHECKING:  # the parser is built without pandas; the handler imports it
    import pandas as pd


def register(subparsers: Any) -> None:
    """Add ``ruptures`` to the ``harmonybridge`` parser (options shown in groups)."""
    p = subparsers.add_parser(
        "ruptures",
        help="alliance rupture-repair events (Stiles et al. 2004; Gumz et al. 2012)",
        description="Detect alliance ruptures and their repair in session-by-session alliance "
        "scores (client and practitioner streams separately; self-reported rupture items as "
        "their own source) and write one row per event as CSV.",
    )
    p.add_argument(
        "file", metavar="FILE.csv", help="long data, one row per series x session"
    )
    _columns(p.add_argument_group("columns of FILE.csv"))
    _criterion(p.add_argument_group("rupture criterion"))
    _repair(p.add_argument_group("repair and self-reported ruptures"))
    p.add_argument("--out", metavar="FILE", help="write the CSV here instead of stdout")
    p.set_defaults(func=_handle)


def _columns(g: Any) -> None:
    g.add_argument(
        "--id",
        default=",".join(schema.SERIES_KEY),
        help="series key column(s), separated by commas (default: %(default)s)",
    )
    g.add_argument(
        "--time", default=schema.SESSION, help="session column (%(default)s)"
    )
    g.add_argument("--score", default=schema.SCORE, help="score column (%(default)s)")
    g.add_argument(
        "--rater", default=schema.RATER_ROLE, help="rater column (%(default)s)"
    )
    g.add_argument(
        "--no-rater", action="store_true", help="the data has no rater column"
    )
    g.add_argument(
        "--subscale", default=schema.SUBSCALE, help="subscale column (%(default)s)"
    )


def _criterion(g: Any) -> None:
    g.add_argument(
        "--mode",
        choices=("prospective", "retrospective"),
        help="prospective (default) never looks at later sessions",
    )
    g.add_argument(
        "--preset",
        choices=("stiles2004", "strauss2006"),
        help="the published rules: Stiles et al. 2004 (2 SD) or Strauss et al. 2006 (1 SD)",
    )
    g.add_argument(
        "--baseline",
        help="rolling_mean (default), rolling_mean(K), person_mean_excl_t, previous_session",
    )
    g.add_argument("--baseline-k", type=int, default=3, help="rolling-mean window (3)")
    g.add_argument(
        "--min-history", type=int, default=3, help="earlier sessions needed (3)"
    )
    g.add_argument(
        "--sd-source",
        choices=("within", "pooled", "max", "sem"),
        help="SD for the threshold (default max of within and pooled)",
    )
    ref = g.add_mutually_exclusive_group()
    ref.add_argument(
        "--reference-sd", type=float, help="pooled within-person SD (number)"
    )
    ref.add_argument(
        "--reference",
        metavar="REF.csv",
        help="reference CSV (same columns) to compute the pooled within-person SD from",
    )
    g.add_argument("--k-sd", type=float, help="drop threshold in SD units (2)")
    g.add_argument(
        "--min-abs-drop",
        type=float,
        default=None,
        help="smallest raw drop (0.25; 0 with a preset, as published)",
    )
    g.add_argument(
        "--rci-alpha", type=float, default=0.05, help="alpha for --sd-source sem"
    )
    g.add_argument("--sd-between", type=float, help="between-person SD (sem)")
    g.add_argument("--reliability", type=float, help="reliability (sem)")
    g.add_argument(
        "--extended-window", type=int, default=3, help="longest gradual decline (3)"
    )


def _repair(g: Any) -> None:
    g.add_argument(
        "--repair-window", type=int, default=3, help="sessions after the nadir (3)"
    )
    g.add_argument(
        "--repair-tolerance",
        type=float,
        default=1.0,
        help="repair = back within this many SDs of the baseline (1.0)",
    )
    g.add_argument(
        "--no-self-report", action="store_true", help="skip the rupture items"
    )
    g.add_argument(
        "--self-report-tension-min", type=float, default=2, help="tension (2 on 1-5)"
    )
    g.add_argument(
        "--self-report-resolved-min",
        type=float,
        default=4,
        help="resolved in session (4 on 1-5)",
    )


def _read(path: str, text_cols: list[str], subscale: str) -> pd.DataFrame:
    df = read_csv(path, text=text_cols)
    if subscale in df.columns:
        df[subscale] = df[subscale].fillna("")
    return df


def _handle(args: argparse.Namespace) -> int:
    from harmonybridge.change import detect_ruptures

    keys = [k.strip() for k in args.id.split(",") if k.strip()]
    if not keys:
        raise DataValidationError("--id needs at least one column name")
    rater = None if args.no_rater else args.rater
    text = [*keys, args.subscale] + ([rater] if rater else [])
    data = _read(args.file, text, args.subscale)
    reference: Any = args.reference_sd
    if args.reference:
        reference = _read(args.reference, text, args.subscale)
    events = detect_ruptures(
        data,
        id=keys,
        time=args.time,
        score=args.score,
        rater=rater,
        subscale=args.subscale,
        mode=args.mode,
        preset=args.preset,
        baseline=args.baseline,
        baseline_k=args.baseline_k,
        min_history=args.min_history,
        sd_source=args.sd_source,
        reference_sd=reference,
        k_sd=args.k_sd,
        min_abs_drop=args.min_abs_drop,
        rci_alpha=args.rci_alpha,
        sd_between=args.sd_between,
        reliability=args.reliability,
        extended_window=args.extended_window,
        repair_window=args.repair_window,
        repair_tolerance=args.repair_tolerance,
        self_report=not args.no_self_report,
        self_report_tension_min=args.self_report_tension_min,
        self_report_resolved_min=args.self_report_resolved_min,
    )
    if args.out:
        events.to_csv(args.out, index=False)
    else:
        events.to_csv(sys.stdout, index=False)
    return 0
