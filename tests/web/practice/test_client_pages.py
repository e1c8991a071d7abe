"""Client pages: create, edit, detail with latest scores; every write is audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice.models import Client
from tests.web import factories

pytestmark = pytest.mark.django_db


def test_create_client_encrypts_name_and_audits(owner_client, practitioner):
    response = owner_client.post(
        reverse("practice:client_create"),
        {"name": "Ada L.", "email": "ada@example.org"},
    )
    assert response.status_code == 302
    client = Client.objects.get()
    assert client.practitioner == practitioner
    assert client.code.startswith("C-")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM practice_client")
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:")
    assert "Ada" not in stored
    event = AuditEvent.objects.get(action="client.create")
    assert event.client_code == client.code
    assert "Ada" not in str(event.detail)


def test_bad_email_gets_a_field_message(owner_client):
    response = owner_client.post(
        reverse("practice:client_create"), {"email": "not-an-email"}
    )
    assert response.status_code == 200
    assert "valid email" in response.text
    assert Client.objects.count() == 0


def test_edit_client_audits(owner_client, practitioner):
    client = factories.make_client(practitioner)
    response = owner_client.post(
        reverse("practice:client_edit", args=[client.pk]), {"name": "New", "email": ""}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "New"
    assert AuditEvent.objects.filter(
        action="client.update", client_code=client.code
    ).exists()


def test_detail_shows_latest_scores_and_htmx_fragment(
    owner_client, practitioner, session
):
    from harmonybridge.web.checkins import storage
    from harmonybridge.web.practice import catalogue

    inst = catalogue.instrument_for(practitioner.practice, "hb_checkin_practitioner")
    storage.store_practitioner_rating(
        session, inst, {1: 4, 2: 4, 3: 4, 4: 0}, practitioner, None
    )
    client = session.engagement.clients.first()
    url = reverse("practice:client", args=[client.pk])
    page = owner_client.get(url)
    assert page.status_code == 200
    assert "<td>4</td>" in page.text  # mean of items 1-3 = (4+4+4)/3, one formatter
    fragment = owner_client.get(url, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="score-table"')
    assert AuditEvent.objects.filter(action="client.view").count() == 2


def test_overlong_name_is_refused(owner_client):
    response = owner_client.post(
        reverse("practice:client_create"), {"name": "x" * 100_000}
    )
    assert response.status_code == 200
    assert "at most 200 characters" in response.text
    assert Client.objects.count() == 0
