"""What every benchmark shares: the optional ``--check`` flag and its targets.

A benchmark prints each target it has with "met" or "MISSED"; with ``--check`` it exits
with status 1 when one is missed. ``make bench`` and ``.ci/run`` do not pass ``--check``
(timings on a shared machine are not a test); a release check or a dedicated machine may.
"""

from __future__ import annotations

import argparse


def add_check_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 when a printed target is missed",
    )


class Targets:
    """Collects the targets of one run: ``hit(text, ok)`` prints and remembers each."""

    def __init__(self) -> None:
        self.missed: list[str] = []

    def hit(self, text: str, ok: bool) -> None:
        print(f"target {text}: {'met' if ok else 'MISSED'}")
        if not ok:
            self.missed.append(text)

    def exit_code(self, check: bool) -> int:
        """0, or 1 under ``--check`` when a target was missed."""
        if self.missed:
            print(f"missed {len(self.missed)} target(s): {'; '.join(self.missed)}")
        return 1 if check and self.missed else 0
