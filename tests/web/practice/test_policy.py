"""The access policy (practice.policy): every role × relation × action, researcher included."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from harmonybridge.web.practice import policy
from tests.web.security.support import make_client_world, make_practice, make_staff

pytestmark = pytest.mark.django_db

ROLES = ["admin", "practitioner", "supervisor", "researcher"]
RELATIONS = [
    "responsible",
    "co_practitioner",
    "supervisee",
    "stranger",
    "other_practice",
]
ACTIONS = [
    "view_client",
    "change_client",
    "view_engagement",
    "change_engagement",
    "view_session",
    "change_session",
    "export",
    "erase",
]

ALL = set(ACTIONS)
WORK = {
    "view_client",
    "change_client",
    "view_engagement",
    "change_engagement",
    "view_session",
    "change_session",
}
# Responsible for the client but not working in its engagement: the client's record only.
RESPONSIBLE = {"view_client", "change_client"}
SEE_ONLY = {"view_client", "view_engagement", "view_session"}

# What each role may do with the client of each relation, written out by hand from the
# rules in the policy's docstring (not computed from the policy).
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("admin", "responsible"): ALL,
    ("admin", "co_practitioner"): ALL,
    ("admin", "supervisee"): ALL,
    ("admin", "stranger"): ALL,
    ("admin", "other_practice"): set(),
    ("practitioner", "responsible"): RESPONSIBLE,
    ("practitioner", "co_practitioner"): WORK,
    ("practitioner", "supervisee"): set(),  # a practitioner supervises nobody
    ("practitioner", "stranger"): set(),
    ("practitioner", "other_practice"): set(),
    ("supervisor", "responsible"): RESPONSIBLE,
    ("supervisor", "co_practitioner"): WORK,
    ("supervisor", "supervisee"): SEE_ONLY,  # sees a supervisee's work, changes nothing
    ("supervisor", "stranger"): set(),
    ("supervisor", "other_practice"): set(),
    # pseudonymised aggregates only: no identifiable client, whatever the relation
    ("researcher", "responsible"): set(),
    ("researcher", "co_practitioner"): set(),
    ("researcher", "supervisee"): set(),
    ("researcher", "stranger"): set(),
    ("researcher", "other_practice"): set(),
}


def _arrange(role: str, relation: str) -> tuple[object, dict]:
    world = make_client_world()
    owner = world["practitioner"]
    practice = world["practice"] if relation != "other_practice" else make_practice()
    user = make_staff(practice, role)
    if relation == "responsible":
        world["client"].practitioner = user
        world["client"].save()
        world["engagement"].practitioners.remove(owner)
        world["engagement"].practitioners.add(make_staff(world["practice"]))
    elif relation == "co_practitioner":
        world["engagement"].practitioners.add(user)
    elif relation == "supervisee":
        user.supervisees.add(owner)
    return user, world


def _allowed(user: object, world: dict) -> set[str]:
    client, engagement, session = world["client"], world["engagement"], world["session"]
    checks = {
        "view_client": policy.may_see(policy.clients_for(user), client),
        "change_client": policy.may_see(policy.clients_for(user, change=True), client),
        "view_engagement": policy.may_see(policy.engagements_for(user), engagement),
        "change_engagement": policy.may_see(
            policy.engagements_for(user, change=True), engagement
        ),
        "view_session": policy.may_see(policy.sessions_for(user), session),
        "change_session": policy.may_see(
            policy.sessions_for(user, change=True), session
        ),
        "export": policy.may_see(policy.exportable_clients_for(user), client),
        "erase": policy.may_see(policy.erasable_clients_for(user), client),
    }
    return {action for action, ok in checks.items() if ok}


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_role_relation_action(role, relation):
    user, world = _arrange(role, relation)
    assert _allowed(user, world) == EXPECTED[(role, relation)]


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_get_or_404_agrees_with_the_querysets(role, relation):
    """Loading an object a user may not see is a 404, seeing it returns it."""
    user, world = _arrange(role, relation)
    request = RequestFactory().get("/")
    request.user = user
    loaders = {
        "view_client": (policy.get_client_or_404, world["client"]),
        "view_engagement": (policy.get_engagement_or_404, world["engagement"]),
        "view_session": (policy.get_session_or_404, world["session"]),
    }
    for action, (load, obj) in loaders.items():
        if action in EXPECTED[(role, relation)]:
            assert load(request, obj.pk) == obj
        else:
            with pytest.raises(Http404):
                load(request, obj.pk)


@pytest.mark.parametrize(
    ("role", "identifiable", "admin"),
    [
        ("admin", True, True),
        ("practitioner", True, False),
        ("supervisor", True, False),
        ("researcher", False, False),
    ],
)
def test_role_flags(role, identifiable, admin):
    user = make_staff(make_practice(), role)
    assert policy.may_see_identifiable(user) is identifiable
    assert policy.is_practice_admin(user) is admin
    assert policy.may_view_audit(user) is admin


@pytest.mark.parametrize("user", [None, AnonymousUser()])
def test_anonymous_gets_nothing(user):
    world = make_client_world()
    assert not policy.may_see_identifiable(user)
    assert not policy.may_see(policy.clients_for(user), world["client"])
    assert not policy.may_view_audit(user)
    with pytest.raises(Http404):
        policy.require_identifiable(user)


def test_inactive_admin_gets_nothing():
    world = make_client_world()
    admin = make_staff(world["practice"], "admin")
    admin.is_active = False
    assert not policy.may_see(policy.clients_for(admin), world["client"])
    assert not policy.may_view_audit(admin)


def test_supervisee_in_another_practice_gives_nothing():
    world = make_client_world()
    supervisor = make_staff(make_practice(), "supervisor")
    supervisor.supervisees.add(world["practitioner"])
    assert not policy.may_see(policy.engagements_for(supervisor), world["engagement"])


@pytest.mark.parametrize("bad", ["x", None, "1.5", -1])
def test_a_malformed_or_missing_id_is_a_404(bad):
    world = make_client_world()
    request = RequestFactory().get("/")
    request.user = make_staff(world["practice"], "admin")
    with pytest.raises(Http404):
        policy.get_client_or_404(request, bad)
