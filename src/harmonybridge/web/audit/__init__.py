"""Audit logging. Call :func:`record` inside the transaction that reads or changes data."""

from __future__ import annotations

from typing import Any


def record(
    actor: Any,
    action: str,
    target: Any = None,
    *,
    request: Any = None,
    clients: list[str] | None = None,
    **detail: Any,
) -> Any:
    """Append one audit event and return it (imported lazily to keep app loading simple)."""
    from harmonybridge.web.audit.recording import record as _record

    return _record(actor, action, target, request=request, clients=clients, **detail)
