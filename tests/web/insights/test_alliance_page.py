"""The alliance insights page (issue 13 §3) on the demo practice, for each role.

The demo practice is loaded once for the module (it takes about a minute); every test
runs in its own transaction on top of it.  Numbers on the page are compared with the
core functions of ``harmonybridge.alliance`` called on the same data.
"""

from __future__ import annotations

import base64
import pickle
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from harmonybridge import schema
from harmonybridge.alliance import (
    association,
    by_session,
    fit_growth,
    practitioner_icc,
    prediction_accuracy,
)
from harmonybridge.web.accounts.models import Role, User
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.checkins import frames
from harmonybridge.web.insights import analyses
from harmonybridge.web.practice.models import Client, Engagement, Practice
from harmonybridge.web.practice.policy import insights_scope
from tests.web import factories

PRODUCTION_CACHES = {
    "default": {
        "BACKEND": "harmonybridge.web.ops.cache.EncryptedDatabaseCache",
        "LOCATION": "hb_cache",
    }
}
URL = reverse("insights:alliance")
ALLIANCE_FORMS = ["hb_checkin", "hb_checkin_practitioner"]
#: Every analysis of issue 13 that the demo's data can show (practitioner effects and
#: the outcome ICC need two practitioners for one outcome: in the demo each outcome
#: belongs to one practitioner, so the page says so in its notes instead).
EVERY_ANALYSIS = {
    "association",
    "growth",
    "lagged",
    "response_surface",
    "rupture_outcome",
    "reliable_change",
    "agreement",
    "alliance_icc",
    "modality",
    "prediction",
}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    from harmonybridge.web.demo import loader as demo_loader

    with django_db_blocker.unblock():
        demo_loader.load()
        practice = Practice.objects.get(name=demo_loader.PRACTICE_NAME)
        yield practice
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def researcher(demo, db):
    return User.objects.create(
        username="rhea", first_name="Rhea", role=Role.RESEARCHER, practice=demo
    )


