"""A WSGI app that answers with the parts of its environ gunicorn decides (tests only)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

SHOWN = (
    "SCRIPT_NAME",
    "PATH_INFO",
    "REMOTE_ADDR",
    "wsgi.url_scheme",
    "HTTP_X_FORWARDED_FOR",
)


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    body = json.dumps({key: environ.get(key) for key in SHOWN}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
