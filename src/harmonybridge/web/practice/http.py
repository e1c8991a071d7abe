"""Request type for staff views and the decorator every staff view wears."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from harmonybridge.web.accounts.models import User
from harmonybridge.web.practice.policy import require_identifiable


class PractitionerRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


View = Callable[..., HttpResponse]


def staff_view(view: View) -> View:
    """Login required, and a 404 for anyone who may not see identifiable pages."""

    @wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        require_identifiable(request.user)
        return view(request, *args, **kwargs)

    return login_required(wrapper)
