"""The client's check-in: link → cookie → screens → one stored submit."""

from __future__ import annotations

import pytest

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins import storage
from harmonybridge.web.checkins.models import Answer, CheckIn, Response, Score
from harmonybridge.web.practice.models import RaterRole
from tests.web import factories
from tests.web.checkins.helpers import answers_for, full_post, open_link

pytestmark = pytest.mark.django_db


def test_link_is_exchanged_for_a_cookie_and_a_token_free_url(client, session):
    checkin, token = factories.make_checkin(session)
    response = open_link(client, token)
    assert response.status_code == 302
    assert response["Location"] == "/c/"
    assert token not in response["Location"]
    page = client.get("/c/")
    assert page.status_code == 200
    assert b"Part 1 of" in page.content
    checkin.refresh_from_db()
    assert checkin.opened_at is not None
    assert AuditEvent.objects.filter(action="checkin.open").count() == 1


def test_each_screen_saves_a_draft_and_the_last_submits_once(client, session):
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    instruments = storage.due_instruments(session, RaterRole.CLIENT)
    goals = session.engagement.goals
    for n, inst in enumerate(instruments[:-1], start=1):
        data = {"checkin": str(checkin.pk), "s": str(n), **answers_for(inst, goals)}
        response = client.post("/c/", data)
        assert response.status_code == 302, response.content[:2000]
        checkin.refresh_from_db()
        assert inst.id in checkin.draft
    assert Response.objects.count() == 0  # drafts are not responses
    last = instruments[-1]
    data = {"checkin": str(checkin.pk), **answers_for(last, goals)}
    response = client.post("/c/submit", data)
    assert response.status_code == 302
    assert response["Location"] == "/c/done"
    assert Response.objects.filter(checkin=checkin).count() == len(instruments)
    # The scores come from the core: hb_checkin total is the mean of items 1-3, all 1s.
    total = Score.objects.get(response__instrument_id="hb_checkin", subscale="")
    assert total.value == pytest.approx(1.0)
    again = client.post("/c/submit", data)
    assert again.status_code == 302
    assert Response.objects.filter(checkin=checkin).count() == len(instruments)
    assert client.get("/c/done").status_code == 200


def test_used_link_shows_the_invalid_page(client, session):
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    client.post("/c/submit", full_post(checkin))
    assert CheckIn.objects.get(pk=checkin.pk).submitted_at is not None
    response = open_link(client, token)
    assert response.status_code == 404
    assert b"This link is not valid" in response.content


@pytest.mark.parametrize("token", ["x" * 43, "short", "A" * 200, "%00" * 20])
def test_forged_token_gets_the_same_page(client, session, token):
    factories.make_checkin(session)
    response = client.get(f"/c/t/{token}")
    assert response.status_code == 404
    assert b"This link is not valid" in response.content


def test_out_of_range_answer_is_rejected_and_nothing_saved(client, session):
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    data = full_post(checkin)
    data["hb_checkin-i1"] = "9"  # the scale runs 1-5
    response = client.post("/c/submit", data)
    assert response.status_code == 400
    assert b"not one of the answers" in response.content
    assert Response.objects.count() == Answer.objects.count() == 0
    assert CheckIn.objects.get(pk=checkin.pk).submitted_at is None


def test_unknown_item_is_rejected(client, session):
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    data = full_post(checkin)
    data["hb_checkin-i99"] = "1"
    response = client.post("/c/submit", data)
    assert response.status_code == 400
    assert b"99 is not an item" in response.content
    assert Response.objects.count() == 0


def test_answers_for_another_checkin_are_rejected(client, session):
    checkin, token = factories.make_checkin(session)
    other, _ = factories.make_checkin(factories.make_session(session.engagement))
    open_link(client, token)
    data = full_post(checkin)
    data["checkin"] = str(other.pk)
    response = client.post("/c/submit", data)
    assert response.status_code == 400
    assert Response.objects.count() == 0


def test_back_button_after_sending_leads_to_thank_you(client, session):
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    client.post("/c/submit", full_post(checkin))
    back = client.get("/c/?s=1")
    assert back.status_code == 302
    assert back["Location"] == "/c/done"
    again = client.post("/c/", {**full_post(checkin), "s": "1"})
    assert again["Location"] == "/c/done"
    assert Response.objects.filter(checkin=checkin).count() == len(
        storage.due_instruments(session, RaterRole.CLIENT)
    )


def test_each_answer_is_kept_as_it_is_given(client, session):
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    base = {"checkin": str(checkin.pk), "s": "1"}
    assert client.post("/c/draft", {**base, "hb_checkin-i1": "4"}).status_code == 200
    assert client.post("/c/draft", {**base, "hb_checkin-i2": "2"}).status_code == 200
    checkin.refresh_from_db()
    assert checkin.draft["hb_checkin"]["1"] == 4
    assert checkin.draft["hb_checkin"]["2"] == 2
    # A value off the scale is not kept.
    client.post("/c/draft", {**base, "hb_checkin-i3": "77"})
    checkin.refresh_from_db()
    assert (
        "3" not in checkin.draft["hb_checkin"]
        or checkin.draft["hb_checkin"]["3"] is None
    )
    assert Response.objects.count() == 0
