"""All check-in token logic: issue, hash, look up, expire; tokens serve one purpose only.

A token is ``secrets.token_urlsafe(32)``; only its SHA-256 is stored. Look-up is by
hash, then the digests are compared with ``hmac.compare_digest``; a forged, expired
or used token gives the same answer (None), so neither the page nor its timing says
which.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from harmonybridge.web.checkins.models import CheckIn
from harmonybridge.web.checkins.prepared import Prepared
from harmonybridge.web.checkins.signals import link_requested
from harmonybridge.web.practice.models import Client, TherapySession

#: The purpose is mixed into the hash so a token can never serve another purpose.
PURPOSE = "hb-checkin-v1"
SESSION_KEY = "hb_checkin_id"
#: Which link of that check-in the browser opened: issuing a new link changes the
#: token hash, and every cookie holding the old generation stops working.
SESSION_GENERATION_KEY = "hb_checkin_generation"


def _digest(token: str) -> str:
    return hashlib.sha256(f"{PURPOSE}:{token}".encode()).hexdigest()


def _expiry() -> timedelta:
    return timedelta(hours=getattr(settings, "HB_CHECKIN_TOKEN_HOURS", 72))


def new_token() -> tuple[str, str]:
    """A fresh random token and the hash that is stored for it."""
    token = secrets.token_urlsafe(32)
    return token, _digest(token)


def expiry_from_now() -> datetime:
    return timezone.now() + _expiry()


class IssueRefused(Exception):
    """A link may not be issued to this respondent; the message says what to do first."""


def issue_refusal(respondent: Client) -> str | None:
    """Why no link may be issued to the respondent (a ``link_requested`` receiver's
    message, such as a missing care consent), or None."""
    for _receiver, message in link_requested.send(sender=Client, respondent=respondent):
        if message:
            return str(message)
    return None


def issue(
    session: TherapySession,
    respondent: Client,
    channel: str = "link",
    *,
    extend: bool = True,
) -> tuple[CheckIn, str]:
    """Create (or re-key) the respondent's check-in; return it and the plain token.

    Issuing again for an unsubmitted check-in replaces its token: the old link and
    every browser that opened it stop working (:func:`current` checks the generation);
    the answers saved so far stay. ``extend=False`` (reminders) keeps the expiry: only
    a practitioner who issues a link on purpose gives the client more time.

    Raises :class:`IssueRefused` when a ``link_requested`` receiver objects (no care
    consent).
    """
    refusal = issue_refusal(respondent)
    if refusal:
        raise IssueRefused(refusal)
    token, digest = new_token()
    checkin, created = CheckIn.objects.get_or_create(
        session=session,
        respondent=respondent,
        defaults={
            "token_hash": digest,
            "expires_at": expiry_from_now(),
            "channel": channel,
        },
    )
    if not created:
        checkin.token_hash = digest
        if extend:
            checkin.expires_at = expiry_from_now()
        checkin.channel = channel
        checkin.save(
            update_fields=["token_hash", "expires_at", "channel", "updated_at"]
        )
    return checkin, token


#: Encrypted fields the check-in pages never show; not loaded, not decrypted.
_UNUSED = (
    "respondent__name",
    "respondent__email",
    "session__engagement__way_of_working",
)


def _checkins() -> QuerySet[CheckIn]:
    # the service line tells coaching from therapy (the wording of every screen)
    return CheckIn.objects.select_related(
        "session__engagement__practice",
        "session__engagement__service_line",
        "respondent",
    ).defer(*_UNUSED)


#: The check-in by primary key, compiled once per connection: every screen and the
#: submit read it first, and building this join's SQL cost more than running it.
_by_pk = Prepared(CheckIn, lambda pk: _checkins().filter(pk=pk), pk=int)
_by_digest = Prepared(
    CheckIn, lambda digest: _checkins().filter(token_hash=digest), digest=str
)


def lookup(token: str) -> CheckIn | None:
    """The open check-in for a token, or None when forged, expired or already used."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        _digest("x" * 43)  # same work either way
        return None
    digest = _digest(token)
    found = _by_digest(digest=digest)
    checkin = found[0] if found else None
    stored = checkin.token_hash if checkin is not None else "0" * 64
    if not hmac.compare_digest(stored, digest) or checkin is None:
        return None
    if checkin.is_submitted or checkin.is_expired:
        return None
    return checkin


def _generation(checkin: CheckIn) -> str:
    return hashlib.sha256(f"generation:{checkin.token_hash}".encode()).hexdigest()


def remember(request_session: Any, checkin: CheckIn) -> None:
    """Tie this browser's session to the check-in *and* the link it was opened with."""
    request_session[SESSION_KEY] = checkin.pk
    request_session[SESSION_GENERATION_KEY] = _generation(checkin)


def current(request_session: dict, *, allow_submitted: bool = False) -> CheckIn | None:
    """The check-in this browser holds in its session cookie, if still usable.

    Only while the link it was opened with is the check-in's newest one.
    """
    pk = request_session.get(SESSION_KEY)
    generation = request_session.get(SESSION_GENERATION_KEY)
    if not isinstance(pk, int) or not isinstance(generation, str):
        return None
    found = _by_pk(pk=pk)
    if not found:
        return None
    checkin = found[0]
    if not hmac.compare_digest(generation, _generation(checkin)):
        return None
    if checkin.is_submitted and not allow_submitted:
        return None
    if checkin.is_expired and not checkin.is_submitted:
        return None
    return checkin


def build_link(token: str) -> str:

    base = getattr(settings, "HB_PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse("checkins:start", args=[token])
