"""Django's management commands, reached as ``harmonybridge manage ...``."""

from __future__ import annotations

import os
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    """Run a management command with the web app's settings; return its exit code."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harmonybridge.web.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    return 0
