"""Personal access tokens: created only after two-factor sign-in, shown once, hashed, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

import pytest
from allauth.account.internal.flows.login import record_authentication
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone

from harmonybridge.web.api import tokens
from harmonybridge.web.api.models import ApiToken
from harmonybridge.web.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

FORM = {"name": "EHR sync", "scopes": ["read", "write"], "days": "90"}


def _passed_mfa(client, user):
    """Sign in and record a password and a TOTP step, as allauth's login flow does."""
    client.force_login(user)
    request = RequestFactory().get("/")
    request.session = client.session
    record_authentication(request, user, "password")
    record_authentication(request, user, "mfa", type="totp")
    request.session.save()


def test_a_session_without_a_second_factor_cannot_create_a_token(owner_client):
    r = owner_client.post("/api/tokens/", FORM)
    assert r.status_code == 403
    assert not ApiToken.objects.exists()


def test_token_is_shown_once_and_stored_as_hmac(client, practitioner):
    _passed_mfa(client, practitioner)
    r = client.post("/api/tokens/", FORM)
    assert r.status_code == 200
    plain = re.search(
        r'id="new-token">(hbp_[A-Za-z0-9_-]+)<', r.content.decode()
    ).group(1)
    token = ApiToken.objects.get()
    key = hmac.new(
        settings.SECRET_KEY.encode(), b"harmonybridge api token", hashlib.sha256
    ).digest()
    assert token.digest == hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()
    assert plain not in str(ApiToken.objects.values().get())
    assert token.scopes == ["read", "write"]
    assert (
        dt.timedelta(days=89)
        < token.expires_at - timezone.now()
        <= dt.timedelta(days=90)
    )
    # the list page never shows it again
    assert plain not in client.get("/api/tokens/").content.decode()
    assert AuditEvent.objects.filter(action="api_token.create").count() == 1


def test_expiry_is_at_most_one_year(client, practitioner):
    _passed_mfa(client, practitioner)
    r = client.post("/api/tokens/", {**FORM, "days": "366"})
    assert r.status_code == 400
    assert not ApiToken.objects.exists()
    with pytest.raises(ValueError, match="between 1 and 365"):
        tokens.issue(practitioner, "x", ["read"], 366)
    with pytest.raises(ValueError, match="scopes"):
        tokens.issue(practitioner, "x", ["admin"], 30)


def test_revoked_token_is_refused(client, practitioner):
    _token, plain = tokens.issue(practitioner, "x", ["read"], 30)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    assert client.get("/api/v1/clients", **headers).status_code == 200
    _passed_mfa(client, practitioner)
    client.post("/api/tokens/revoke", {"token": _token.pk})
    client.logout()
    assert client.get("/api/v1/clients", **headers).status_code == 401


def test_another_persons_token_cannot_be_revoked(
    client, practitioner, other_practitioner
):
    theirs, _ = tokens.issue(other_practitioner, "x", ["read"], 30)
    client.force_login(practitioner)
    assert client.post("/api/tokens/revoke", {"token": theirs.pk}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_researcher_token_reaches_nothing(client, practitioner):
    from tests.web import factories

    researcher = factories.make_practitioner(practitioner.practice, role="researcher")
    _token, plain = tokens.issue(researcher, "x", ["read"], 30)
    r = client.get("/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert r.status_code == 401
