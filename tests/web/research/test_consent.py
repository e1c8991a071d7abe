"""Consent records: history kept, care consent before check-in links, research answers."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from harmonybridge.web.accounts.models import Role
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins import tokens
from harmonybridge.web.checkins.models import Channel, CheckIn
from harmonybridge.web.practice.models import Client
from harmonybridge.web.research import consent
from harmonybridge.web.research.models import ConsentRecord, Decision, Purpose
from tests.web import factories
from tests.web.research.helpers import information_sheet

pytestmark = pytest.mark.django_db


def test_withdrawal_is_a_new_record_and_the_latest_decides(practitioner):
    person = factories.make_client(practitioner, care_consent=False)
    consent.record_consent(person, Purpose.RESEARCH, Decision.GIVEN, "1", practitioner)
    consent.record_consent(person, Purpose.RESEARCH, Decision.WITHDRAWN, "1", practitioner)  # fmt: skip

    history = list(ConsentRecord.objects.filter(client=person).order_by("pk"))
    assert [r.decision for r in history] == ["given", "withdrawn"]
    assert consent.is_given(person, Purpose.RESEARCH) is False
    assert consent.is_given(person, Purpose.CARE) is False  # purposes are separate
    included, left_out = consent.research_split(Client.objects.filter(pk=person.pk))
    assert included == []
    assert left_out == {"research consent withdrawn": 1}
    assert AuditEvent.objects.filter(action="consent.record").count() == 2


def test_each_family_member_consents_separately(practitioner):
    mother = factories.make_client(practitioner, care_consent=False)
    son = factories.make_client(practitioner, care_consent=False)
    factories.make_engagement(practitioner, [mother, son])
    consent.record_consent(mother, Purpose.CARE, Decision.GIVEN, "care", practitioner)
    assert consent.is_given(mother, Purpose.CARE)
    assert not consent.is_given(son, Purpose.CARE)


def test_links_wait_for_care_consent_of_every_member(owner_client, practitioner):
    mother = factories.make_client(practitioner)
    son = factories.make_client(practitioner, care_consent=False)
    engagement = factories.make_engagement(practitioner, [mother, son])
    session = factories.make_session(engagement)
    url = reverse("practice:checkin_links", args=[session.pk])

    refused = owner_client.post(url, follow=True)

    assert f"Record {son.code}&#x27;s care consent" in refused.content.decode()
    assert not CheckIn.objects.filter(session=session).exists()
    with pytest.raises(tokens.IssueRefused):
        tokens.issue(session, son)

    factories.give_consent(son, "care", practitioner)
    issued = owner_client.post(url)
    assert issued.status_code == 200
    assert CheckIn.objects.filter(session=session).count() == 2


def test_no_reminder_after_care_consent_is_withdrawn(practitioner, settings):
    person = factories.make_client(practitioner, email="client@example.org")
    session = factories.make_session(factories.make_engagement(practitioner, [person]))
    checkin, _token = tokens.issue(session, person, Channel.EMAIL)
    from django.utils import timezone

    CheckIn.objects.filter(pk=checkin.pk).update(
        email_sent_at=timezone.now() - timezone.timedelta(days=2)
    )
    factories.give_consent(person, "care", practitioner, "withdrawn")

    call_command("send_checkin_reminders")

    assert mail.outbox == []


def test_practitioner_records_research_consent_on_the_client_pages(
    owner_client, practitioner
):
    admin = factories.make_practitioner(practitioner.practice, role=Role.ADMIN)
    person = factories.make_client(practitioner, name="Zelda Quartermain")
    url = reverse("research:client_consent", args=[person.pk])
    page = owner_client.get(reverse("practice:client", args=[person.pk]))
    assert f'href="{url}"' in page.content.decode()  # the client page links to it
    state = owner_client.get(url).content.decode()
    assert "Research use: <strong>not recorded</strong>" in state

    no_sheet = owner_client.post(url, {"purpose": "research", "decision": "given"})
    assert no_sheet.status_code == 400
    assert "no research information sheet" in no_sheet.content.decode()

    information_sheet(admin, "2026-01")
    wrong = owner_client.post(
        url, {"purpose": "research", "decision": "given", "sheet_version": "9"}
    )
    assert "There is no research information sheet version 9" in wrong.content.decode()

    ok = owner_client.post(url, {"purpose": "research", "decision": "given"})
    assert ok.status_code == 302
    rec = consent.latest(person, Purpose.RESEARCH)
    assert (rec.decision, rec.sheet_version, rec.recorded_by) == (
        "given",
        "2026-01",
        practitioner,
    )


def test_information_sheet_versions_are_never_overwritten(client):
    admin = factories.make_practitioner(role=Role.ADMIN)
    client.force_login(admin)
    url = reverse("research:sheets")
    assert client.post(url, {"version": "1", "text": "First."}).status_code == 302
    again = client.post(url, {"version": "1", "text": "Changed."})
    assert "Version 1 exists already" in again.content.decode()
    assert consent.current_sheet(admin.practice_id).text == "First."
