"""Less noise: family alerts name their member; improvements never outrank warnings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import StoredAlert
from tests.web import factories
from tests.web.insights.test_caseload import checked_in

pytestmark = pytest.mark.django_db


def _alert(e, rule, severity, respondent="", message="m", session=3):
    return StoredAlert.objects.create(
        engagement=e,
        session_number=session,
        rule_id=rule,
        rule_version="1",
        severity=severity,
        respondent_id=respondent,
        instrument="phq9",
        message=message,
    )


def test_every_family_alert_names_its_member(owner_client, practitioner):
    a = factories.make_client(practitioner, name="Sam Wren")
    b = factories.make_client(practitioner, name="Alex Wren")
    e = checked_in(factories.make_engagement(practitioner, clients=[a, b]))
    msg = "The client's PHQ-9 score has worsened from 12 at intake to 18."
    first = _alert(e, "outcome.reliable_deterioration", "warning", a.code, msg)
    second = _alert(e, "outcome.sudden_loss", "warning", b.code, msg, session=2)
    for url in (
        reverse("insights:dashboard", args=[e.pk]),
        reverse("insights:alerts"),
    ):
        page = owner_client.get(url).text
        for alert, member in ((first, a), (second, b)):
            card = page[page.index(f'id="alert-{alert.pk}"') :]
            card = card[: card.index("</article>")]
            assert f"About {member.label}" in card
            assert f"{member.label}&#x27;s PHQ-9 score has worsened" in card
            assert "The client" not in card


def test_a_one_client_engagement_keeps_the_plain_message(owner_client, practitioner):
    e = checked_in(factories.make_engagement(practitioner))
    msg = "The client's PHQ-9 score has worsened from 12 at intake to 18."
    _alert(e, "outcome.reliable_deterioration", "warning", e.clients.first().code, msg)
    page = owner_client.get(reverse("insights:dashboard", args=[e.pk])).text
    assert "The client&#x27;s PHQ-9 score has worsened" in page
    assert "About " not in page


def test_improvements_never_outrank_warnings(owner_client, practitioner):
    improving = checked_in(factories.make_engagement(practitioner))
    for s in (2, 3, 4):
        _alert(improving, "outcome.reliable_improvement", "info", session=s)
    stuck = checked_in(factories.make_engagement(practitioner))
    _alert(stuck, "outcome.not_on_track", "warning")
    rows = owner_client.get(reverse("insights:caseload")).context["rows"]
    assert [r["pk"] for r in rows] == [stuck.pk, improving.pk]
    assert rows[1]["statuses"][0].kind == "on_track"  # info only: still on track
    listed = owner_client.get(reverse("insights:engagements")).context["engagements"]
    assert [e.pk for e in listed] == [stuck.pk, improving.pk]


def test_the_engagement_page_names_members_and_hides_rule_ids(
    owner_client, practitioner
):
    """The engagement page's alert list follows the dashboard (issue 10 §2, §4): the
    member is named, and the rule id stays behind "Technical details"."""
    a = factories.make_client(practitioner, name="Sam Wren")
    b = factories.make_client(practitioner, name="Alex Wren")
    e = checked_in(factories.make_engagement(practitioner, clients=[a, b]))
    msg = "The client's PHQ-9 score has worsened from 12 at intake to 18."
    _alert(e, "outcome.reliable_deterioration", "warning", b.code, msg)
    page = owner_client.get(reverse("practice:engagement", args=[e.pk])).text
    items = page[page.index('<ul class="alerts">') :]
    items = items[: items.index("</ul>")]
    assert f"About {b.label}" in items
    assert f"{b.label}&#x27;s PHQ-9 score has worsened" in items
    shown = items[: items.index("<details")]  # what is read without opening details
    assert "outcome.reliable_deterioration" not in shown
    assert "outcome.reliable_deterioration" in items[items.index("<details") :]
