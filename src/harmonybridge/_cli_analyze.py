"""The ``analyze FILE.csv --report OUT.html`` subcommand: an HTML analysis report."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmonybridge import schema
from harmonybridge._csv import read_csv
from harmonybridge.errors import DataValidationError

if TYPE_CHECKING:  # the parser is built without pandas; the handler imports it
    import pandas as pd

_TEXT_COLUMNS = (
    schema.CLIENT_ID,
    schema.ENGAGEMENT_ID,
    schema.PRACTITIONER_ID,
    schema.RATER_ROLE,
    schema.RESPONDENT_ID,
    schema.INSTRUMENT,
    schema.SUBSCALE,
)
_SCORE_META = ("n_missing", "prorated", "band", "clinical", "safety")


def register(subparsers: Any) -> None:
    """Add ``analyze`` to the parser."""
    p = subparsers.add_parser(
        "analyze",
        help="HTML report: reliable change, sudden gains, ruptures and charts per series",
        description="Analyse a canonical score CSV (engagement_id, session, respondent_id, "
        "instrument, score; subscale and rater_role optional) or an item-level CSV "
        "(response_id, item, value plus the same keys, scored first) and write a "
        "standalone HTML report with reliable change, sudden gains and losses, alliance "
        "ruptures and a chart of every series.",
    )
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument(
        "--report", metavar="OUT.html", required=True, help="HTML file to write"
    )
    p.add_argument(
        "--pdf",
        metavar="OUT.pdf",
        help="also write the report as PDF (needs the 'pdf' extra: pip install "
        "'harmonybridge[pdf]')",
    )
    p.add_argument(
        "--no-alliance",
        action="store_true",
        help="skip the alliance–outcome analyses (growth, lagged and practitioner models)",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        metavar="N",
        help="parametric-bootstrap refits for the practitioner ICC intervals (%(default)s)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress display on standard error"
    )
    p.add_argument(
        "--title", default="HarmonyBridge analysis report", help="report title"
    )
    p.add_argument(
        "--max-engagements",
        type=int,
        default=50,
        metavar="N",
        help="draw charts for the first N engagements (%(default)s); tables cover all",
    )
    p.add_argument(
        "--rupture-mode",
        choices=("prospective", "retrospective"),
        default="prospective",
        help="rupture detection mode (%(default)s)",
    )
    p.add_argument(
        "--no-curves",
        action="store_true",
        help="do not fit expected-response curves on the file",
    )
    p.add_argument(
        "--min-clients",
        type=int,
        default=300,
        metavar="N",
        help="series with follow-up needed to fit curves (%(default)s)",
    )
    p.add_argument(
        "--convention",
        action="append",
        default=[],
        metavar="INSTRUMENT=NAME",
        help="caseness convention (cut-off + its reliable-change value) of an "
        "instrument, e.g. gad7=spitzer_2006 (default: the definition's; repeatable)",
    )
    p.set_defaults(func=_analyze)


def _conventions(pairs: list[str]) -> dict[str, str]:
    """``["gad7=spitzer_2006"]`` -> ``{"gad7": "spitzer_2006"}``, each checked."""
    from harmonybridge import instruments

    out = {}
    for pair in pairs:
        inst_id, sep, name = pair.partition("=")
        if not sep or not inst_id.strip() or not name.strip():
            raise DataValidationError(
                f"--convention must be INSTRUMENT=NAME (e.g. gad7=spitzer_2006), got {pair!r}"
            )
        inst = instruments.get(inst_id.strip())
        inst.get_convention(name.strip())  # unknown: the error lists the known ones
        out[inst.id] = name.strip()
    return out


def read_scores(path: str) -> pd.DataFrame:
    """Read a canonical score CSV, or score an item-level CSV into one."""
    frame = read_csv(path, text=_TEXT_COLUMNS)
    if schema.SCORE in frame.columns or not {schema.ITEM, schema.VALUE} <= set(
        frame.columns
    ):
        return frame
    from harmonybridge.instruments import score_frame

    if schema.RESPONSE_ID not in frame.columns:
        raise DataValidationError(
            "an item-level file needs a 'response_id' column (one per completed questionnaire)"
        )
    scored = score_frame(frame)
    carried = [
        c
        for c in scored.columns
        if c in frame.columns and c not in (schema.ITEM, schema.VALUE)
    ]
    scores = [c for c in scored.columns if c not in carried and c not in _SCORE_META]
    long = scored.melt(
        id_vars=carried,
        value_vars=scores,
        var_name=schema.SUBSCALE,
        value_name=schema.SCORE,
    )
    long = long[(long[schema.SUBSCALE] == "total") | long[schema.SCORE].notna()]
    long[schema.SUBSCALE] = long[schema.SUBSCALE].replace({"total": ""})
    return long.drop(columns=[schema.RESPONSE_ID]).reset_index(drop=True)


def _progress(step: str, done: int, total: int) -> None:
    width = 24
    filled = int(width * done / max(total, 1))
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {step:<50.50}"
    )
    sys.stderr.flush()


def _analyze(args: argparse.Namespace) -> int:
    from harmonybridge.alliance.insights import alliance_insights
    from harmonybridge.reports.html import analysis_report, analyze_scores

    if args.max_engagements < 0:
        raise DataValidationError(
            f"--max-engagements must be 0 or more, got {args.max_engagements}"
        )
    if args.bootstrap < 0:
        raise DataValidationError(
            f"--bootstrap must be 0 or more, got {args.bootstrap}"
        )
    if args.pdf:
        _check_pdf_available()
    conventions = _conventions(args.convention)
    scores = read_scores(args.file)
    show = not args.quiet and sys.stderr.isatty()
    if show:
        _progress("reliable change, sudden gains, ruptures", 0, 1)
    analysis = analyze_scores(
        scores,
        rupture_mode=args.rupture_mode,
        curves=not args.no_curves,
        min_clients=args.min_clients,
        conventions=conventions,
    )
    insights = None
    if not args.no_alliance:
        insights = alliance_insights(
            analysis.scores,
            n_boot=args.bootstrap,
            progress=_progress if show else None,
            conventions=conventions,
        )
    if show:
        sys.stderr.write("\r" + " " * 90 + "\r")
    html = analysis_report(
        analysis,
        title=args.title,
        source=Path(args.file).name,
        max_engagements=args.max_engagements,
        alliance=insights,
    )
    Path(args.report).write_text(html, encoding="utf-8")
    if args.pdf:
        from harmonybridge.reports.pdf import layout_pdf

        Path(args.pdf).write_bytes(layout_pdf(html))
        print(f"wrote {args.pdf}")
    if insights is not None:
        fitted = [o.outcome for o in insights.outcomes if o.growth is not None]
        print(
            f"alliance and outcome: {len(insights.outcomes)} outcome instrument(s), growth "
            f"models for {', '.join(fitted) or 'none'}; {len(insights.notes)} note(s) in "
            "the report"
        )
    n_eng = analysis.scores[schema.ENGAGEMENT_ID].nunique()
    print(
        f"wrote {args.report}: {n_eng} engagements, {len(analysis.reliable_change)} "
        f"reliable-change series, {len(analysis.sudden_gains)} sudden gains/losses, "
        f"{len(analysis.ruptures)} rupture episodes"
    )
    return 0


def _check_pdf_available() -> None:
    if importlib.util.find_spec("weasyprint") is None:
        raise DataValidationError(
            "--pdf needs WeasyPrint, which is not installed: pip install "
            "'harmonybridge[pdf]' (and Debian's pango libraries), or leave out --pdf"
        )
