"""The client dashboard: charts, session table, answers on demand, goals, client view."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.insights.models import ClientViewOptions
from harmonybridge.web.practice.language import CLINICAL_WORDS
from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories
from tests.web.insights import helpers

ALLIANCE = [4.2, 4.3, 4.1, 4.4, 2.6, 4.3, 4.4, 4.5]
PRACT = [3.9, 4.0, 4.1, 4.0, 3.2, 4.0, 4.1, 4.2]


def fill(engagement, practitioner, n=8):
    client = engagement.clients.first()
    helpers.alliance_series(engagement, client, (ALLIANCE * 40)[:n], tension_at=[5])
    helpers.alliance_series(
        engagement, practitioner, (PRACT * 40)[:n], instrument="hb_checkin_practitioner"
    )
    helpers.outcome_series(engagement, client, "who5", [40 + 2 * i for i in range(n)])
    helpers.outcome_series(engagement, client, "phq9", [14 - i % 10 for i in range(n)])
    for s in range(1, n + 1):
        helpers.add_response(
            engagement,
            s,
            client,
            "goal_progress",
            {"": 4.0, "goal_1": 3.0 + s % 7, "goal_2": 5.0},
            answers={1: 3.0 + s % 7, 2: 5.0},
        )
    return client


@pytest.fixture
def filled(engagement, practitioner):
    fill(engagement, practitioner)
    return engagement


def dash(engagement, **params):
    url = reverse("insights:dashboard", args=[engagement.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def test_owner_sees_charts_table_and_episodes(owner_client, filled):
    r = owner_client.get(dash(filled))
    assert r.status_code == 200
    body = r.content.decode()
    assert body.count("<svg") >= 3  # alliance, WHO-5, goal progress
    assert 'data-kind="rupture"' in body or "rupture" in body
    assert "Sessions and scores" in body
    assert "Ruptures and repairs" in body
    # the client reported tension at session 5 and the alliance dipped: one episode
    assert "client&#x27;s own report" in body or "client's own report" in body


def test_other_practitioner_gets_404(other_client, filled):
    assert other_client.get(dash(filled)).status_code == 404


def test_anonymous_is_redirected(client, filled):
    r = client.get(dash(filled))
    assert r.status_code == 302
    assert "login" in r["Location"]


def test_post_is_405(owner_client, filled):
    assert owner_client.post(dash(filled)).status_code == 405


def test_view_is_audited(owner_client, filled):
    owner_client.get(dash(filled))
    assert AuditEvent.objects.filter(
        action="dashboard.view", target_id=str(filled.pk)
    ).exists()


def test_htmx_gets_the_alliance_chart_with_subscales(owner_client, filled):
    r = owner_client.get(dash(filled, subscales=1), HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "<html" not in body
    assert body.strip().startswith('<div class="card chart-card" id="alliance-chart">')
    assert 'data-subscale="bond"' in body


def test_without_subscales_only_totals_are_drawn(owner_client, filled):
    body = owner_client.get(dash(filled), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-subscale="bond"' not in body


def test_no_inline_script_or_style(owner_client, filled):
    body = owner_client.get(dash(filled)).content.decode()
    assert " style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert not re.search(r"<[^>]+\son[a-z]+=", body)  # no inline event handlers


def test_coaching_page_hides_clinical_instruments_and_words(owner_client, filled):
    assert filled.is_coaching  # the factory's default service line
    body = owner_client.get(dash(filled)).content.decode()
    assert "PHQ-9" not in body  # scored, but not in the coaching plan
    visible = re.sub(r"<[^>]+>", " ", body).lower()
    for word in CLINICAL_WORDS:
        assert word not in visible, word
    assert "coach" in visible


def test_coaching_shows_a_clinical_instrument_the_plan_chose(owner_client, filled):
    from harmonybridge.web.practice.models import PlanEntry

    PlanEntry.objects.create(
        plan=filled.plan, instrument_id="phq9", rater_role="client"
    )
    body = owner_client.get(dash(filled)).content.decode()
    assert "PHQ-9" in body


def test_therapy_page_shows_cutoff_and_bands(owner_client, practitioner):
    e = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    fill(e, practitioner)
    body = owner_client.get(dash(e)).content.decode()
    assert 'class="cutoff"' in body or "cutoff" in body
    assert "PHQ-9" in body
    assert "Practitioner" in body


def test_engagement_without_data_says_so(owner_client, engagement):
    r = owner_client.get(dash(engagement))
    assert r.status_code == 200
    assert "No check-ins yet" in r.content.decode()


def test_query_count_does_not_grow_with_sessions(client, practitioner):
    from django.core.cache import cache

    client.force_login(practitioner)
    small = factories.make_engagement(practitioner)
    big = factories.make_engagement(practitioner)
    fill(small, practitioner, n=3)
    fill(big, practitioner, n=24)
    cold, warm = [], []
    for e in (small, big):
        client.get(dash(e))  # warm the session, content types and the panel cache
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(dash(e)).status_code == 200
        warm.append(len(ctx.captured_queries))
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(dash(e)).status_code == 200
        cold.append(len(ctx.captured_queries))
    assert warm[0] == warm[1], warm
    assert cold[0] == cold[1], cold


def test_a_new_score_shows_at_once_despite_the_cache(owner_client, filled):
    assert ">9</th>" not in owner_client.get(dash(filled)).content.decode()
    helpers.outcome_series(filled, filled.clients.first(), "who5", [])  # no-op
    helpers.add_response(filled, 9, filled.clients.first(), "who5", {"": 77.0})
    body = owner_client.get(dash(filled)).content.decode()
    assert '<th scope="row">9</th>' in body
    assert "<td>77</td>" in body


# --- answers on demand -------------------------------------------------------------


def test_answers_fragment_and_fallback_page(owner_client, filled):
    s = filled.sessions.get(number=2)
    url = reverse("insights:answers", args=[s.pk])
    frag = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in frag
    assert "answer-block" in frag
    page = owner_client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert AuditEvent.objects.filter(action="answers.view").exists()


def test_answers_of_other_practice_are_404(other_client, filled):
    s = filled.sessions.first()
    assert other_client.get(reverse("insights:answers", args=[s.pk])).status_code == 404


def test_dashboard_links_answers_with_htmx_and_a_real_href(owner_client, filled):
    body = owner_client.get(dash(filled)).content.decode()
    s = filled.sessions.get(number=1)
    url = reverse("insights:answers", args=[s.pk])
    assert f'href="{url}" hx-get="{url}"' in body


# --- goals and client view ------------------------------------------------------------


def test_goals_are_saved_and_audited(owner_client, filled):
    url = reverse("insights:goals", args=[filled.pk])
    r = owner_client.post(
        url,
        {
            "goal_1": "Walk daily",
            "goal_2": "",
            "goal_3": "",
            "way_of_working": "Short tasks",
        },
    )
    assert r.status_code == 302
    filled.refresh_from_db()
    assert filled.goal_1 == "Walk daily"
    assert filled.way_of_working == "Short tasks"
    assert AuditEvent.objects.filter(action="engagement.goals_update").exists()


def test_goals_htmx_returns_the_goals_card(owner_client, filled):
    url = reverse("insights:goals", args=[filled.pk])
    r = owner_client.post(
        url, {"goal_1": "Walk daily", "way_of_working": ""}, HTTP_HX_REQUEST="true"
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="goals"' in body
    assert "<html" not in body


def test_goals_get_is_405_and_other_is_404(owner_client, other_client, filled):
    url = reverse("insights:goals", args=[filled.pk])
    assert owner_client.get(url).status_code == 405
    assert other_client.post(url, {"goal_1": "x"}).status_code == 404


def test_client_view_is_off_by_default_and_alliance_needs_its_own_tick(
    owner_client, filled
):
    assert not filled.client_sees_scores
    url = reverse("insights:client_view", args=[filled.pk])
    owner_client.post(url, {"enabled": "on", "goals": "on"})
    filled.refresh_from_db()
    assert filled.client_sees_scores
    assert filled.client_sees_goals
    assert not ClientViewOptions.objects.get(engagement=filled).show_alliance
    owner_client.post(url, {"enabled": "on", "alliance": "on"})
    assert ClientViewOptions.objects.get(engagement=filled).show_alliance
    assert (
        AuditEvent.objects.filter(action="engagement.client_view_update").count() == 2
    )


def test_latest_alerts_first_and_earlier_ones_folded(owner_client, filled):
    from harmonybridge.web.alerts.models import StoredAlert

    def alert(n, rule, severity="warning"):
        return StoredAlert.objects.create(
            engagement=filled,
            session_number=n,
            rule_id=rule,
            rule_version="1",
            severity=severity,
            message=f"{rule} at {n}",
        )

    old, new = alert(3, "alliance.gap"), alert(5, "rupture.client")
    urgent = alert(2, "safety.item", "urgent")
    r = owner_client.get(dash(filled))
    assert [a.pk for a in r.context["current_alerts"]] == [new.pk, urgent.pk]
    assert [a.pk for a in r.context["earlier_alerts"]] == [old.pk]
    body = r.content.decode()
    assert body.index(f'id="alert-{old.pk}"') > body.index('class="earlier-alerts"')


def test_one_session_renders_every_chart(owner_client, engagement, practitioner):
    fill(engagement, practitioner, n=1)
    r = owner_client.get(dash(engagement))
    assert r.status_code == 200
    assert r.content.decode().count("<svg") >= 3
    assert r.context["panel"]["changes"] == []  # one score: no change to judge


def test_missed_session_and_modality_change_are_marked(owner_client, filled):
    filled.sessions.filter(number=3).update(attendance="no_show")
    filled.sessions.filter(number__gte=6).update(modality="video")
    body = owner_client.get(dash(filled)).content.decode()
    assert 'data-kind="missed_session" data-session="3"' in body
    assert 'data-kind="modality_change" data-session="6"' in body


def test_a_sudden_gain_is_marked(owner_client, practitioner):
    # PHQ-9 16,16,15,15,7,7,6,6 (Tang & DeRubeis 1999, by hand): the 15 -> 7 drop from
    # session 4 to 5 is 8 points (criterion 1: >= the reliable-change value 6) and 53 %
    # of the pre-gain score (criterion 2: >= 25 %); criterion 3: means before (16, 15,
    # 15 -> 15.33, variance 0.333) and after (7, 7, 6 -> 6.67, variance 0.333) differ by
    # 8.67 > 2.776 x pooled SD 0.577 = 1.60. A gain, marked at post-gain session 5.
    e = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    helpers.outcome_series(e, e.clients.first(), "phq9", [16, 16, 15, 15, 7, 7, 6, 6])
    body = owner_client.get(dash(e)).content.decode()
    assert 'data-kind="sudden_gain" data-session="5"' in body


def test_names_and_goals_are_escaped_in_the_python_built_tables(owner_client, filled):
    c = filled.clients.first()
    c.name = "<script>alert(1)</script>"
    c.save()
    filled.goal_1 = "<img src=x>"
    filled.save()
    body = owner_client.get(dash(filled)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x>" not in body


def test_a_renamed_client_shows_at_once_despite_the_cache(owner_client, filled):
    owner_client.get(dash(filled))
    c = filled.clients.first()
    c.name = "Renamed Person"
    c.save()
    body = owner_client.get(dash(filled)).content.decode()
    # the cached part (session table column, chart legends) too, not only the heading
    assert f'<span class="muted">Renamed Person ({c.code})</span>' in body


def test_supervisor_sees_the_dashboard_but_no_edit_forms(client, filled, practitioner):
    from harmonybridge.web.alerts.models import StoredAlert

    StoredAlert.objects.create(
        engagement=filled,
        session_number=8,
        rule_id="alliance.gap",
        rule_version="1",
        severity="info",
        message="gap",
    )
    supervisor = factories.make_practitioner(
        practice=practitioner.practice, role="supervisor"
    )
    supervisor.supervisees.add(practitioner)
    client.force_login(supervisor)
    r = client.get(dash(filled))
    assert r.status_code == 200
    body = r.content.decode()
    assert reverse("insights:goals", args=[filled.pk]) not in body
    assert reverse("insights:client_view", args=[filled.pk]) not in body
    assert "Acknowledge" not in body
    assert client.post(reverse("insights:goals", args=[filled.pk])).status_code == 404


def test_owner_sees_the_edit_forms(owner_client, filled):
    body = owner_client.get(dash(filled)).content.decode()
    assert reverse("insights:goals", args=[filled.pk]) in body
    assert reverse("insights:client_view", args=[filled.pk]) in body