def _figures(html: str) -> dict[str, list[str]]:
    """``data-figure`` → the HTML of each such figure card."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(
        r'<figure [^>]*data-figure="([a-z_]+)".*?</figure>', html, re.S
    ):
        out.setdefault(m.group(1), []).append(m.group(0))
    return out


def _page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.text


def test_admin_sees_every_analysis_with_uncertainty_and_n(client, demo, db):
    html = _page(client, User.objects.get(username="admin"))
    figures = _figures(html)
    assert set(figures) >= EVERY_ANALYSIS
    for kind, cards in figures.items():
        for card in cards:
            assert 'class="insight-sentence">' in card, kind
            assert re.search(r'class="insight-count">\d+ [a-z]', card), kind
            assert 'class="insight-uncertainty">' in card, kind
    # one section per outcome instrument of the demo, with its own growth model
    for outcome in ("who5", "swls", "fs", "phq9", "gad7", "goal_progress"):
        assert f'id="outcome-{outcome}"' in html
    # what cannot be shown says why
    assert "one practitioner only" in html
    assert AuditEvent.objects.filter(action="insights.alliance.view").exists()


def test_numbers_equal_the_core_functions_on_the_same_data(client, demo, db):
    admin = User.objects.get(username="admin")
    html = _page(client, admin)
    figures = _figures(html)
    long = analyses.practice_frame(insights_scope(admin), analyses.Filters())
    wide = by_session(long, outcome="who5", alliance=ALLIANCE_FORMS)
    who5 = html.split('id="outcome-who5"')[1].split('<section class="insight-outcome"')[
        0
    ]
    who5_figures = _figures(who5)
    # Growth model: WHO-5 is the coach's outcome only, so no practitioner level.
    fit = fit_growth(
        wide,
        outcome="who5",
        fixed=["alliance_client"],
        client=schema.ENGAGEMENT_ID,
        practitioner=None,
    )
    fe = fit.fixed_effects.set_index("term")
    growth = who5_figures["growth"][0]
    assert f"<td>{fe.loc['alliance_client', 'estimate']:.3f}</td>" in growth
    assert f"<td>{fe.loc['alliance_client', 'std_error']:.3f}</td>" in growth
    assert f"{fit.n_obs} sessions, {fit.n_clients} engagements" in growth
    # Early alliance vs the final score: r and its Fisher-z interval.
    assoc = association(
        wide, outcome="who5", alliance=["alliance_client"], unit=schema.ENGAGEMENT_ID
    ).iloc[0]
    card = who5_figures["association"][0]
    assert f"r = {assoc['r']:.2f}" in card
    assert f"95 % CI {assoc['ci_low']:.2f} to {assoc['ci_high']:.2f}" in card
    # Practitioner share of the client-rated alliance (parametric bootstrap, seed 2018).
    icc = practitioner_icc(wide, column="alliance_client", unit=schema.ENGAGEMENT_ID)
    card = figures["alliance_icc"][0]
    assert f"{100 * icc.icc:.0f} % of the variance" in card
    assert f"95 % CI {100 * icc.ci_low:.0f} % to {100 * icc.ci_high:.0f} %" in card
    # Prediction accuracy of each practitioner, under their name.
    pred = prediction_accuracy(long).set_index(schema.PRACTITIONER_ID)
    maya = User.objects.get(username="maya")
    row = pred.loc[f"P{maya.pk}"]
    mine = [c for c in figures["prediction"] if "Maya Lindqvist" in c]
    assert len(mine) == 1
    assert f"on average {row['bias']:.2f} points" in mine[0]
    assert f"(r = {row['r']:.2f})" in mine[0]
    assert f"{int(row['n_sessions'])} sessions" in mine[0]


def test_researcher_sees_aggregates_without_any_name_or_code(client, demo, researcher):
    html = _page(client, researcher)
    figures = _figures(html)
    assert {"association", "growth", "agreement", "alliance_icc"} <= set(figures)
    assert "prediction" not in figures  # private to the practitioner and the admin
    agreement = figures["agreement"][0]
    assert "mean difference, client − practitioner (points)" in agreement
    for raw in ("mean_difference", "paired_d", "mean_standardised_discrepancy"):
        assert raw not in agreement  # statistics in words, never column names
    for code, name in Client.objects.values_list("code", "name"):
        assert code not in html
        assert not name or name not in html
    for user in User.objects.filter(practice=demo).exclude(pk=researcher.pk):
        for word in (user.username, user.first_name, user.last_name):
            assert not re.search(rf"\b{re.escape(word)}\b", html), word
    assert "Practitioner 1" in html  # the filter lists pseudonyms


def test_a_practitioner_sees_only_their_own_figures(client, demo, db):
    maya = User.objects.get(username="maya")
    daniel = User.objects.get(username="daniel")
    html = _page(client, maya)
    # a practitioner filter for someone else is not offered and is ignored
    results = html.split('id="alliance-results"')[1]
    assert (
        results
        == _page(client, maya, practitioner=daniel.pk).split('id="alliance-results"')[1]
    )
    led = Engagement.objects.filter(lead=maya).values_list("pk", flat=True)
    n_led = frames.stored_scores(engagement_ids=led)[schema.ENGAGEMENT_ID].nunique()
    assert f"{n_led} engagements with scores, 1 practitioner." in html
    assert "Daniel" not in html
    assert "Okafor" not in html
    predictions = _figures(html)["prediction"]
    assert len(predictions) == 1
    assert "Maya Lindqvist" in predictions[0]
    # PHQ-9 and GAD-7 are the therapist's outcomes: not on the coach's page
    assert 'id="outcome-phq9"' not in html


def test_long_fits_run_in_the_worker_with_progress_and_are_cached(
    client, demo, db, settings
):
    from django_tasks_db.models import DBTaskResult

    from harmonybridge.web.insights.alliance_tasks import fit_alliance_insights

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    settings.CACHES = PRODUCTION_CACHES  # the encrypted database cache of production
    call_command("createcachetable", verbosity=0)
    admin = User.objects.get(username="admin")
    client.force_login(admin)
    params = {"modality": "video"}
    first = client.get(URL, params)
    assert "<progress" in first.text
    assert "hx-get=" in first.text
    assert "data-figure" not in first.text
    again = client.get(URL, params, headers={"HX-Request": "true"})
    assert again.text.lstrip().startswith('<div id="alliance-results"')
    assert DBTaskResult.objects.count() == 1  # queued once, not once per poll
    queued = DBTaskResult.objects.get()
    assert queued.task.func is fit_alliance_insights.func
    # what the db_worker does with the queued row:
    queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    done = client.get(URL, params, headers={"HX-Request": "true"})
    assert 'data-figure="growth"' in done.text
    assert "<progress" not in done.text
    # The cache row is sealed: no client code, name or practitioner name readable.
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM hb_cache")
        rows = cursor.fetchall()
    assert any(key.startswith(f":1:hb-practice:{demo.pk}:alliance:") for key, _ in rows)
    stored = b" ".join(pickle.loads(base64.b64decode(value)) for _, value in rows)
    for code in Client.objects.values_list("code", flat=True)[:50]:
        assert code.encode() not in stored
    assert b"Lindqvist" not in stored
    assert b"WHO-5" not in stored  # the figures' own words are sealed too


def test_new_data_makes_a_new_version(demo, db):
    version = analyses.data_version(demo.pk)
    Engagement.objects.filter(practice=demo).first().save()  # updated_at changes
    assert analyses.data_version(demo.pk) != version


def test_the_demo_loader_raises_the_data_version(demo, db):
    """The loader writes in bulk (no signals) and raises the practice's stamp itself."""
    from harmonybridge.web.practice import datastamp

    assert datastamp.version(demo.pk) != "0"


def test_too_few_engagements_says_so(client, db):
    practitioner = factories.make_practitioner(role=Role.ADMIN)
    factories.make_session(factories.make_engagement(practitioner))
    html = _page(client, practitioner)
    assert "the analyses need at least 5" in html
    assert "data-figure" not in html


def test_a_period_ending_before_it_starts_is_a_clear_error(client, demo, db):
    html = _page(
        client,
        User.objects.get(username="admin"),
        start="2026-05-01",
        end="2026-01-01",
    )
    assert "is after its end" in html
    assert "data-figure" not in html


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_filters_select_the_data_behind_the_figures(demo, db):
    import datetime as dt

    from harmonybridge.web.practice.models import ServiceLine

    admin = User.objects.get(username="admin")
    scope = insights_scope(admin)
    everything = analyses.practice_frame(scope, analyses.Filters())
    start, end = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
    period = analyses.practice_frame(scope, analyses.Filters(start=start, end=end))
    assert 0 < len(period) < len(everything)
    assert period[schema.DATE].dt.date.between(start, end).all()
    video = analyses.practice_frame(scope, analyses.Filters(modality="video"))
    assert set(video["modality"]) == {"video"}
    line = ServiceLine.objects.filter(practice=demo, name="Individual therapy").get()
    mine = analyses.practice_frame(scope, analyses.Filters(service_line=line.pk))
    assert set(mine["service_line"]) == {f"S{line.pk}"}
    daniel = User.objects.get(username="daniel")
    led = analyses.practice_frame(scope, analyses.Filters(practitioner=daniel.pk))
    assert set(led[schema.PRACTITIONER_ID]) == {f"P{daniel.pk}"}
