"""The ``harmonybridge`` command line: argument parsing and one-line errors.

Each group of subcommands lives in its own private module exposing
``register(subparsers)``; every handler returns an exit code. Bad input ends
with a one-line message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from harmonybridge import __version__
from harmonybridge.errors import DataValidationError

#: Modules that add subcommands. ``manage`` is handled before argparse so that
#: Django is imported only when it is asked for.
_COMMAND_MODULES = (
    "harmonybridge._cli_instruments",
    "harmonybridge._cli_change",
    "harmonybridge._cli_ruptures",
    "harmonybridge._cli_analyze",
    "harmonybridge._cli_research",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand."""
    parser = _Parser(
        prog="harmonybridge",
        description="Alliance and wellbeing measurement: instruments, scoring and change analytics.",
    )
    parser.add_argument(
        "--version", action="version", version=f"harmonybridge {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("manage", help="run a Django management command for the web app")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def _manage(argv: Sequence[str]) -> int:
    try:
        from harmonybridge.web.manage import main as manage_main
    except ModuleNotFoundError as exc:
        print(
            f"harmonybridge: the web app needs the 'web' extra ({exc.name} is missing): "
            "pip install 'harmonybridge[web]'",
            file=sys.stderr,
        )
        return 2
    return manage_main(["harmonybridge manage", *argv])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["manage"]:
        return _manage(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if not args_list else 2
    try:
        return int(args.func(args) or 0)
    except DataValidationError as exc:
        print(f"harmonybridge: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"harmonybridge: error: no such file: {exc.filename}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except Exception as exc:
        # Nothing shows a user a traceback; HB_DEBUG=1 lets a bug report carry one.
        if os.environ.get("HB_DEBUG") == "1":
            raise
        print(
            f"harmonybridge: internal error ({type(exc).__name__}: {exc}); please report "
            "it, with the output of the same command run with HB_DEBUG=1",
            file=sys.stderr,
        )
        return 70  # EX_SOFTWARE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
