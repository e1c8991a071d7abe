"""Who may do what: every role rule of the web app lives in this one module.

Roles (``accounts.models.Role``) and what they allow, always inside the user's own
practice (another practice's objects do not exist for them: views answer 404):

* **admin** (practice admin): sees and changes every client of the practice, manages
  staff accounts, exports and erases clients, reads the audit log.
* **practitioner**: sees and changes their own clients only: those they are responsible
  for and those in an engagement they work in (co-practitioners of a couple or family).
* **supervisor**: a practitioner who may also *see* (not change) the clients of the
  practitioners named in ``user.supervisees``.
* **researcher**: sees pseudonymised scores of every client of the practice, never
  names, contacts or free text, and changes nothing.

Stable names (helper code imports these; do not rename):

``is_practice_member(user)``
    Authenticated, active, belongs to a practice.
``same_practice(user, obj)``
    ``obj`` (anything with ``practice_id`` or ``practice``) is in the user's practice.
``can_admin_practice(user, practice=None)``
    Practice admin (of ``practice`` when given).
``is_supervisor_of(user, practitioner)``
    ``practitioner`` (a user or a user id) is one of the user's supervisees.
``visible_practitioner_ids(user)``
    ``None`` when the user may see every caseload of the practice (admin,
    researcher), otherwise the set of practitioner ids whose clients they may see.
``can_view_client_data(user, client)``
    May open this client's pages (scores; identifiers only if ``can_see_identifiers``).
``can_change_client_data(user, client)``
    May edit the client, send check-ins, write notes, acknowledge alerts.
``can_see_identifiers(user)``
    May see names, contacts and free text (False for researchers).
``can_export_client(user, client)`` / ``can_erase_client(user, client)``
    Data-subject rights actions (practice admin only).
``can_view_audit(user)``
    Read the practice's audit log (practice admin only).
``client_queryset_for(user, queryset)``
    Narrow a Client (or any model with ``practice`` and ``practitioner``) queryset to
    what the user may see.

Querysets of visible objects live in ``practice.scoping`` (``clients_for``,
``engagements_for``, ``get_client_or_404``); a test keeps these predicates and those
querysets in agreement for every role and relation.

A ``client`` here is any object with ``practice_id`` and ``practitioner_id``
attributes (the responsible practitioner); objects that hang off a client (an
engagement, a session) can be checked by passing their client.
"""

from __future__ import annotations

from typing import Any

from harmonybridge.web.accounts.models import Role

__all__ = [
    "can_admin_practice",
    "can_change_client_data",
    "can_erase_client",
    "can_export_client",
    "can_see_identifiers",
    "can_view_audit",
    "can_view_client_data",
    "client_queryset_for",
    "is_practice_member",
    "is_supervisor_of",
    "same_practice",
    "visible_practitioner_ids",
]


def is_practice_member(user: Any) -> bool:
    """Return True for an authenticated, active staff account attached to a practice."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "practice_id", None) is not None
    )


def _practice_id_of(obj: Any) -> Any:
    if obj is None:
        return None
    value = getattr(obj, "practice_id", None)
    if value is None and getattr(obj, "practice", None) is not None:
        value = getattr(obj.practice, "pk", None)
    if value is None and hasattr(obj, "pk") and type(obj).__name__ == "Practice":
        value = obj.pk
    return value


def same_practice(user: Any, obj: Any) -> bool:
    """Return True when ``obj`` belongs to the user's practice."""
    if not is_practice_member(user):
        return False
    pid = _practice_id_of(obj)
    return pid is not None and pid == user.practice_id


def can_admin_practice(user: Any, practice: Any = None) -> bool:
    """Return True for a practice admin (of ``practice`` when one is given)."""
    if not is_practice_member(user) or user.role != Role.ADMIN:
        return False
    return practice is None or same_practice(user, practice)


def _user_id(practitioner: Any) -> Any:
    return getattr(practitioner, "pk", practitioner)


def is_supervisor_of(user: Any, practitioner: Any) -> bool:
    """Return True when the user supervises ``practitioner`` (a user or a user id)."""
    if not is_practice_member(user) or user.role != Role.SUPERVISOR:
        return False
    pid = _user_id(practitioner)
    if pid is None:
        return False
    return user.supervisees.filter(pk=pid, practice_id=user.practice_id).exists()


def visible_practitioner_ids(user: Any) -> set[int] | None:
    """Return None for every caseload of the practice, else the practitioner ids visible."""
    if not is_practice_member(user):
        return set()
    if user.role in (Role.ADMIN, Role.RESEARCHER):
        return None
    ids = {user.pk}
    if user.role == Role.SUPERVISOR:
        ids |= set(
            user.supervisees.filter(practice_id=user.practice_id).values_list(
                "pk", flat=True
            )
        )
    return ids


def _practitioner_id_of(client: Any) -> Any:
    return getattr(client, "practitioner_id", None)


def _in_engagement_of(client: Any, practitioner_ids: set[int]) -> bool:
    """True when one of ``practitioner_ids`` works in one of the client's engagements."""
    engagements = getattr(client, "engagements", None)
    if (
        engagements is None
        or not hasattr(engagements, "filter")
        or not practitioner_ids
    ):
        return False
    return bool(engagements.filter(practitioners__in=practitioner_ids).exists())


def can_view_client_data(user: Any, client: Any) -> bool:
    """Return True when the user may open this client's pages.

    Agrees with ``practice.scoping.clients_for`` (tested): the responsible practitioner,
    any practitioner of one of the client's engagements, their supervisors, the admin.
    """
    if not same_practice(user, client):
        return False
    ids = visible_practitioner_ids(user)
    if ids is None or _practitioner_id_of(client) in ids:
        return True
    return _in_engagement_of(client, ids)


def can_change_client_data(user: Any, client: Any) -> bool:
    """Return True when the user may change this client's record or send check-ins."""
    if not same_practice(user, client):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role in (Role.PRACTITIONER, Role.SUPERVISOR):
        return _practitioner_id_of(client) == user.pk or _in_engagement_of(
            client, {user.pk}
        )
    return False


def can_see_identifiers(user: Any) -> bool:
    """Return True when the user may see names, contacts and free text."""
    return is_practice_member(user) and user.role != Role.RESEARCHER


def can_export_client(user: Any, client: Any) -> bool:
    """Return True when the user may export everything stored about the client."""
    return can_admin_practice(user) and same_practice(user, client)


def can_erase_client(user: Any, client: Any) -> bool:
    """Return True when the user may erase the client."""
    return can_admin_practice(user) and same_practice(user, client)


def can_view_audit(user: Any) -> bool:
    """Return True when the user may read the practice's audit log."""
    return can_admin_practice(user)


def client_queryset_for(user: Any, queryset: Any) -> Any:
    """Narrow a queryset of clients (``practice`` and ``practitioner`` fields) to the visible ones."""
    if not is_practice_member(user):
        return queryset.none()
    from django.db.models import Q

    queryset = queryset.filter(practice_id=user.practice_id)
    ids = visible_practitioner_ids(user)
    if ids is None:
        return queryset
    visible = Q(practitioner_id__in=ids)
    if queryset.model._meta.label == "practice.Client":
        visible |= Q(engagements__practitioners__in=ids)
    return queryset.filter(visible).distinct()
