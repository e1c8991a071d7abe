"""The API's only route to the access policy: every object the API shows comes from here.

The API has no rules of its own; these functions ask the practice's single policy
and turn "hidden" into the API's 404.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from harmonybridge.web.api.errors import not_found
from harmonybridge.web.practice import policy

M = TypeVar("M", bound=Model)

clients_for = policy.clients_for
engagements_for = policy.engagements_for
sessions_for = policy.sessions_for


def may_use_api(user: Any) -> bool:
    """Whether the person may see identifiable data at all (researchers may not)."""
    return policy.may_see_identifiable(user)


def get(queryset: QuerySet[M], pk: int, field: str, what: str) -> M:
    """The object with this id if the policy lets this person see it, else a 404."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise not_found(field, what)
    return obj
