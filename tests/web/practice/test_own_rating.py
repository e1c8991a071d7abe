"""The practitioner's own rating: tension follow-ups are asked for, and a rating can be
viewed and corrected (audited, the earlier version kept)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins.models import Response, ResponseRevision, Score
from tests.web import factories

pytestmark = pytest.mark.django_db

P = "hb_checkin_practitioner"
RATING = {
    "instrument": P,
    f"{P}-i1": "4",
    f"{P}-i2": "3",
    f"{P}-i3": "5",
    f"{P}-i4": "1",
    f"{P}-i5": "2",
    f"{P}-i6": "4",
}


def _rate(owner_client, session, data):
    return owner_client.post(reverse("practice:session_rate", args=[session.pk]), data)


def test_yes_tension_without_the_follow_ups_is_asked_again_not_saved(
    owner_client, session
):
    data = {k: v for k, v in RATING.items() if not k.endswith(("-i5", "-i6"))}
    response = _rate(owner_client, session, data)
    assert response.status_code == 400
    assert "or choose “Not sure”" in response.text
    assert not Response.objects.exists()


def test_not_sure_is_an_explicit_answer_stored_as_unknown(owner_client, session):
    data = dict(RATING, **{f"{P}-i5": "not_sure", f"{P}-i6": "not_sure"})
    assert _rate(owner_client, session, data).status_code == 302
    stored = Response.objects.get(session=session)
    answers = {a.item: a.value for a in stored.answers.all()}
    assert answers[4] == 1
    assert answers[5] is None
    assert answers[6] is None


def test_follow_ups_are_not_needed_without_tension(owner_client, session):
    data = {k: v for k, v in RATING.items() if not k.endswith(("-i5", "-i6"))}
    data[f"{P}-i4"] = "0"
    assert _rate(owner_client, session, data).status_code == 302
    assert Response.objects.filter(session=session).count() == 1


def test_the_session_page_shows_my_stored_rating_with_answer_labels(
    owner_client, session
):
    _rate(owner_client, session, RATING)
    page = owner_client.get(reverse("practice:session", args=[session.pk])).text
    assert "Your rating for this session is stored." in page
    assert "A little tense" in page  # item 5 answered 2
    assert "Mostly resolved" in page  # item 6 answered 4
    assert "Correct my rating" in page


def test_correcting_my_rating_keeps_the_earlier_version_and_is_audited(
    owner_client, practitioner, session
):
    _rate(owner_client, session, RATING)
    stored = Response.objects.get(session=session)
    corrected = dict(RATING, **{f"{P}-i1": "2", f"{P}-i4": "0"})
    del corrected[f"{P}-i5"], corrected[f"{P}-i6"]
    url = reverse("practice:session_rating_correct", args=[session.pk, stored.pk])
    assert owner_client.post(url, corrected).status_code == 302
    stored.refresh_from_db()
    answers = {a.item: a.value for a in stored.answers.all()}
    assert answers[1] == 2
    assert answers[4] == 0
    assert answers[5] is None
    # Total = mean of items 1-3 = (2 + 3 + 5) / 3 = 3.333...
    total = Score.objects.get(response=stored, subscale="").value
    assert total == pytest.approx(10 / 3)
    (revision,) = ResponseRevision.objects.filter(response=stored)
    assert revision.answers == {
        "1": 4,
        "2": 3,
        "3": 5,
        "4": 1,
        "5": 2,
        "6": 4,
        "7": None,
    }
    assert revision.revised_by == practitioner
    event = AuditEvent.objects.get(action="session.rate_correct")
    assert event.detail.get("instrument") == P
    assert Response.objects.filter(session=session).count() == 1


def test_correcting_needs_the_follow_ups_too(owner_client, session):
    _rate(owner_client, session, RATING)
    stored = Response.objects.get(session=session)
    data = {k: v for k, v in RATING.items() if not k.endswith("-i6")}
    url = reverse("practice:session_rating_correct", args=[session.pk, stored.pk])
    assert owner_client.post(url, data).status_code == 400
    assert not ResponseRevision.objects.exists()


def test_nobody_corrects_another_persons_rating(owner_client, practitioner, session):
    colleague = factories.make_practitioner(practitioner.practice)
    session.engagement.practitioners.add(colleague)
    from harmonybridge.web.checkins import storage
    from harmonybridge.web.practice import catalogue

    inst = catalogue.instrument_for(session.engagement.practice, P)
    storage.store_practitioner_rating(
        session, inst, {1: 4, 2: 4, 3: 4, 4: 0, 5: None, 6: None}, colleague, None
    )
    theirs = Response.objects.get(respondent_user=colleague)
    url = reverse("practice:session_rating_correct", args=[session.pk, theirs.pk])
    assert owner_client.post(url, RATING).status_code == 404
    assert not ResponseRevision.objects.exists()
