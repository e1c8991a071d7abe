"""The one number formatter for scores shown to people.

Alert messages and evidence, the sessions table, the charts' tables, the progress
report and the web pages all format a score with :func:`fmt_score`, so the same
session shows the same number everywhere (one decimal, half away from zero, no
trailing ``.0``; a missing value is an en dash).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["MISSING", "fmt_score"]

#: What a missing score looks like.
MISSING = "–"


def fmt_score(value: Any, decimals: int = 1) -> str:
    """Format a score for people: ``2.3333`` → ``"2.3"``, ``3.0`` → ``"3"``.

    >>> fmt_score(2.3333), fmt_score(3.0), fmt_score(4.25), fmt_score(None)
    ('2.3', '3', '4.3', '–')
    >>> fmt_score(-0.04)
    '0'
    """
    if value is None or isinstance(value, bool):
        return MISSING
    try:
        x = float(value)
    except (TypeError, ValueError):
        return MISSING
    if math.isnan(x) or math.isinf(x):
        return MISSING
    quant = Decimal(1).scaleb(-decimals)
    d = Decimal(repr(x)).quantize(quant, rounding=ROUND_HALF_UP)
    text = f"{d:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
