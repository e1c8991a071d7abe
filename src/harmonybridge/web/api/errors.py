"""The API's one error body: a list of ``{field, message, code}``."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    field: str
    message: str
    code: str


class ApiError(Exception):
    """An error the API answers with ``status`` and one ``{field, message, code}``."""

    def __init__(self, status: int, field: str, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [{"field": field, "message": message, "code": code}]


def not_found(field: str, what: str) -> ApiError:
    """404 for an object that does not exist or that the access policy hides."""
    return ApiError(404, field, f"No {what} with this id.", "not_found")


def invalid(field: str, message: str, code: str = "invalid") -> ApiError:
    return ApiError(422, field, message, code)


def field_of(loc: Any) -> str:
    """``("body", "payload", "answers", "phq9")`` -> ``answers.phq9``; query -> name."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in ("query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def json_method_errors(urls: Any, body: Any) -> Any:
    """Wrap ninja's URL patterns so that a 405 answers in the API's own error body.

    django-ninja answers a wrong method with plain text; ``body(request, allowed)``
    gives the JSON to send instead.
    """
    from functools import wraps

    from django.http import JsonResponse

    patterns, app_name, namespace = urls

    def wrap(view: Any) -> Any:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            response = view(request, *args, **kwargs)
            if response.status_code == 405 and not response.get(
                "Content-Type", ""
            ).endswith("json"):
                allowed = response.get("Allow", "")
                out = JsonResponse(body(request, allowed), status=405, safe=False)
                out["Allow"] = allowed
                return out
            return response

        return wrapper

    for pattern in patterns:
        pattern.callback = wrap(pattern.callback)
    return patterns, app_name, namespace
