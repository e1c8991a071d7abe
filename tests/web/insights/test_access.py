"""Every insights and repairs page: anonymous → login, other practice → 404, wrong method → 405."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.alerts.models import StoredAlert

#: (url name, args from the fixtures, allowed method, a method that is not allowed)
ROUTES = [
    ("insights:dashboard", "e", "get", "post"),
    ("insights:goals", "e", "post", "get"),
    ("insights:client_view", "e", "post", "get"),
    ("insights:report", "e", "get", "post"),
    ("insights:report_html", "e", "get", "post"),
    ("insights:report_pdf", "e", "get", "post"),
    ("insights:answers", "s", "get", "post"),
    ("repairs:record", "es", "get", "put"),
    ("repairs:episodes", "e", "get", "post"),
    ("insights:alert_act", "a", "post", "get"),
]


@pytest.fixture
def objects(session):
    alert = StoredAlert.objects.create(
        engagement=session.engagement,
        session_number=session.number,
        rule_id="alliance.gap",
        rule_version="1",
        severity="info",
        message="gap",
    )
    return {"e": session.engagement, "s": session, "a": alert}


def url(name, kinds, objects):
    if kinds == "es":
        return reverse(name, args=[objects["e"].pk, objects["s"].pk])
    if kinds == "a":
        return reverse(name, args=[objects["a"].pk, "acknowledge"])
    return reverse(name, args=[objects[kinds].pk])


@pytest.mark.parametrize(("name", "kinds", "ok", "bad"), ROUTES)
def test_anonymous_is_sent_to_login(client, objects, name, kinds, ok, bad):
    r = getattr(client, ok)(url(name, kinds, objects))
    assert r.status_code == 302
    assert "/accounts/login/" in r["Location"]


@pytest.mark.parametrize(("name", "kinds", "ok", "bad"), ROUTES)
def test_other_practice_gets_404(other_client, objects, name, kinds, ok, bad):
    assert getattr(other_client, ok)(url(name, kinds, objects)).status_code == 404


@pytest.mark.parametrize(("name", "kinds", "ok", "bad"), ROUTES)
def test_wrong_method_is_405(owner_client, objects, name, kinds, ok, bad):
    assert getattr(owner_client, bad)(url(name, kinds, objects)).status_code == 405


@pytest.mark.parametrize(("name", "kinds", "ok", "bad"), ROUTES)
def test_researcher_of_the_same_practice_gets_404(
    client, objects, practitioner, name, kinds, ok, bad
):
    from tests.web import factories

    researcher = factories.make_practitioner(
        practice=practitioner.practice, role="researcher"
    )
    client.force_login(researcher)
    assert getattr(client, ok)(url(name, kinds, objects)).status_code == 404


def test_caseload_of_another_practice_lists_nothing_of_ours(other_client, objects):
    r = other_client.get(reverse("insights:caseload"))
    assert r.status_code == 200
    assert r.context["rows"] == []
