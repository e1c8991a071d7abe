"""Limits on what a form accepts, so that nothing typed can break a page later.

Found by the outside probe (issue 9, fault 8): a session dated 9999-12-31 or
0001-01-01 overflowed when shown in a practice whose time zone is far from UTC
(Pacific/Kiritimati, UTC+14), on every page that lists it; an audit filter ending on
9999-12-31 overflowed when the day after was computed; deeply nested JSON in the
licensed-wording form exhausted the recursion limit. Every form takes dates and JSON
through these functions.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

#: Dates a person can mean: therapy sessions, engagements, audit filters.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)
#: The licensed wording of one instrument is a few kilobytes, four levels deep.
JSON_MAX_BYTES = 500_000
JSON_MAX_DEPTH = 20


def check_date(value: dt.date | dt.datetime | None) -> None:
    """Refuse a date outside 1900-01-01 .. 2100-12-31 with a message that says so."""
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise forms.ValidationError(
            _("Give a date between %(first)s and %(last)s."),
            code="date_range",
            params={"first": EARLIEST.isoformat(), "last": LATEST.isoformat()},
        )


def _depth(value: Any) -> int:
    """Nesting depth without recursion (so the check itself cannot overflow)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def _bracket_depth(raw: str) -> int:
    """The deepest bracket nesting of the text, counted before any parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in raw:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def load_json(raw: str) -> Any:
    """Parse JSON typed or pasted into a form, within size and depth limits."""
    if len(raw.encode("utf-8", "surrogatepass")) > JSON_MAX_BYTES:
        raise forms.ValidationError(
            _("This JSON is larger than %(limit)s kB."),
            code="json_size",
            params={"limit": JSON_MAX_BYTES // 1000},
        )
    if _bracket_depth(raw) > JSON_MAX_DEPTH:
        raise forms.ValidationError(
            _("This JSON is nested more than %(limit)s levels deep."),
            code="json_depth",
            params={"limit": JSON_MAX_DEPTH},
        )
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(
            _("This is not valid JSON (line %(line)s): %(msg)s"),
            code="json",
            params={"line": exc.lineno, "msg": exc.msg},
        ) from exc
    if _depth(value) > JSON_MAX_DEPTH:  # belt and braces: the parsed value
        raise forms.ValidationError(
            _("This JSON is nested more than %(limit)s levels deep."),
            code="json_depth",
            params={"limit": JSON_MAX_DEPTH},
        )
    return value


#: Primary keys are 64-bit signed integers on every database we run on.
PK_MAX = 2**63 - 1


def _pk_ok(value: Any) -> bool:
    text = str(value).strip()
    return text.isdigit() and int(text) <= PK_MAX


class ModelChoiceField(forms.ModelChoiceField):
    """A model choice whose value is checked to be a possible id before any query.

    Django passes ``"9223372036854775808"`` to the database, which fails with an
    OverflowError on SQLite (found by the form fuzzing)."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not _pk_ok(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several model choices, each checked to be a possible id before any query."""

    def _check_values(self, value: Any) -> Any:
        for pk in value or ():
            if not _pk_ok(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": str(pk)[:40]},
                )
        return super()._check_values(value)
