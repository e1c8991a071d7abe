"""Receivers for sign-in events: start session clocks and audit every sign-in and sign-out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from harmonybridge.web import audit
from harmonybridge.web.accounts.middleware import mark_authenticated
from harmonybridge.web.audit.recording import record_login_failure


@receiver(user_logged_in, dispatch_uid="hb_user_logged_in")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark_authenticated(request)
    audit.record(user, "login", request=request)


@receiver(user_logged_out, dispatch_uid="hb_user_logged_out")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(user, "logout", request=request)


@receiver(user_login_failed, dispatch_uid="hb_user_login_failed")
def on_login_failed(
    sender: Any, credentials: Any, request: Any = None, **kwargs: Any
) -> None:
    # The typed username is kept only when it names a real account (as the actor);
    # anything else typed into the box could be a password and is not stored.

    username = (credentials or {}).get("username") or ""
    user = (
        get_user_model().objects.filter(username=username).first() if username else None
    )
    record_login_failure(user, request)
