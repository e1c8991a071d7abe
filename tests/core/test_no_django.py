"""The core library must load, and run its CLI, without importing Django."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import sys
import harmonybridge
import harmonybridge.cli
{extra}
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(",".join(loaded))
"""


@pytest.mark.parametrize(
    "extra",
    [
        "",
        "harmonybridge.cli.build_parser()",
        # every core module, found on disk so that no web package is imported to walk it
        "import importlib, pathlib; root = pathlib.Path(harmonybridge.__file__).parent; "
        "[importlib.import_module('harmonybridge.' + '.'.join(p.relative_to(root)"
        ".with_suffix('').parts).removesuffix('.__init__')) for p in sorted(root.rglob('*.py')) "
        "if p.relative_to(root).parts[0] != 'web' and p.name != '__main__.py']",
    ],
)
def test_core_loads_no_django_module(extra: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(extra=extra)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ""
