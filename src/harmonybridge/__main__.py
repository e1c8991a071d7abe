"""Run the command line with ``python -m harmonybridge``."""

from __future__ import annotations

import sys

from harmonybridge.cli import main

sys.exit(main())
