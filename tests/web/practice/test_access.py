"""Every practice page: owner succeeds, another practice's practitioner 404, anonymous
redirected to login, the wrong method 405, researchers 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from harmonybridge.web.accounts.models import Role
from tests.web import factories

pytestmark = pytest.mark.django_db

# (url name, kwargs builder, allowed method, wrong method)
PAGES = [
    ("insights:engagements", lambda w: {}, "get", "post"),
    ("practice:client_create", lambda w: {}, "get", "put"),
    ("practice:client", lambda w: {"pk": w["client"].pk}, "get", "post"),
    ("practice:client_edit", lambda w: {"pk": w["client"].pk}, "get", "delete"),
    (
        "practice:engagement_create",
        lambda w: {"client_pk": w["client"].pk},
        "get",
        "put",
    ),
    ("practice:engagement", lambda w: {"pk": w["engagement"].pk}, "get", "post"),
    ("practice:engagement_edit", lambda w: {"pk": w["engagement"].pk}, "get", "put"),
    ("practice:session_create", lambda w: {"pk": w["engagement"].pk}, "get", "put"),
    ("practice:session", lambda w: {"pk": w["session"].pk}, "get", "post"),
    ("practice:session_rate", lambda w: {"pk": w["session"].pk}, "post", "get"),
    ("practice:checkin_links", lambda w: {"pk": w["session"].pk}, "post", "get"),
    ("practice:plan_add", lambda w: {"pk": w["engagement"].pk}, "post", "get"),
    ("insights:alerts", lambda w: {}, "get", "post"),
]
ADMIN_PAGES = [
    ("practice:admin", "get", "post"),
    ("practice:add_service_line", "post", "get"),
    ("practice:add_person", "post", "get"),
    ("practice:save_wording", "post", "get"),
    ("practice:save_practice", "post", "get"),
]
OWN_OBJECT = {
    "practice:client",
    "practice:client_edit",
    "practice:engagement_create",
    "practice:engagement",
    "practice:engagement_edit",
    "practice:session_create",
    "practice:session",
    "practice:session_rate",
    "practice:checkin_links",
    "practice:plan_add",
}


@pytest.fixture
def world(practitioner):
    engagement = factories.make_engagement(practitioner)
    return {
        "engagement": engagement,
        "client": engagement.clients.first(),
        "session": factories.make_session(engagement),
    }


def _url(name, builder, world):
    return reverse(name, kwargs=builder(world))


@pytest.mark.parametrize(("name", "builder", "method", "wrong"), PAGES)
def test_owner_succeeds(client, practitioner, world, name, builder, method, wrong):
    client.force_login(practitioner)
    response = getattr(client, method)(_url(name, builder, world))
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert "/accounts/login" not in response["Location"]


@pytest.mark.parametrize(("name", "builder", "method", "wrong"), PAGES)
def test_anonymous_is_sent_to_login(client, world, name, builder, method, wrong):
    response = getattr(client, method)(_url(name, builder, world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("name", "builder", "method", "wrong"), PAGES)
def test_wrong_method_is_405(client, practitioner, world, name, builder, method, wrong):
    client.force_login(practitioner)
    assert getattr(client, wrong)(_url(name, builder, world)).status_code == 405


@pytest.mark.parametrize(
    ("name", "builder", "method", "wrong"), [p for p in PAGES if p[0] in OWN_OBJECT]
)
def test_other_practice_gets_404(
    client, other_practitioner, world, name, builder, method, wrong
):
    client.force_login(other_practitioner)
    assert getattr(client, method)(_url(name, builder, world)).status_code == 404


@pytest.mark.parametrize(
    ("name", "builder", "method", "wrong"), [p for p in PAGES if p[0] in OWN_OBJECT]
)
def test_colleague_in_same_practice_gets_404(
    client, practitioner, world, name, builder, method, wrong
):
    colleague = factories.make_practitioner(practitioner.practice)
    client.force_login(colleague)
    assert getattr(client, method)(_url(name, builder, world)).status_code == 404


@pytest.mark.parametrize(("name", "builder", "method", "wrong"), PAGES)
def test_researcher_sees_no_identifiable_page(
    client, practitioner, world, name, builder, method, wrong
):
    researcher = factories.make_practitioner(
        practitioner.practice, role=Role.RESEARCHER
    )
    client.force_login(researcher)
    assert getattr(client, method)(_url(name, builder, world)).status_code == 404


@pytest.mark.parametrize(("name", "method", "wrong"), ADMIN_PAGES)
def test_admin_pages_are_404_for_practitioners(
    client, practitioner, name, method, wrong
):
    client.force_login(practitioner)
    assert getattr(client, method)(reverse(name)).status_code == 404


@pytest.mark.parametrize(("name", "method", "wrong"), ADMIN_PAGES)
def test_admin_pages_wrong_method_and_anonymous(
    client, practitioner, name, method, wrong
):
    assert getattr(client, method)(reverse(name)).status_code == 302
    admin = factories.make_practitioner(practitioner.practice, role=Role.ADMIN)
    client.force_login(admin)
    assert getattr(client, wrong)(reverse(name)).status_code == 405
    if method == "get":
        assert client.get(reverse(name)).status_code == 200


def test_practice_admin_sees_every_engagement_of_the_practice(
    client, practitioner, world
):
    admin = factories.make_practitioner(practitioner.practice, role=Role.ADMIN)
    client.force_login(admin)
    assert (
        client.get(
            reverse("practice:engagement", args=[world["engagement"].pk])
        ).status_code
        == 200
    )


def test_co_practitioner_sees_the_engagement(client, practitioner, world):
    co = factories.make_practitioner(practitioner.practice)
    world["engagement"].practitioners.add(co)
    client.force_login(co)
    assert (
        client.get(reverse("practice:session", args=[world["session"].pk])).status_code
        == 200
    )


def test_supervisor_sees_but_cannot_change_a_supervisees_engagement(
    client, practitioner, world
):
    supervisor = factories.make_practitioner(
        practitioner.practice, role=Role.SUPERVISOR
    )
    supervisor.supervisees.add(practitioner)
    client.force_login(supervisor)
    assert (
        client.get(
            reverse("practice:engagement", args=[world["engagement"].pk])
        ).status_code
        == 200
    )
    edit = reverse("practice:engagement_edit", args=[world["engagement"].pk])
    assert client.get(edit).status_code == 404
