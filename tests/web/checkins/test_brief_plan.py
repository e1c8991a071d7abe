"""The opt-in brief plan: PHQ-4 every session, the full PHQ-9 and GAD-7 every fourth
session and whenever the short form is positive (Kroenke et al. 2009: PHQ-2 and GAD-2
each positive at 3 or more)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.alerts.rules import evaluate_engagements
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins import storage
from harmonybridge.web.checkins.models import Response
from harmonybridge.web.practice import catalogue
from harmonybridge.web.practice.models import RaterRole, ServiceKind
from tests.web import factories
from tests.web.checkins.helpers import answers_for, open_link
from tests.web.insights import helpers

pytestmark = pytest.mark.django_db


@pytest.fixture
def therapy(practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    engagement.plan.brief = True
    engagement.plan.save()
    return engagement


def _ids(session) -> list[str]:
    return [i.id for i in storage.due_instruments(session, RaterRole.CLIENT)]


def test_the_schedule_short_form_between_full_forms_every_fourth_session(therapy):
    sessions = [factories.make_session(therapy) for _ in range(6)]
    assert [_ids(s) for s in sessions] == [
        ["hb_checkin", "phq9", "gad7"],  # session 1: full forms
        ["hb_checkin", "phq4"],
        ["hb_checkin", "phq4"],
        ["hb_checkin", "phq4"],
        ["hb_checkin", "phq9", "gad7"],  # session 5
        ["hb_checkin", "phq4"],
    ]
    therapy.plan.brief = False
    therapy.plan.save()
    assert _ids(sessions[1]) == ["hb_checkin", "phq9", "gad7"]  # the full default


def _check_in(client, session, phq4: dict[str, str]):
    _checkin, token = factories.make_checkin(session)
    open_link(client, token)
    first = storage.due_instruments(session, RaterRole.CLIENT)[0]
    data = {"checkin": str(_checkin.pk), "s": "1", **answers_for(first, [])}
    client.post(reverse("checkins:step"), data)
    return _checkin


def test_a_positive_phq2_adds_the_full_phq9_with_its_first_items_given(client, therapy):
    factories.make_session(therapy)
    session = factories.make_session(therapy)  # session 2: brief
    checkin = _check_in(client, session, {})
    # PHQ-2 = 2 + 2 = 4 (positive), GAD-2 = 1 + 0 = 1 (negative).
    short = {"phq4-i1": "2", "phq4-i2": "2", "phq4-i3": "1", "phq4-i4": "0"}
    r = client.post(
        reverse("checkins:submit"), {"checkin": str(checkin.pk), "s": "2", **short}
    )
    assert r.status_code == 302
    assert r["Location"].endswith("?s=3")
    page = client.get(r["Location"]).text
    assert "Part 3 of 3" in page
    # PHQ-9 items 1-2 come answered from the short form (value 2 checked).
    assert re.search(r'name="phq9-i1" value="2"[^>]*checked', page)
    rest = {f"phq9-i{n}": "1" for n in range(3, 10)}
    rest |= {"phq9-i1": "2", "phq9-i2": "2"}
    done = client.post(
        reverse("checkins:submit"), {"checkin": str(checkin.pk), "s": "3", **rest}
    )
    assert done["Location"].endswith("/c/done")
    stored = set(
        Response.objects.filter(session=session).values_list("instrument_id", flat=True)
    )
    assert stored == {"hb_checkin", "phq4", "phq9"}


def test_a_negative_short_form_asks_nothing_more(client, therapy):
    factories.make_session(therapy)
    session = factories.make_session(therapy)
    checkin = _check_in(client, session, {})
    short = {"phq4-i1": "1", "phq4-i2": "1", "phq4-i3": "1", "phq4-i4": "1"}
    r = client.post(
        reverse("checkins:submit"), {"checkin": str(checkin.pk), "s": "2", **short}
    )
    assert r["Location"].endswith("/c/done")
    stored = set(
        Response.objects.filter(session=session).values_list("instrument_id", flat=True)
    )
    assert stored == {"hb_checkin", "phq4"}


def test_the_plan_page_switches_the_brief_plan_and_counts_its_questions(
    owner_client, practitioner
):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    url = reverse("practice:plan_brief", args=[engagement.pk])
    assert owner_client.post(url, {"brief": "1"}).status_code == 302
    engagement.plan.refresh_from_db()
    assert engagement.plan.brief
    assert AuditEvent.objects.filter(action="plan.brief", detail__brief="on").exists()
    html = owner_client.get(reverse("practice:engagement", args=[engagement.pk])).text
    assert "Brief plan is on." in html
    assert "sessions 1, 5, 9" in html
    rows = re.findall(
        r"<tr><th scope=\"row\">(\d+)</th><td>(\d+)</td><td>(\d+)</td></tr>", html
    )
    # Client: check-in items 1-4 every session; PHQ-9 10 items + GAD-7 8 items at
    # sessions 1 and 5, the PHQ-4's 4 items at sessions 2-4. 4 + 10 + 8 = 22; 4 + 4 = 8.
    assert [(n, c) for n, c, _p in rows[:5]] == [
        ("1", "22"),
        ("2", "8"),
        ("3", "8"),
        ("4", "8"),
        ("5", "22"),
    ]


def test_alerts_use_only_the_full_scores_and_say_which_sessions(practitioner, therapy):
    """Full PHQ-9 at sessions 1, 5 and 9 only, PHQ-4 between: the PHQ-9 rules read the
    full scores alone (the short form is its own instrument, never a PHQ-9 change), and
    a loss at session 9 says it is measured from session 5."""
    person = therapy.clients.first()
    full = {1: 20.0, 5: 8.0, 9: 20.0}
    for n in range(1, 10):
        if n in full:
            helpers.add_response(therapy, n, person, "phq9", {"": full[n]})
        else:
            helpers.add_response(
                therapy, n, person, "phq4", {"": 3.0, "phq2": 2.0, "gad2": 1.0}
            )
    evaluate_engagements([therapy.pk], at="all")
    phq9 = StoredAlert.objects.filter(engagement=therapy, instrument="phq9")
    quoted = {a.session_number for a in phq9}
    assert quoted <= set(full)  # no PHQ-9 alert at a short-form session
    loss = phq9.get(rule_id="outcome.sudden_loss")
    assert loss.session_number == 9
    assert loss.evidence["previous_session"] == 5
    assert "since session 5, the last with a PHQ-9 score, from 8 to 20" in loss.message


def test_second_stage_needs_three_or_more_on_a_half():
    ids = ["hb_checkin", "phq4"]
    assert catalogue.second_stage(ids, {"phq2": 3.0, "gad2": 2.0}) == ["phq9"]
    assert catalogue.second_stage(ids, {"phq2": None, "gad2": 6.0}) == ["gad7"]
    assert catalogue.second_stage(ids, {"phq2": 2.0, "gad2": 2.0}) == []
