"""The banner shows the safety cards waiting longest and counts the others; the safety
answers page lists every card with the same action form (ADR 0016)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from harmonybridge.web.accounts.models import Role
from harmonybridge.web.alerts import safety
from harmonybridge.web.alerts.models import SafetyNotice
from harmonybridge.web.audit.models import AuditEvent
from tests.web import factories

pytestmark = pytest.mark.django_db

LIST = "alerts:safety_cards"


def _cards(html: str) -> list[str]:
    """The notice ids of the safety cards a page shows, in page order."""
    return re.findall(r'<section class="safety-card" id="safety-card-(\d+)"', html)


def _open_cards(practitioner, n: int) -> list[SafetyNotice]:
    """n clients with one open safety notice each, the first one waiting longest."""
    start = timezone.now() - dt.timedelta(days=n)
    # newest created first, so that the order cannot come from the ids
    made = [
        factories.make_safety_notice(
            practitioner, created_at=start + dt.timedelta(hours=n - i)
        )
        for i in range(n)
    ]
    return sorted(made, key=lambda x: x.created_at)


def test_the_banner_shows_three_cards_and_counts_the_others(owner_client, practitioner):
    waiting = _open_cards(practitioner, 5)
    page = owner_client.get(reverse("insights:guide")).text
    # the three waiting longest, oldest first
    assert _cards(page) == [str(n.pk) for n in waiting[:3]]
    more = re.search(r'<p class="safety-more"><a href="([^"]+)">([^<]+)</a>', page)
    assert more is not None
    assert more.group(1) == reverse(LIST)
    assert more.group(2) == "2 more safety answers wait for an action"


def test_no_more_line_with_three_cards_or_fewer(owner_client, practitioner):
    _open_cards(practitioner, 3)
    page = owner_client.get(reverse("insights:guide")).text
    assert len(_cards(page)) == 3
    assert "safety-more" not in page


def test_the_list_page_shows_every_card_and_is_audited(owner_client, practitioner):
    waiting = _open_cards(practitioner, 5)
    page = owner_client.get(reverse(LIST)).text
    assert _cards(page) == [str(n.pk) for n in waiting]  # no banner above them
    assert page.count('class="safety-action"') == 5
    assert "PHQ-9 item 9" in page
    assert "Several days (1)" in page
    event = AuditEvent.objects.get(action="safety_cards.view")
    assert event.actor == practitioner
    assert event.detail["rows"] == 5
    assert set(event.client_code_list) == {n.client.code for n in waiting}


def test_acting_on_a_card_from_the_list_closes_it_and_the_count_drops(
    owner_client, practitioner
):
    waiting = _open_cards(practitioner, 5)
    last = waiting[-1]  # not in the banner: only the list page shows its form
    url = reverse(LIST)
    response = owner_client.post(
        reverse("alerts:safety_action", args=[last.pk]),
        {"action": "contacted", "note": "", "next": url},
    )
    assert response.status_code == 302
    assert response["Location"] == url
    last.refresh_from_db()
    assert last.closed_by == practitioner
    assert AuditEvent.objects.filter(action="safety.action").count() == 1
    page = owner_client.get(url).text
    assert _cards(page) == [str(n.pk) for n in waiting[:4]]
    banner = owner_client.get(reverse("insights:guide")).text
    assert "1 more safety answer waits for an action" in banner


def test_the_count_is_exact_against_the_stored_notices(practitioner):
    waiting = _open_cards(practitioner, 4)
    # a second answer of one client: still one card
    again = waiting[0]
    SafetyNotice.objects.create(
        engagement=again.engagement,
        session=factories.make_session(again.engagement),
        client=again.client,
    )
    # two notices without a client in one engagement, one in another: two cards
    e1 = factories.make_engagement(practitioner)
    e2 = factories.make_engagement(practitioner)
    for e in (e1, e1, e2):
        SafetyNotice.objects.create(engagement=e, session=factories.make_session(e))
    # closed, and another practice's: no card
    waiting[1].closed_at = timezone.now()
    waiting[1].save()
    stranger = factories.make_practitioner()
    other = factories.make_engagement(stranger)
    SafetyNotice.objects.create(engagement=other, session=factories.make_session(other))

    mine = SafetyNotice.objects.open().filter(engagement__practitioners=practitioner)
    stored = {n.client_id or f"e{n.engagement_id}" for n in mine}
    assert len(stored) == 5
    banner = safety.banner_for(practitioner)
    assert banner.total == len(stored) == len(safety.cards_for(practitioner))
    assert (len(banner.cards), banner.more) == (3, 2)
    assert safety.count_cards(stranger) == 1


def test_the_banner_costs_the_same_queries_however_many_cards(
    owner_client, practitioner
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = owner_client.get(reverse("insights:guide"))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    _open_cards(practitioner, 4)
    few = queries()
    _open_cards(practitioner, 12)
    page = owner_client.get(reverse("insights:guide")).text
    assert "13 more safety answers wait for an action" in page
    assert queries() == few


def test_the_list_page_follows_the_access_policy(client, practitioner):
    _open_cards(practitioner, 2)
    url = reverse(LIST)
    assert client.get(url).status_code == 302  # sign in first
    stranger = factories.make_practitioner()
    client.force_login(stranger)
    page = client.get(url).text
    assert _cards(page) == []
    assert "No safety answer waits for an action." in page
    researcher = factories.make_practitioner(
        practitioner.practice, role=Role.RESEARCHER
    )
    client.force_login(researcher)
    assert client.get(url).status_code == 404


def test_the_navigation_links_the_list_page(owner_client):
    page = owner_client.get(reverse("insights:caseload")).text
    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    assert f'href="{reverse(LIST)}"' in nav


def test_a_supervisor_sees_the_supervisees_cards_but_does_not_close_them(
    client, practitioner
):
    waiting = _open_cards(practitioner, 4)
    supervisor = factories.make_practitioner(
        practitioner.practice, role=Role.SUPERVISOR
    )
    supervisor.supervisees.add(practitioner)
    client.force_login(supervisor)
    assert _cards(client.get(reverse(LIST)).text) == [str(n.pk) for n in waiting]
    assert safety.banner_for(supervisor).more == 1
    action = reverse("alerts:safety_action", args=[waiting[0].pk])
    assert client.post(action, {"action": "contacted"}).status_code == 404
    assert SafetyNotice.objects.open().count() == 4
