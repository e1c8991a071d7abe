"""One trusted-proxy setting gives the lockout, the rate limits and the audit log the client's address.

Issue 9, fault 3: behind the documented reverse proxy every request has
``REMOTE_ADDR=127.0.0.1``; allauth's per-address sign-in limit (``10/m/ip``) then
refused the whole practice after ten failures by one stranger, and the audit log
recorded 127.0.0.1 for everyone. Both sides are tested: ``X-Forwarded-For`` from a
peer that is not in ``HB_TRUSTED_PROXIES`` is ignored; through the trusted proxy the
attacker's own address is limited while a real user signs in from another one.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.clientaddress import client_address, parse_networks
from tests.web.security.support import PASSWORD, make_practice, make_staff

PROXY = "127.0.0.1"
ATTACKER = "203.0.113.66"
COLLEAGUE = "198.51.100.7"


def _request(remote: str, xff: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.HB_TRUSTED_PROXIES = []
    assert client_address(_request("10.1.1.1", "1.2.3.4")) == "10.1.1.1"
    settings.HB_TRUSTED_PROXIES = [PROXY]
    assert client_address(_request("10.1.1.1", "1.2.3.4")) == "10.1.1.1"


def test_trusted_proxy_gives_the_hop_it_saw_not_what_the_client_wrote(settings):
    settings.HB_TRUSTED_PROXIES = [PROXY, "10.0.0.0/8"]
    # nginx's $proxy_add_x_forwarded_for appends the address it saw to what came in.
    assert client_address(_request(PROXY, f"6.6.6.6, {ATTACKER}")) == ATTACKER
    # a second trusted hop (a load balancer in 10/8) is skipped
    assert client_address(_request(PROXY, f"{COLLEAGUE}, 10.2.3.4")) == COLLEAGUE
    # no header, or one the proxy could not have written: the proxy's own address
    assert client_address(_request(PROXY)) == PROXY
    assert client_address(_request(PROXY, "not-an-address")) == PROXY


def test_a_wrong_proxy_setting_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="HB_TRUSTED_PROXIES"):
        parse_networks(["127.0.0.1", "localhost"])


def _attempt(remote: str, username: str, password: str, xff: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return Client(**extra).post(
        "/accounts/login/", {"login": username, "password": password}
    )


def _signed_in(response) -> bool:
    return response.status_code == 302 and "/accounts/" not in response["Location"]


@pytest.fixture
def allauth_limits(settings):
    # The production limits (settings.py): allauth's per-address and per-account limits.
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
    settings.AXES_ENABLED = False


@pytest.mark.django_db
def test_behind_the_trusted_proxy_one_attacker_does_not_lock_out_the_practice(
    settings, allauth_limits
):
    settings.HB_TRUSTED_PROXIES = [PROXY]
    user = make_staff(make_practice())
    for n in range(11):
        _attempt(PROXY, f"made-up-{n}", "wrong password!!", xff=ATTACKER)
    # The attacker's address is limited now: even a right password is refused from it.
    assert not _signed_in(_attempt(PROXY, user.username, PASSWORD, xff=ATTACKER))
    # A colleague behind the same proxy, from their own address, signs in.
    assert _signed_in(_attempt(PROXY, user.username, PASSWORD, xff=COLLEAGUE))
    # and the audit log says where each came from, not the proxy
    ips = set(AuditEvent.objects.values_list("ip_address", flat=True))
    assert COLLEAGUE in ips
    assert ATTACKER in ips
    assert PROXY not in ips


@pytest.mark.django_db
def test_from_an_untrusted_peer_a_forged_header_does_not_escape_the_limit(
    settings, allauth_limits
):
    settings.HB_TRUSTED_PROXIES = [PROXY]
    user = make_staff(make_practice())
    for n in range(11):
        # a fresh forged address every time: not believed, the peer is not the proxy
        _attempt(ATTACKER, f"made-up-{n}", "wrong password!!", xff=f"10.9.9.{n}")
    assert not _signed_in(
        _attempt(ATTACKER, user.username, PASSWORD, xff="192.0.2.200")
    )
    forged = {f"10.9.9.{n}" for n in range(11)} | {"192.0.2.200"}
    assert not forged & set(AuditEvent.objects.values_list("ip_address", flat=True))


@pytest.mark.django_db
def test_axes_lockout_keys_on_the_forwarded_address(settings):
    from axes.handlers.proxy import AxesProxyHandler

    settings.HB_TRUSTED_PROXIES = [PROXY]
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.ACCOUNT_RATE_LIMITS = False
    AxesProxyHandler.implementation = None
    try:
        user = make_staff()
        for _ in range(5):
            _attempt(PROXY, user.username, "wrong password!!", xff=ATTACKER)
        assert not _signed_in(_attempt(PROXY, user.username, PASSWORD, xff=ATTACKER))
        assert _signed_in(_attempt(PROXY, user.username, PASSWORD, xff=COLLEAGUE))
    finally:
        AxesProxyHandler.implementation = None
