"""The caseload lists my engagements only; htmx gets the table fragment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from tests.web import factories

pytestmark = pytest.mark.django_db


def test_caseload_lists_my_clients_not_others(owner_client, practitioner):
    mine = factories.make_engagement(practitioner)
    theirs = factories.make_engagement(
        factories.make_practitioner(practitioner.practice)
    )
    response = owner_client.get(reverse("insights:engagements"))
    assert response.status_code == 200
    assert mine.clients.first().code in response.text
    assert theirs.clients.first().code not in response.text
    assert AuditEvent.objects.filter(
        action="caseload.view", actor=practitioner
    ).exists()


def test_htmx_gets_only_the_table(owner_client, practitioner):
    factories.make_engagement(practitioner)
    response = owner_client.get(
        reverse("insights:engagements") + "?status=closed",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="caseload-table"')
    assert "<html" not in response.text


def test_unknown_status_falls_back_to_active(owner_client, practitioner):
    engagement = factories.make_engagement(practitioner)
    response = owner_client.get(reverse("insights:engagements") + "?status=<script>")
    assert engagement.clients.first().code in response.text
