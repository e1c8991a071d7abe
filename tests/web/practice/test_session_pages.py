"""Session pages: start a session, rate it from the practitioner's side, issue check-in links."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins.models import CheckIn, Response, Score
from harmonybridge.web.practice.models import TherapySession
from tests.web import factories

pytestmark = pytest.mark.django_db

RATING = {
    "instrument": "hb_checkin_practitioner",
    "hb_checkin_practitioner-i1": "4",
    "hb_checkin_practitioner-i2": "3",
    "hb_checkin_practitioner-i3": "5",
    "hb_checkin_practitioner-i4": "1",
    "hb_checkin_practitioner-i5": "2",
    "hb_checkin_practitioner-i6": "4",
}


def test_start_session_numbers_it_and_stores_utc(owner_client, engagement):
    response = owner_client.post(
        reverse("practice:session_create", args=[engagement.pk]),
        {
            "starts_at": "2026-03-02T10:00",
            "modality": "video",
            "attendance": "attended",
        },
    )
    assert response.status_code == 302
    session = TherapySession.objects.get(engagement=engagement)
    assert session.number == 1
    # The practice is in Europe/Berlin (UTC+1 in March): 10:00 local is 09:00 UTC.
    assert session.starts_at.hour == 9
    assert AuditEvent.objects.filter(action="session.create").exists()


def test_session_create_rejects_bad_modality(owner_client, engagement):
    response = owner_client.post(
        reverse("practice:session_create", args=[engagement.pk]),
        {
            "starts_at": "2026-03-02T10:00",
            "modality": "telepathy",
            "attendance": "attended",
        },
    )
    assert response.status_code == 200
    assert "valid choice" in response.text
    assert not TherapySession.objects.exists()


def test_practitioner_rating_is_stored_once_and_scored(
    owner_client, practitioner, session
):
    url = reverse("practice:session_rate", args=[session.pk])
    assert owner_client.post(url, RATING).status_code == 302
    assert owner_client.post(url, RATING).status_code == 302
    response = Response.objects.get(session=session)
    assert response.respondent_user == practitioner
    assert response.rater_role == "practitioner"
    # Total = mean of items 1-3 = (4 + 3 + 5) / 3 = 4.0; rupture items are derived scores.
    assert Score.objects.get(response=response, subscale="").value == pytest.approx(4.0)
    assert Score.objects.get(response=response, subscale="rupture_intensity").value == 2
    assert AuditEvent.objects.filter(action="session.rate").count() == 1
    page = owner_client.get(reverse("practice:session", args=[session.pk]))
    assert "Your rating for this session is stored." in page.text


def test_rating_with_missing_answer_is_refused(owner_client, session):
    data = dict(RATING)
    del data["hb_checkin_practitioner-i2"]
    response = owner_client.post(
        reverse("practice:session_rate", args=[session.pk]), data
    )
    assert response.status_code == 400
    assert "Please choose an answer" in response.text
    assert not Response.objects.exists()


def test_rupture_detail_is_dropped_when_no_rupture(owner_client, session):
    data = dict(RATING, **{"hb_checkin_practitioner-i4": "0"})
    owner_client.post(reverse("practice:session_rate", args=[session.pk]), data)
    response = Response.objects.get()
    assert response.answers.get(item=5).value is None


def test_checkin_links_show_link_and_qr_and_store_only_a_hash(owner_client, session):
    response = owner_client.post(reverse("practice:checkin_links", args=[session.pk]))
    assert response.status_code == 200
    assert "no-store" in response.get(
        "Cache-Control", ""
    ) or "no-cache" in response.get("Cache-Control", "")
    token = re.search(r"/c/t/([A-Za-z0-9_-]+)", response.text).group(1)
    assert 'src="data:image/svg+xml' in response.text
    checkin = CheckIn.objects.get(session=session)
    assert token not in checkin.token_hash
    assert len(checkin.token_hash) == 64
    assert AuditEvent.objects.filter(action="checkin.issue").exists()


def test_checkin_links_by_email(owner_client, practitioner):
    client = factories.make_client(practitioner, email="c@example.org")
    session = factories.make_session(factories.make_engagement(practitioner, [client]))
    owner_client.post(
        reverse("practice:checkin_links", args=[session.pk]), {"send_email": "1"}
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["c@example.org"]
    assert "/c/t/" in mail.outbox[0].body
    assert CheckIn.objects.get(session=session).channel == "email"


def test_family_gets_one_link_per_member(owner_client, practitioner):
    family = [factories.make_client(practitioner) for _ in range(3)]
    session = factories.make_session(factories.make_engagement(practitioner, family))
    response = owner_client.post(reverse("practice:checkin_links", args=[session.pk]))
    assert len(set(re.findall(r"/c/t/([A-Za-z0-9_-]+)", response.text))) == 3
    assert CheckIn.objects.filter(session=session).count() == 3


def test_session_htmx_fragment(owner_client, session):
    response = owner_client.get(
        reverse("practice:session", args=[session.pk]), headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<div id="session-scores"')


def test_times_are_shown_in_the_practice_time_zone(owner_client, engagement):
    import datetime as dt

    session = factories.make_session(
        engagement, starts_at=dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)
    )
    page = owner_client.get(reverse("practice:session", args=[session.pk]))
    # Europe/Berlin is UTC+2 in July: 08:30 UTC is 10:30 at the practice.
    assert "10:30" in page.text
    assert "08:30" not in page.text


def test_rating_form_shows_the_optional_prediction_item(owner_client, session):
    page = owner_client.get(reverse("practice:session", args=[session.pk]))
    assert "How do you think your client rated today&#x27;s session?" in page.text
    assert 'name="hb_checkin_practitioner-i7"' in page.text


def test_prediction_is_stored_unscored_and_optional(owner_client, session):
    url = reverse("practice:session_rate", args=[session.pk])
    # Without item 7 the rating is accepted (the item is optional).
    assert owner_client.post(url, RATING).status_code == 302
    first = Response.objects.get(session=session)
    assert not first.answers.filter(item=7).exclude(value=None).exists()
    assert (
        Score.objects.get(response=first, subscale="predicted_client_rating").value
        is None
    )
    Response.objects.all().delete()
    # With item 7 = 2: stored as an answer and as its derived score, and the total
    # stays the mean of items 1-3 = (4 + 3 + 5) / 3 = 4.0 (the prediction is unscored).
    assert (
        owner_client.post(
            url, dict(RATING, **{"hb_checkin_practitioner-i7": "2"})
        ).status_code
        == 302
    )
    response = Response.objects.get(session=session)
    assert response.answers.get(item=7).value == 2
    assert Score.objects.get(
        response=response, subscale="predicted_client_rating"
    ).value == pytest.approx(2.0)
    assert Score.objects.get(response=response, subscale="").value == pytest.approx(4.0)
