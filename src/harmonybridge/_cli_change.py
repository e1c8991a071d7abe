"""The ``sudden-gains`` and ``reliable-change`` subcommands of the command line."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harmonybridge import schema
from harmonybridge._csv import read_csv, write_csv
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

if TYPE_CHECKING:  # the parser is built without pandas; handlers import what they use
    import pandas as pd


def register(subparsers: Any) -> None:
    """Add ``sudden-gains`` and ``reliable-change`` to the ``harmonybridge`` parser."""
    _register_sudden_gains(subparsers)
    _register_reliable_change(subparsers)


def _columns(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE.csv", help="long data, one row per id x session"
    )
    parser.add_argument(
        "--id",
        default=schema.CLIENT_ID,
        help="series key column, or several separated by commas (default: %(default)s)",
    )
    parser.add_argument(
        "--time", default=schema.SESSION, help="session column (%(default)s)"
    )
    parser.add_argument(
        "--score", default=schema.SCORE, help="score column (%(default)s)"
    )
    parser.add_argument(
        "--out", metavar="FILE", help="write the CSV here instead of stdout"
    )


def _register_sudden_gains(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sudden-gains",
        help="sudden gains or losses (Tang & DeRubeis; R suddengains 0.7.2 engine)",
        description="Identify sudden gains or losses in long session-by-session scores and "
        "write one row per gain, per client (--byperson) or per tested interval (--intervals).",
    )
    _columns(p)
    p.add_argument(
        "--cutoff", type=float, required=True, help="criterion 1 (absolute change)"
    )
    p.add_argument(
        "--pct", type=float, default=0.25, help="criterion 2 share (%(default)s)"
    )
    p.add_argument(
        "--alpha", type=float, default=0.05, help="criterion 3 alpha (%(default)s)"
    )
    p.add_argument(
        "--no-crit3", dest="crit3", action="store_false", help="skip criterion 3"
    )
    p.add_argument(
        "--no-adjust",
        dest="adjust",
        action="store_false",
        help="use --critical-value for every interval instead of t(alpha, df)",
    )
    p.add_argument("--critical-value", type=float, default=2.776, help="(%(default)s)")
    p.add_argument(
        "--losses",
        action="store_true",
        help="sudden losses (suddengains: negative --cutoff)",
    )
    p.add_argument(
        "--engine", choices=("suddengains", "tang-derubeis"), default="tang-derubeis"
    )
    p.add_argument("--higher-is-better", action="store_true", help="scale direction")
    p.add_argument("--instrument", help="instrument id giving the direction")
    p.add_argument(
        "--first-is-baseline",
        action="store_true",
        help="the first session is a baseline (R identify_sg_1to2)",
    )
    p.add_argument(
        "--tx-start", metavar="S", help="session for tx_change (default: first)"
    )
    p.add_argument(
        "--tx-end", metavar="S", help="session for tx_change (default: last)"
    )
    table = p.add_mutually_exclusive_group()
    table.add_argument(
        "--byperson",
        choices=("first", "last", "smallest", "largest"),
        metavar="SELECT",
        help="one row per client: first | last | smallest | largest gain",
    )
    table.add_argument(
        "--intervals", action="store_true", help="one row per tested interval"
    )
    p.set_defaults(func=_sudden_gains)


def _register_reliable_change(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "reliable-change",
        help="reliable and clinically significant change (Jacobson & Truax)",
        description="Classify each series' change from its first to its last observed "
        "session as recovered, improved, unchanged, deteriorated or harmed.",
    )
    _columns(p)
    p.add_argument(
        "--instrument", help="instrument id giving SD, reliability, cut-off, direction"
    )
    p.add_argument(
        "--sd", help="reference SD, or 'pre' for the sample SD of the pre scores"
    )
    p.add_argument("--reliability", type=float, help="reliability of the measure")
    p.add_argument(
        "--rc-value", type=float, help="published reliable-change value in points"
    )
    p.add_argument("--cutoff", type=float, help="clinical cut-off")
    p.add_argument(
        "--convention",
        help="the instrument's caseness convention (cut-off + its reliable-change "
        "value), e.g. gad7: nhs_talking_therapies (default) or spitzer_2006",
    )
    direction = p.add_mutually_exclusive_group()
    direction.add_argument(
        "--higher-is-better", dest="higher_is_better", action="store_true", default=None
    )
    direction.add_argument(
        "--lower-is-better", dest="higher_is_better", action="store_false"
    )
    p.add_argument(
        "--z", type=float, default=1.96, help="RCI critical value (%(default)s)"
    )
    p.set_defaults(func=_reliable_change)


def _key(arg: str) -> str | list[str]:
    keys = [k.strip() for k in arg.split(",") if k.strip()]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise DataValidationError(
            f"--id names {', '.join(repr(k) for k in repeated)} more than once; give "
            "each key column once (e.g. --id client_id,rater_role)"
        )
    return keys[0] if len(keys) == 1 else keys


def _session_value(text: str | None, column: pd.Series, flag: str) -> Any:
    """A session given on the command line, as the type of the session column."""
    if text is None:
        return None
    from pandas.api.types import is_numeric_dtype

    if is_numeric_dtype(column):
        try:
            number = float(text)
        except ValueError:
            raise DataValidationError(
                f"{flag} must be a session number, got {text!r}"
            ) from None
        return int(number) if number.is_integer() else number
    return text


def _float_or_pre(text: str | None) -> float | str | None:
    if text is None or text == "pre":
        return text
    try:
        return float(text)
    except ValueError:
        raise DataValidationError(
            f"--sd must be a number or 'pre', got {text!r}"
        ) from None


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HarmonyBridgeWarning)
        yield
    for w in caught:
        if issubclass(w.category, HarmonyBridgeWarning):
            print(f"harmonybridge: warning: {w.message}", file=sys.stderr)


def _write(frame: pd.DataFrame, out: str | None) -> int:
    write_csv(frame, out)
    return 0


def _sudden_gains(args: argparse.Namespace) -> int:
    from harmonybridge.change import (
        sudden_gain_intervals,
        sudden_gains,
        sudden_gains_byperson,
    )

    data = read_csv(args.file)
    if args.time not in data.columns:
        raise DataValidationError(f"{args.file} has no column {args.time!r} (--time)")
    options: dict[str, Any] = {
        "id": _key(args.id),
        "time": args.time,
        "score": args.score,
        "cutoff": args.cutoff,
        "pct": args.pct,
        "crit3": args.crit3,
        "alpha": args.alpha,
        "adjust": args.adjust,
        "critical_value": args.critical_value,
        "losses": args.losses,
        "engine": args.engine,
        "higher_is_better": args.higher_is_better,
        "first_is_baseline": args.first_is_baseline,
        "tx_start": _session_value(args.tx_start, data[args.time], "--tx-start"),
        "tx_end": _session_value(args.tx_end, data[args.time], "--tx-end"),
        "instrument": args.instrument,
    }
    fn: Callable[..., pd.DataFrame] = sudden_gains
    if args.byperson:
        fn, options["select"] = sudden_gains_byperson, args.byperson
    elif args.intervals:
        fn = sudden_gain_intervals
    with _one_line_warnings():
        result = fn(data, **options)
    return _write(result, args.out)


def _reliable_change(args: argparse.Namespace) -> int:
    from harmonybridge.change import reliable_change

    data = read_csv(args.file)
    with _one_line_warnings():
        result = reliable_change(
            data,
            id=_key(args.id),
            time=args.time,
            score=args.score,
            instrument=args.instrument,
            sd=_float_or_pre(args.sd),
            reliability=args.reliability,
            rc_value=args.rc_value,
            cutoff=args.cutoff,
            higher_is_better=args.higher_is_better,
            z=args.z,
            convention=args.convention,
        )
    return _write(result, args.out)
