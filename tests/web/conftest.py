"""Shared fixtures of the web tests (built only when a test asks for them)."""

from __future__ import annotations

import pytest

from tests.web import factories


@pytest.fixture
def practitioner(db):
    return factories.make_practitioner()


@pytest.fixture
def other_practitioner(db):
    """A practitioner of another practice."""
    return factories.make_practitioner()


@pytest.fixture
def engagement(practitioner):
    return factories.make_engagement(practitioner)


@pytest.fixture
def session(engagement):
    return factories.make_session(engagement)


@pytest.fixture
def owner_client(client, practitioner):
    """Django's test client, logged in as the practitioner."""
    client.force_login(practitioner)
    return client


@pytest.fixture
def other_client(client, other_practitioner):
    client.force_login(other_practitioner)
    return client


@pytest.fixture
def browser(monkeypatch):
    """Headless Debian Chromium (skipped when missing unless HB_REQUIRE_BROWSER=1)."""
    from tests.web.browser import launch

    yield from launch(monkeypatch)
