"""``{{ value|score }}``: the one score formatter (:func:`harmonybridge.formatting.fmt_score`)."""

from __future__ import annotations

from typing import Any

from django import template

from harmonybridge.formatting import fmt_score

register = template.Library()


@register.filter
def score(value: Any) -> str:
    return fmt_score(value)
