"""The client's own progress after a check-in: off by default, alliance only when allowed."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from harmonybridge.web.insights.models import ClientViewOptions
from tests.web import factories
from tests.web.insights import helpers

URL = reverse("insights:my_progress")


def submitted(client, engagement):
    """A submitted check-in whose cookie the Django test client carries."""
    person = engagement.clients.first()
    helpers.alliance_series(engagement, person, [4.0, 4.2, 4.4])
    helpers.outcome_series(engagement, person, "who5", [40, 48, 56])
    session = engagement.sessions.get(number=3)
    checkin, token = factories.make_checkin(session, person)
    client.get(reverse("checkins:start", args=[token]))
    checkin.submitted_at = timezone.now()
    checkin.save()
    return checkin


def test_off_by_default(client, engagement):
    submitted(client, engagement)
    r = client.get(URL)
    assert r.status_code == 404
    assert "not switched on" in r.content.decode()
    done = client.get(reverse("checkins:done")).content.decode()
    assert URL not in done


def test_on_shows_own_outcome_without_alliance(client, engagement):
    engagement.client_sees_scores = True
    engagement.save()
    submitted(client, engagement)
    assert URL in client.get(reverse("checkins:done")).content.decode()
    body = client.get(URL).content.decode()
    assert "WHO-5" in body or "Well-Being" in body
    assert "our work together" not in body


def test_alliance_only_when_the_practitioner_turned_it_on(client, engagement):
    engagement.client_sees_scores = True
    engagement.save()
    ClientViewOptions.objects.create(engagement=engagement, show_alliance=True)
    submitted(client, engagement)
    assert "our work together" in client.get(URL).content.decode()


def test_without_a_checkin_cookie_it_is_404(client, engagement):
    assert client.get(URL).status_code == 404


def test_not_submitted_yet_is_404(client, engagement):
    engagement.client_sees_scores = True
    engagement.save()
    session = factories.make_session(engagement)
    _checkin, token = factories.make_checkin(session)
    client.get(reverse("checkins:start", args=[token]))
    assert client.get(URL).status_code == 404


def test_post_is_405(client):
    assert client.post(URL).status_code == 405
