"""A safety item shows the crisis text at once and notifies the practitioners."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from harmonybridge.web.alerts.models import EmailState, SafetyNotice
from harmonybridge.web.alerts.safety import send_safety_email
from harmonybridge.web.audit.models import AuditEvent
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


def test_phq9_item9_shows_crisis_text_and_opens_a_safety_card(
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
    assert (notice.instrument, notice.item_number, notice.answer) == ("phq9", 9, 1.0)
    # the task worker's email: to the lead, without clinical content
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [practitioner.email]
    body = mail.outbox[0].body
    assert "PHQ" not in body
    assert checkin.respondent.code not in body
    notice.refresh_from_db()
    assert notice.email_state == EmailState.SENT
    # The practitioner sees one card naming who, what, the answer, when, draft or not
    client.force_login(practitioner)
    page = client.get(reverse("insights:caseload")).text
    card = page[page.index('class="safety-card"') :]
    card = card[: card.index("</section>")]
    assert checkin.respondent.label in card
    assert "PHQ-9 item 9" in card
    item9 = next(it for it in phq9.items if it.number == 9).text["en"]
    assert item9 in card
    assert "Several days (1)" in card
    assert "draft, not sent by the client" in card  # the next parts are not sent yet
    assert reverse("insights:answers", args=[therapy_session.pk]) in card
    assert "Call the Synthetic Crisis Line" not in page  # never addressed to staff
    # recording the action closes the card, for everyone, audited
    post = client.post(
        reverse("alerts:safety_action", args=[notice.pk]),
        {"action": "contacted", "note": "Phoned, safe, plan reviewed."},
    )
    assert post.status_code == 302
    notice.refresh_from_db()
    assert notice.closed_by == practitioner
    assert notice.action == "contacted"
    assert notice.action_note == "Phoned, safe, plan reviewed."
    assert AuditEvent.objects.filter(action="safety.action").count() == 1
    assert 'class="safety-card"' not in client.get(reverse("insights:caseload")).text


def test_one_card_per_client_however_many_answers(owner_client, practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    member = engagement.clients.first()
    for _ in range(4):
        s = factories.make_session(engagement)
        SafetyNotice.objects.create(
            engagement=engagement,
            session=s,
            client=member,
            instrument="phq9",
            item_number=9,
            answer=2,
        )
    page = owner_client.get(reverse("insights:caseload")).text
    assert page.count('class="safety-card"') == 1
    assert "3 earlier safety answers" in page
    latest = SafetyNotice.objects.order_by("-created_at", "-pk").first()
    owner_client.post(
        reverse("alerts:safety_action", args=[latest.pk]), {"action": "referred"}
    )
    assert not SafetyNotice.objects.open().exists()


def test_an_action_must_be_chosen(owner_client, practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    notice = SafetyNotice.objects.create(
        engagement=engagement, session=factories.make_session(engagement)
    )
    r = owner_client.post(
        reverse("alerts:safety_action", args=[notice.pk]),
        {"note": "x"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 400
    assert "Choose what you did." in r.text
    assert SafetyNotice.objects.open().count() == 1


def test_email_goes_to_the_lead_and_the_safety_contact(practitioner, therapy_session):
    practitioner.practice.safety_contact_email = "safety@example.org"
    practitioner.practice.save()
    co = factories.make_practitioner(practitioner.practice)
    therapy_session.engagement.practitioners.add(co)
    notice = SafetyNotice.objects.create(
        engagement=therapy_session.engagement, session=therapy_session
    )
    send_safety_email.enqueue(notice.pk)
    assert mail.outbox[0].to == [practitioner.email, "safety@example.org"]


def test_a_failed_send_is_retried_and_visible(
    owner_client, practitioner, therapy_session, monkeypatch
):
    from harmonybridge.web.alerts import safety

    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) < 3:
            raise ConnectionRefusedError("smtp down")
        return 1

    monkeypatch.setattr(safety, "send_mail", flaky)
    notice = SafetyNotice.objects.create(
        engagement=therapy_session.engagement, session=therapy_session
    )
    send_safety_email.enqueue(notice.pk)
    notice.refresh_from_db()
    assert len(calls) == 3
    assert (notice.email_state, notice.email_attempts) == (EmailState.SENT, 3)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(safety, "send_mail", down)
    other = SafetyNotice.objects.create(
        engagement=therapy_session.engagement,
        session=factories.make_session(therapy_session.engagement),
    )
    send_safety_email.enqueue(other.pk)
    other.refresh_from_db()
    assert other.email_state == EmailState.FAILED
    assert other.email_attempts == safety.MAX_EMAIL_ATTEMPTS
    assert other.email_error == "ConnectionRefusedError"
    page = owner_client.get(reverse("insights:caseload")).text
    assert "could not be sent (5 attempts)" in page


def test_a_worker_backend_retries_later(
    practitioner, therapy_session, monkeypatch, settings
):
    """With the database backend the retry is queued with a delay, not run at once."""
    from django_tasks_db.models import DBTaskResult

    from harmonybridge.web.alerts import safety

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    def down(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(safety, "send_mail", down)
    notice = SafetyNotice.objects.create(
        engagement=therapy_session.engagement, session=therapy_session
    )
    send_safety_email.call(notice.pk)
    notice.refresh_from_db()
    assert notice.email_state == EmailState.RETRYING
    queued = DBTaskResult.objects.get()
    assert queued.run_after is not None
    assert queued.run_after > timezone.now()


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


def test_other_practice_cannot_close_the_card(
    client, other_practitioner, therapy_session
):
    notice = SafetyNotice.objects.create(
        engagement=therapy_session.engagement, session=therapy_session
    )
    client.force_login(other_practitioner)
    url = reverse("alerts:safety_action", args=[notice.pk])
    assert client.post(url, {"action": "contacted"}).status_code == 404
    assert client.get(url).status_code == 405
    assert SafetyNotice.objects.open().count() == 1


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
    # into the live region directly under item 9, not a slot above the form
    assert 'hx-swap-oob="innerHTML:#crisis-phq9-9"' in response.text
    assert SafetyNotice.objects.filter(checkin=checkin).exists()


def test_the_item_has_a_live_region_before_it_is_filled(client, therapy_session):
    _checkin, token = factories.make_checkin(therapy_session)
    open_link(client, token)
    page = client.get(f"/c/?s={_phq9_index(therapy_session)}").text
    slot = page.index('id="crisis-phq9-9"')
    assert 'aria-live="assertive"' in page[slot - 80 : slot + 80]
    # the region follows item 9's answers and comes before the next question
    assert page.index('name="phq9-i9"') < slot
    assert "Synthetic Crisis Line" not in page


def test_without_javascript_the_crisis_text_is_under_the_item_and_on_the_next_screen(
    client, therapy_session
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
    data["phq9-i9"] = "1"
    nxt = client.post("/c/", data, follow=True).text
    top = nxt.index("Synthetic Crisis Line")
    assert top < nxt.index("<form")  # the next screen opens with it, in view
    back = client.get(f"/c/?s={step}").text
    slot = back.index('id="crisis-phq9-9"')
    assert slot < back.index("Synthetic Crisis Line") < slot + 400


def test_an_unsent_drafts_safety_answer_is_on_the_answers_page(
    client, practitioner, therapy_session
):
    checkin, token = factories.make_checkin(therapy_session)
    open_link(client, token)
    data = {
        "checkin": str(checkin.pk),
        "s": str(_phq9_index(therapy_session)),
        "phq9-i9": "3",
    }
    client.post("/c/draft", data, headers={"HX-Request": "true"})
    client.force_login(practitioner)
    page = client.get(reverse("insights:answers", args=[therapy_session.pk])).text
    assert "draft, not sent by the client" in page
    row = page[page.index('<th scope="row">9</th>') :]
    assert row[: row.index("</tr>")].endswith("<td>3</td>")
