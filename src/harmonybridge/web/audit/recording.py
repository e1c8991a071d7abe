"""Build audit events from an actor, an action word and a target object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.clientaddress import client_address
from harmonybridge.web.rowinsert import insert

_SAFE_DETAIL = (str, int, float, bool, type(None))

#: Engagement id -> the codes of its clients. The audit app sits below the practice
#: app, so the practice app provides the lookup when Django starts
#: (:func:`set_engagement_members`, called from ``PracticeConfig.ready``).
_engagement_members: Callable[[int], list[str]] | None = None


def set_engagement_members(lookup: Callable[[int], list[str]]) -> None:
    """Tell the audit log how to name an engagement's clients (one provider)."""
    global _engagement_members
    _engagement_members = lookup


def _client_code(target: Any) -> str:
    for attr in ("code", "client_code"):
        value = getattr(target, attr, None)
        if isinstance(value, str) and type(target).__name__ == "Client":
            return value
    client = getattr(target, "client", None)
    if client is not None and hasattr(client, "code"):
        return str(client.code)
    return ""


def _engagement_of(target: Any) -> Any:
    if type(target).__name__ == "Engagement":
        return target
    for path in ("engagement", "session"):
        found = getattr(target, path, None)
        if found is None:
            continue
        if path == "session":
            found = getattr(found, "engagement", None)
        if found is not None and type(found).__name__ == "Engagement":
            return found
    return None


def clients_shown(target: Any) -> list[str]:
    """The codes of every client whose data a page about ``target`` shows.

    A client, or the client a row belongs to (a check-in's respondent); otherwise
    every member of the engagement the target is, or belongs to (an engagement, a
    session, an alert, a rupture-repair record): its dashboard, report, answers and
    episodes show them all.
    """
    if target is None:
        return []
    own = _client_code(target)
    respondent: Any = getattr(target, "respondent", None)
    if own or (respondent is not None and hasattr(respondent, "code")):
        return [own or str(respondent.code)]
    engagement = _engagement_of(target)
    if engagement is None or engagement.pk is None:
        return []
    if _engagement_members is None:
        raise RuntimeError(
            "the audit log cannot name an engagement's clients: the practice app "
            "is not installed"
        )
    return sorted(_engagement_members(engagement.pk))


def record(
    actor: Any,
    action: str,
    target: Any = None,
    *,
    request: Any = None,
    clients: list[str] | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append one audit event.

    ``actor`` is a staff user, or None for a client's check-in (then no address is
    kept). ``detail`` values must be ids or short words, never clinical content.
    ``clients`` (codes) names who the event showed when the target alone does not
    say; by default every client the target's page shows (:func:`clients_shown`).
    """
    for key, value in detail.items():
        if not isinstance(value, _SAFE_DETAIL) or (
            isinstance(value, str) and len(value) > 64
        ):
            raise ValueError(f"audit detail {key!r} must be a short id or word")
    is_staff_actor = actor is not None and getattr(actor, "is_authenticated", False)
    ip = None
    if is_staff_actor and request is not None:
        ip = client_address(request)
    practice_id = (
        getattr(actor, "practice_id", None)
        if is_staff_actor
        else detail.get("practice_id")
    )
    event = AuditEvent(
        actor=actor if is_staff_actor else None,
        actor_label=actor.get_username() if is_staff_actor else "client check-in",
        practice_id_ref=practice_id,
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        client_code=_client_code(target) if target is not None else "",
        client_codes=_joined(clients if clients is not None else clients_shown(target)),
        ip_address=ip,
        detail=detail,
    )
    # One row, its INSERT built once per connection (issue 14: the check-in submit).
    return insert(event)  # type: ignore[return-value]


def _joined(codes: list[str]) -> str:
    unique = sorted({str(c) for c in codes if c})
    return f" {' '.join(unique)} " if unique else ""


def record_login_failure(user: Any, request: Any) -> AuditEvent:
    """Append a failed sign-in: the account when it exists, and the address it came from."""
    ip = client_address(request) if request is not None else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=user.get_username() if user is not None else "unknown account",
        practice_id_ref=getattr(user, "practice_id", None),
        action="login_failed",
        ip_address=ip,
    )
