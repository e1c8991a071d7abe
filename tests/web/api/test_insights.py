"""The Insights page's alliance figures through the API (issue 16): 200 with the figures
the page shows when they are fitted, else 202 with a status URL while the task worker
fits them; scoped by the single policy's ``insights_scope``; audited."""

from __future__ import annotations

import html
import re

import pytest
from django.core.management import call_command

from harmonybridge.web.accounts.models import Role, User
from harmonybridge.web.api import tokens
from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice.models import Practice
from tests.web import factories

URL = "/api/v1/insights/alliance"


def _get(client, token, url, **params):
    return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def _token(user, scopes=("read",)):
    return tokens.issue(user, "insights", list(scopes), 30)[1]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    from harmonybridge.web.demo import loader as demo_loader

    with django_db_blocker.unblock():
        demo_loader.load()
        yield Practice.objects.get(name=demo_loader.PRACTICE_NAME)
        call_command("flush", interactive=False, verbosity=0)


def _texts(result):
    """Every sentence, interval, n and table cell of the figures."""
    figures = [
        *result["general"],
        *result["prediction"],
        *(f for o in result["outcomes"] for f in o["figures"]),
    ]
    out = []
    for f in figures:
        out += [f["sentence"], f["uncertainty"], f["n"]]
        out += [str(c) for row in f["rows"] for c in row if c not in (None, "")]
    return figures, out


def test_the_figures_are_the_pages_figures(client, demo, db):
    admin = User.objects.get(username="admin")
    token = _token(admin)
    r = _get(client, token, URL, modality="video")
    assert r.status_code == 200, r.content  # the immediate task backend of the tests
    result = r.json()
    figures, texts = _texts(result)
    assert {f["id"] for f in figures} >= {"association", "growth", "prediction"}
    client.force_login(admin)
    page = html.unescape(client.get("/insights/alliance", {"modality": "video"}).text)
    for text in texts:  # the page shows each number, interval and n the API serves
        assert text in page, text
    assert result["summary"] in page
    for f in figures:  # every figure has its uncertainty and n, as on the page
        assert f["uncertainty"], f
        assert re.match(r"\d+ [a-z]", f["n"]), f
    event = AuditEvent.objects.filter(action="api.insights.alliance.view").get()
    assert event.actor == admin
    assert event.client_code == ""  # aggregates: no client's data is shown


def test_a_practitioner_sees_their_own_scope_only(client, demo, db):
    maya = User.objects.get(username="maya")
    token = _token(maya)
    r = _get(client, token, URL)
    assert r.status_code == 200, r.content
    result = r.json()
    assert [p["who"] for p in result["prediction"]] == ["Maya Lindqvist"]
    assert "Okafor" not in r.text
    # the practitioner filter is the admin's: named, not ignored
    r = _get(client, token, URL, practitioner=maya.pk)
    assert r.status_code == 422
    assert r.json()[0]["field"] == "practitioner"


def test_filters_are_validated_by_the_pages_form(client, demo, db):
    token = _token(User.objects.get(username="admin"))
    r = _get(client, token, URL, start="2026-05-01", end="2026-01-01")
    assert r.status_code == 422
    assert r.json()[0]["field"] == "end"
    assert "is after its end" in r.json()[0]["message"]
    r = _get(client, token, URL, service_line=999999)
    assert r.status_code == 422
    assert r.json()[0]["field"] == "service_line"


@pytest.mark.django_db
def test_while_the_worker_fits_202_then_status_then_200(client, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    admin = factories.make_practitioner(role=Role.ADMIN)
    factories.make_session(factories.make_engagement(admin))
    token = _token(admin)
    r = _get(client, token, URL)
    assert r.status_code == 202, r.content
    status = r.json()
    assert status["state"] == "queued"
    assert r["Location"] == status["status_url"]
    assert status["status_url"] == f"/api/v1/insights/status/{status['id']}"
    again = _get(client, token, status["status_url"])
    assert again.status_code == 200
    assert again.json()["state"] == "queued"
    assert DBTaskResult.objects.count() == 1  # queued once, as the page does
    queued = DBTaskResult.objects.get()
    # what the db_worker does with the queued row:
    queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    done = _get(client, token, status["status_url"]).json()
    assert done["state"] == "done"
    r = _get(client, token, done["result_url"])
    assert r.status_code == 200
    assert "the analyses need at least 5" in r.json()["notes"][0]
    assert AuditEvent.objects.filter(action="api.insights.alliance.status").count() == 3


@pytest.mark.django_db
def test_a_status_of_another_practice_or_practitioner_is_404(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    mine = factories.make_practitioner()
    factories.make_session(factories.make_engagement(mine))
    status_url = _get(client, _token(mine), URL).json()["status_url"]
    colleague = factories.make_practitioner(practice=mine.practice)
    elsewhere = factories.make_practitioner()
    for other in (colleague, elsewhere):
        r = _get(client, _token(other), status_url)
        assert r.status_code == 404
        assert r.json()[0]["field"] == "status_id"
    assert _get(client, _token(mine), status_url).status_code == 200
    r = _get(client, _token(mine), "/api/v1/insights/status/not-an-id")
    assert r.status_code == 422


@pytest.mark.django_db
def test_insights_need_the_read_scope(client):
    user = factories.make_practitioner()
    r = _get(client, _token(user, ("write",)), URL)
    assert r.status_code == 403
    assert r.json()[0]["code"] == "missing_scope"
