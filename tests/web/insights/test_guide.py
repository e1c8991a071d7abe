"""The in-app guide explains every marker, strategy and status in plain words."""

from __future__ import annotations

from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.repairs import markers

URL = reverse("insights:guide")


def test_every_marker_and_strategy_is_explained(owner_client):
    body = owner_client.get(URL).content.decode()
    for code in markers.MARKER_CODES + markers.STRATEGY_CODES:
        assert f'id="m-{code}"' in body or f'id="s-{code}"' in body, code
    assert AuditEvent.objects.filter(action="guide.view").exists()


def test_anonymous_is_redirected(client):
    assert client.get(URL).status_code == 302


def test_post_is_405(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_researcher_gets_404(client, practitioner):
    from tests.web import factories

    researcher = factories.make_practitioner(
        practice=practitioner.practice, role="researcher"
    )
    client.force_login(researcher)
    assert client.get(URL).status_code == 404
