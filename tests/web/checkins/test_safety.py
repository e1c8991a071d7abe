"""A safety item shows the crisis text at once and notifies the practitioners."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from harmonybridge.web.alerts.models import SafetyNotice
from harmonybridge.web.checkins import storage
from harmonybridge.web.practice.models import RaterRole, ServiceKind
from tests.web import factories
from tests.web.checkins.helpers import answers_for, open_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def therapy_session(practitioner):
    practitioner.practice.crisis_text = "Call the Synthetic Crisis Line on 000."
    practitioner.practice.save()
    return factories.make_session(
        factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    )


def _phq9_index(session):
    ids = [i.id for i in storage.due_instruments(session, RaterRole.CLIENT)]
    return ids.index("phq9") + 1


def test_phq9_item9_shows_crisis_text_and_notifies(
    client, practitioner, therapy_session, django_capture_on_commit_callbacks
):
    checkin, token = factories.make_checkin(therapy_session)
    open_link(client, token)
    step = _phq9_index(therapy_session)
    phq9 = next(
        i
        for i in storage.due_instruments(therapy_session, RaterRole.CLIENT)
        if i.id == "phq9"
    )
    data = {"checkin": str(checkin.pk), "s": str(step), **answers_for(phq9, [])}
    data["phq9-i9"] = "1"  # "several days": PHQ-9 item 9 > 0 is the safety rule
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/c/", data, follow=True)
    assert "Call the Synthetic Crisis Line on 000." in response.text
    notice = SafetyNotice.objects.get(checkin=checkin)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [practitioner.email]
    body = mail.outbox[0].body
    assert "PHQ" not in body
    assert checkin.respondent.code not in body
    # The practitioner sees a banner on every page until they acknowledge it.
    client.force_login(practitioner)
    page = client.get(reverse("practice:caseload"))
    assert "A check-in needs your attention now." in page.text
    ack = client.post(reverse("alerts:acknowledge_safety", args=[notice.pk]))
    assert ack.status_code == 302
    page = client.get(reverse("practice:caseload"))
    assert "A check-in needs your attention now." not in page.text


def test_no_crisis_text_without_a_safety_answer(client, therapy_session):
    checkin, token = factories.make_checkin(therapy_session)
    open_link(client, token)
    phq9 = next(
        i
        for i in storage.due_instruments(therapy_session, RaterRole.CLIENT)
        if i.id == "phq9"
    )
    data = {
        "checkin": str(checkin.pk),
        "s": str(_phq9_index(therapy_session)),
        **answers_for(phq9, []),
    }
    response = client.post("/c/", data, follow=True)
    assert "Synthetic Crisis Line" not in response.text
    assert not SafetyNotice.objects.exists()


def test_other_practice_cannot_acknowledge(client, other_practitioner, therapy_session):
    notice = SafetyNotice.objects.create(
        engagement=therapy_session.engagement, session=therapy_session
    )
    client.force_login(other_practitioner)
    assert (
        client.post(reverse("alerts:acknowledge_safety", args=[notice.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("alerts:acknowledge_safety", args=[notice.pk])).status_code
        == 405
    )


def test_crisis_text_comes_back_as_soon_as_the_answer_is_given(client, therapy_session):
    checkin, token = factories.make_checkin(therapy_session)
    open_link(client, token)
    data = {
        "checkin": str(checkin.pk),
        "s": str(_phq9_index(therapy_session)),
        "phq9-i9": "2",
    }
    response = client.post("/c/draft", data, headers={"HX-Request": "true"})
    assert "Call the Synthetic Crisis Line on 000." in response.text
    assert SafetyNotice.objects.filter(checkin=checkin).exists()
