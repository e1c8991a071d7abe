"""Schemathesis hooks for ``.ci/api_fuzz.py``: every 4xx body names the field.

Loaded through ``SCHEMATHESIS_HOOKS=tests.fuzz.api_checks``.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def errors_name_the_field(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answer is a non-empty list of {field, message, code} with a field named."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"4xx body is not JSON: {response.text[:200]!r}") from None
    if not isinstance(body, list) or not body:
        raise AssertionError(f"4xx body is not a non-empty list: {body!r}")
    for error in body:
        if not isinstance(error, dict) or set(error) != {"field", "message", "code"}:
            raise AssertionError(
                f"4xx error is not {{field, message, code}}: {error!r}"
            )
        if not isinstance(error["field"], str) or not error["field"].strip():
            raise AssertionError(f"4xx error names no field: {error!r}")
        if not error["message"]:
            raise AssertionError(f"4xx error has no message: {error!r}")
    return True
