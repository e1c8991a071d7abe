"""The one place that decides which clients, engagements and sessions a person may see.

Another practitioner's or another practice's object is a 404, never a 403, so
that ids reveal nothing. Researchers see no identifiable page at all.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from harmonybridge.web.accounts.models import Role
from harmonybridge.web.practice.models import Client, Engagement, TherapySession


def _can_see_identifiable(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.practice_id is not None
        and user.role != Role.RESEARCHER
    )


def require_identifiable(user: Any) -> None:
    """404 for anyone who may not see identifiable pages (researchers, no practice)."""
    if not _can_see_identifiable(user):
        raise Http404


def require_practice_admin(user: Any) -> None:
    require_identifiable(user)
    if user.role != Role.ADMIN:
        raise Http404


def require_research_exports(user: Any) -> None:
    """404 for anyone but the practice admin and researchers (research export projects)."""
    if not (
        user.is_authenticated
        and user.is_active
        and user.practice_id is not None
        and user.role in (Role.ADMIN, Role.RESEARCHER)
    ):
        raise Http404


def engagements_for(user: Any, *, change: bool = False) -> QuerySet[Engagement]:
    """Engagements this person may open (``change``: may also change; supervisors only see
    their supervisees' engagements)."""
    if not _can_see_identifiable(user):
        return Engagement.objects.none()
    qs = Engagement.objects.filter(practice_id=user.practice_id)
    if user.role == Role.ADMIN:
        return qs
    if user.role == Role.SUPERVISOR and not change:
        return qs.filter(
            Q(practitioners=user) | Q(practitioners__in=user.supervisees.all())
        ).distinct()
    return qs.filter(practitioners=user).distinct()


def clients_for(user: Any, *, change: bool = False) -> QuerySet[Client]:
    """Clients in this person's engagements, plus clients they are responsible for."""
    if not _can_see_identifiable(user):
        return Client.objects.none()
    qs = Client.objects.filter(practice_id=user.practice_id)
    if user.role == Role.ADMIN:
        return qs
    engagement_ids = engagements_for(user, change=change).values("pk")
    return qs.filter(
        Q(engagements__in=engagement_ids) | Q(practitioner=user)
    ).distinct()


def sessions_for(user: Any, *, change: bool = False) -> QuerySet[TherapySession]:
    return TherapySession.objects.filter(
        engagement__in=engagements_for(user, change=change).values("pk")
    )


def _get(qs: QuerySet[Any], pk: Any) -> Any:
    try:
        return qs.get(pk=int(pk))
    except (ValueError, TypeError, qs.model.DoesNotExist) as exc:
        raise Http404 from exc


def get_client_or_404(request: HttpRequest, pk: Any, *, change: bool = False) -> Client:
    return _get(clients_for(request.user, change=change), pk)


def get_engagement_or_404(
    request: HttpRequest, pk: Any, *, change: bool = False
) -> Engagement:
    qs = engagements_for(request.user, change=change)
    return _get(qs.select_related("service_line", "lead", "practice"), pk)


def get_session_or_404(
    request: HttpRequest, pk: Any, *, change: bool = False
) -> TherapySession:
    qs = sessions_for(request.user, change=change)
    return _get(
        qs.select_related("engagement__service_line", "engagement__practice"), pk
    )
