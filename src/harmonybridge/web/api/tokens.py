"""Issue, check and revoke personal access tokens.

A token is ``hbp_`` plus 43 URL-safe characters (256 random bits). Because the
secret is high-entropy, a keyed hash (HMAC-SHA-256 with a key derived from
``SECRET_KEY``) is enough to store it and lets a request find its token with one
indexed lookup; a slow password hash would add nothing but latency. Rotating
``SECRET_KEY`` therefore invalidates every token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone

from harmonybridge.web import audit
from harmonybridge.web.api.models import ApiToken, Scope

PREFIX = "hbp_"
#: The longest a token may live (the issue's limit: one year).
MAX_DAYS = 365


def _key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"harmonybridge api token", hashlib.sha256
    ).digest()


def digest(token: str) -> str:
    """The stored form of a token: HMAC-SHA-256, hex."""
    return hmac.new(_key(), token.encode(), hashlib.sha256).hexdigest()


def issue(
    user: Any, name: str, scopes: Iterable[str], days: int, *, request: Any = None
) -> tuple[ApiToken, str]:
    """Create a token; return it and the plain secret (shown once, never stored)."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(Scope.values)}")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a token lives between 1 and {MAX_DAYS} days")
    plain = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=plain[:10],
        digest=digest(plain),
        scopes=scopes,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    audit.record(user, "api_token.create", token, request=request, days=days)
    return token, plain


def authenticate(plain: str) -> ApiToken | None:
    """The usable (not expired, not revoked) token with this secret, or None."""
    if not plain.startswith(PREFIX) or len(plain) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__practice")
        .filter(digest=digest(plain))
        .first()
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def revoke(token: ApiToken, user: Any, *, request: Any = None) -> bool:
    """Revoke a token of this user; False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    audit.record(user, "api_token.revoke", token, request=request)
    return True
