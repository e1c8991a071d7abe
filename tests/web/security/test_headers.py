"""Security headers and cookies under production settings, and on every test-mode page."""

from __future__ import annotations

import pytest

from tests.web.security.production import probe


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    return probe(tmp_path_factory.mktemp("prod"))


def test_plain_http_redirects_to_https(prod):
    assert prod["http"]["status"] == 301
    assert prod["http"]["location"].startswith("https://hb.example.org/")


def test_hsts_one_year_with_subdomains(prod):
    hsts = prod["login"]["headers"]["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


def test_csp_is_strict(prod):
    csp = prod["login"]["headers"]["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Referrer-Policy", "same-origin"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ],
)
def test_fixed_headers(prod, header, value):
    assert prod["login"]["headers"][header] == value


def test_permissions_policy(prod):
    policy = prod["login"]["headers"]["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy


def test_cookies_are_host_prefixed_and_secure(prod):
    cookies = {**prod["login"]["cookies"], **prod["login_post"]["cookies"]}
    assert set(cookies) >= {"__Host-hbcsrf", "__Host-hbsession"}
    for name, attrs in cookies.items():
        assert name.startswith("__Host-"), name
        # __Host- requires Secure, Path=/ and no Domain (RFC 6265bis 4.1.3.2).
        assert attrs["secure"], name
        assert attrs["path"] == "/", name
        assert not attrs["domain"], name
        assert attrs["samesite"] in ("Lax", "Strict"), name
    assert cookies["__Host-hbsession"]["httponly"]


def test_production_sends_staff_without_totp_to_setup(prod):
    assert prod["login_post"]["status"] == 302
    home = prod["home_without_mfa"]
    assert home["status"] == 302
    assert home["location"] == "/accounts/2fa/totp/activate/"
    assert "no-store" in home["headers"]["Cache-Control"]


@pytest.mark.django_db
def test_staff_pages_are_not_cached(client):
    from tests.web.security.support import make_staff

    client.force_login(make_staff(role="admin"))
    response = client.get("/audit/")
    assert "no-store" in response["Cache-Control"]
    assert response["Permissions-Policy"]
    assert "object-src 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_checkin_pages_tell_other_sites_nothing(client):
    response = client.get("/c/t/not-a-real-token-but-long-enough-1234")
    # same-origin: no Referer leaves the site; no-referrer would break form posts
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]  # token pages are never cached
    assert client.get("/accounts/login/")["Referrer-Policy"] == "same-origin"
