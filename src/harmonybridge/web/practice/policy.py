"""The access policy: the one place that decides who may see and change what.

Querysets first: "what may this user see" is a queryset (``clients_for``,
``engagements_for``, ``sessions_for``, ``exportable_clients_for``, …); "may they see
this object" is ``.filter(pk=…).exists()`` on that queryset (``may_see``). Views, the
audit viewer and the exports load objects through the ``get_*_or_404`` helpers, so an
object a user may not see is a 404, never a 403, and ids reveal nothing.

Roles (``accounts.models.Role``), always inside the user's own practice (another
practice's objects do not exist for them):

* **admin** (practice admin): every client of the practice; manages staff, exports and
  erases clients, reads the audit log.
* **practitioner**: their own clients only: those they are responsible for and those in an
  engagement they work in (co-practitioners of a couple or family); may change them.
* **supervisor**: a practitioner who may also *see* (not change) the engagements of the
  practitioners named in ``user.supervisees``.
* **researcher**: pseudonymised aggregates only. No page that shows an identifiable
  client (client, engagement, dashboard, session, answers, report, export, audit): every
  queryset below is empty for them, so each of those pages is a 404.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest

from harmonybridge.web.accounts.models import Role
from harmonybridge.web.practice.models import Client, Engagement, TherapySession

M = TypeVar("M", bound=Model)

__all__ = [
    "clients_for",
    "engagements_for",
    "erasable_clients_for",
    "exportable_clients_for",
    "get_client_or_404",
    "get_engagement_or_404",
    "get_session_or_404",
    "is_practice_admin",
    "may_see",
    "may_see_identifiable",
    "may_view_audit",
    "require_identifiable",
    "require_practice_admin",
    "sessions_for",
]


def may_see_identifiable(user: Any) -> bool:
    """An active account of a practice that may see identifiable pages (not a researcher)."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "practice_id", None) is not None
        and user.role != Role.RESEARCHER
    )


def is_practice_admin(user: Any) -> bool:
    """The practice admin (staff, service lines, wording, exports, erasure, audit log)."""
    return may_see_identifiable(user) and user.role == Role.ADMIN


def require_identifiable(user: Any) -> None:
    """404 for anyone who may not see identifiable pages (researchers, no practice)."""
    if not may_see_identifiable(user):
        raise Http404


def require_practice_admin(user: Any) -> None:
    """404 for anyone but the practice admin."""
    if not is_practice_admin(user):
        raise Http404


def engagements_for(user: Any, *, change: bool = False) -> QuerySet[Engagement]:
    """Engagements this person may open (``change``: may also change; supervisors only
    see their supervisees' engagements, they do not change them)."""
    if not may_see_identifiable(user):
        return Engagement.objects.none()
    qs = Engagement.objects.filter(practice_id=user.practice_id)
    if user.role == Role.ADMIN:
        return qs
    if user.role == Role.SUPERVISOR and not change:
        supervisees = user.supervisees.filter(practice_id=user.practice_id)
        return qs.filter(
            Q(practitioners=user) | Q(practitioners__in=supervisees)
        ).distinct()
    return qs.filter(practitioners=user).distinct()


def clients_for(user: Any, *, change: bool = False) -> QuerySet[Client]:
    """Clients in this person's engagements, plus clients they are responsible for."""
    if not may_see_identifiable(user):
        return Client.objects.none()
    qs = Client.objects.filter(practice_id=user.practice_id)
    if user.role == Role.ADMIN:
        return qs
    engagement_ids = engagements_for(user, change=change).values("pk")
    return qs.filter(
        Q(engagements__in=engagement_ids) | Q(practitioner=user)
    ).distinct()


def sessions_for(user: Any, *, change: bool = False) -> QuerySet[TherapySession]:
    """Sessions of the engagements this person may open (or change)."""
    return TherapySession.objects.filter(
        engagement__in=engagements_for(user, change=change).values("pk")
    )


def exportable_clients_for(user: Any) -> QuerySet[Client]:
    """Clients whose data this person may export (data-subject access): admin only."""
    if not is_practice_admin(user):
        return Client.objects.none()
    return clients_for(user)


def erasable_clients_for(user: Any) -> QuerySet[Client]:
    """Clients this person may erase: admin only."""
    return exportable_clients_for(user)


def may_view_audit(user: Any) -> bool:
    """May read the practice's audit log: admin only."""
    return is_practice_admin(user)


def may_see(queryset: QuerySet[Any], obj: Any) -> bool:
    """May the user see ``obj``: it is in ``queryset`` (one of the ``*_for`` above)."""
    pk = getattr(obj, "pk", obj)
    return pk is not None and queryset.filter(pk=pk).exists()


def get_or_404(queryset: QuerySet[M], pk: Any) -> M:
    """The object ``pk`` of ``queryset``; a 404 when absent or not an id."""
    try:
        return queryset.get(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist) as exc:
        raise Http404 from exc


def get_client_or_404(request: HttpRequest, pk: Any, *, change: bool = False) -> Client:
    return get_or_404(clients_for(request.user, change=change), pk)


def get_engagement_or_404(
    request: HttpRequest, pk: Any, *, change: bool = False
) -> Engagement:
    qs = engagements_for(request.user, change=change)
    return get_or_404(qs.select_related("service_line", "lead", "practice"), pk)


def get_session_or_404(
    request: HttpRequest, pk: Any, *, change: bool = False
) -> TherapySession:
    qs = sessions_for(request.user, change=change)
    return get_or_404(
        qs.select_related("engagement__service_line", "engagement__practice"), pk
    )
