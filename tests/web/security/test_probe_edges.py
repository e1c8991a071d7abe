"""The server errors the outside probe found (issue 9, fault 8) answer with a message.

Each reproduces one probe request: a check-in without client questionnaires submitted
with a wrong ``checkin`` value (IndexError), sessions dated 9999-12-31 / 0001-01-01 in
a practice far from UTC (OverflowError on every page listing them), the audit filter
``date_to=9999-12-31`` (OverflowError), and deeply nested JSON in the licensed-wording
form (RecursionError).
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from harmonybridge.web.practice.models import TherapySession
from tests.web.security.support import make_client_world, make_staff

pytestmark = pytest.mark.django_db

EXTREME_ZONES = ["Pacific/Kiritimati", "Etc/GMT+12"]  # UTC+14 and UTC-12


def _admin_http(world):
    http = HttpClient(raise_request_exception=False)
    http.force_login(make_staff(world["practice"], "admin"))
    return http


def test_submit_of_a_checkin_without_client_questionnaires_and_a_wrong_id():
    from harmonybridge.web.checkins import tokens

    world = make_client_world()
    world["plan_entry"].delete()  # the plan has no client questionnaire left
    _checkin, token = tokens.issue(world["session"], world["client"])
    browser = HttpClient(raise_request_exception=False)
    assert browser.get(f"/c/t/{token}").status_code == 302
    response = browser.post("/c/submit", {"checkin": "999999"})
    assert response.status_code == 200
    assert b"<html" in response.content.lower()


@pytest.mark.parametrize("zone", EXTREME_ZONES)
@pytest.mark.parametrize("when", ["9999-12-31T23:59", "0001-01-01T00:00"])
def test_session_dates_out_of_range_are_refused_with_a_message(zone, when):
    world = make_client_world()
    world["practice"].time_zone = zone
    world["practice"].save()
    http = _admin_http(world)
    before = TherapySession.objects.count()
    response = http.post(
        f"/practice/engagements/{world['engagement'].pk}/sessions/new",
        {"starts_at": when, "modality": "in_person", "attendance": "attended"},
    )
    assert response.status_code < 500
    assert b"Give a date between 1900-01-01 and 2100-12-31" in response.content
    assert TherapySession.objects.count() == before


@pytest.mark.parametrize("zone", EXTREME_ZONES)
def test_pages_listing_sessions_at_the_edges_of_the_range_render(zone):
    import datetime as dt

    world = make_client_world()
    world["practice"].time_zone = zone
    world["practice"].save()
    session = world["session"]
    for moment in (
        dt.datetime(2100, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(1900, 1, 1, 0, 0, tzinfo=dt.UTC),
    ):
        session.starts_at = moment
        session.save()
        http = _admin_http(world)
        for url in (
            "/insights/",
            f"/practice/engagements/{world['engagement'].pk}/",
            f"/practice/sessions/{session.pk}/",
        ):
            assert http.get(url).status_code == 200, (url, moment)


@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_engagement_dates_out_of_range_are_refused(field):
    from harmonybridge.web.practice.forms import EngagementForm

    world = make_client_world()
    form = EngagementForm(
        {
            "service_line": world["engagement"].service_line_id,
            "start_date": "2026-01-01",
            "status": "active",
            "clients": [world["client"].pk],
            field: "9999-12-31",
        },
        user=world["practitioner"],
        clients=type(world["client"]).objects.all(),
    )
    assert not form.is_valid()
    assert "between 1900-01-01 and 2100-12-31" in str(form.errors[field])


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_audit_filter_at_the_end_of_the_calendar(day):
    world = make_client_world()
    response = _admin_http(world).get("/audit/", {"date_to": day, "date_from": day})
    assert response.status_code == 200
    assert b"Give a date between" in response.content


@pytest.mark.parametrize("depth", [21, 5_000, 200_000])
def test_deeply_nested_wording_json_is_refused_with_a_message(depth):
    world = make_client_world()
    response = _admin_http(world).post(
        "/practice/admin/wording",
        {
            "instrument_id": "wai_sr",
            "version": "1",
            "wording": "[" * depth + "]" * depth,
        },
    )
    assert response.status_code == 400
    assert b"nested more than 20 levels deep" in response.content


def test_oversized_wording_json_is_refused_with_a_message():
    world = make_client_world()
    big = '{"items": "' + "x" * 600_000 + '"}'
    response = _admin_http(world).post(
        "/practice/admin/wording",
        {"instrument_id": "wai_sr", "version": "1", "wording": big},
    )
    assert response.status_code == 400
    assert b"larger than 500 kB" in response.content


@pytest.mark.parametrize("field", ["clients", "co_practitioners", "service_line"])
def test_an_id_beyond_64_bits_is_an_invalid_choice(field):
    """Found by the form fuzzing: Django sent 2**63 to SQLite (OverflowError)."""
    from harmonybridge.web.practice.forms import EngagementForm

    world = make_client_world()
    data = {
        "service_line": world["engagement"].service_line_id,
        "start_date": "2026-01-01",
        "status": "active",
        "clients": [world["client"].pk],
        field: str(2**63),
    }
    form = EngagementForm(
        data, user=world["practitioner"], clients=type(world["client"]).objects.all()
    )
    assert not form.is_valid()
    assert field in form.errors
