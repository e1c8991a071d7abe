"""Private SVG machinery of :mod:`harmonybridge.reports.charts` (model, geometry, rendering).

Everything is written with presentation attributes (``fill``, ``stroke``) and CSS
classes, never ``style=`` attributes, scripts or external references, so the output
passes a strict Content-Security-Policy.
"""

from __future__ import annotations

from harmonybridge.reports._svg.geometry import marker_name, missing_sessions
from harmonybridge.reports._svg.model import (
    DASHES,
    MARKER_KINDS,
    PALETTE,
    PRACTITIONER_COLOUR,
    Band,
    ChartTable,
    HLine,
    Marker,
    Series,
    Spec,
    fmt,
)
from harmonybridge.reports._svg.render import svg, table

__all__ = [
    "DASHES",
    "MARKER_KINDS",
    "PALETTE",
    "PRACTITIONER_COLOUR",
    "Band",
    "ChartTable",
    "HLine",
    "Marker",
    "Series",
    "Spec",
    "fmt",
    "marker_name",
    "missing_sessions",
    "svg",
    "table",
]
