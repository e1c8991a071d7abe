"""The role rules in accounts.permissions, one row per role and relation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from harmonybridge.web.accounts import permissions as perm
from harmonybridge.web.accounts.models import User
from tests.web.security.support import make_practice, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    a, b = make_practice(), make_practice()
    w = SimpleNamespace(
        admin=make_staff(a, "admin"),
        p1=make_staff(a, "practitioner"),
        p2=make_staff(a, "practitioner"),
        sup=make_staff(a, "supervisor"),
        res=make_staff(a, "researcher"),
        other=make_staff(b, "admin"),
        other_p=make_staff(b, "practitioner"),
        a=a,
        b=b,
    )
    w.sup.supervisees.add(w.p1)
    w.client_p1 = SimpleNamespace(practice_id=a.pk, practitioner_id=w.p1.pk)
    w.client_p2 = SimpleNamespace(practice_id=a.pk, practitioner_id=w.p2.pk)
    w.client_sup = SimpleNamespace(practice_id=a.pk, practitioner_id=w.sup.pk)
    return w


# (user, client, view, change) — the role table in the module docstring.
CASES = [
    ("admin", "client_p1", True, True),
    ("p1", "client_p1", True, True),
    ("p1", "client_p2", False, False),
    ("p2", "client_p1", False, False),
    ("sup", "client_p1", True, False),  # supervises p1: may see, not change
    ("sup", "client_p2", False, False),  # does not supervise p2
    ("sup", "client_sup", True, True),  # own client
    ("res", "client_p1", True, False),
    ("other", "client_p1", False, False),  # another practice's admin
    ("other_p", "client_p1", False, False),
]


@pytest.mark.parametrize(("who", "which", "view", "change"), CASES)
def test_client_access(world, who, which, view, change):
    user, client = getattr(world, who), getattr(world, which)
    assert perm.can_view_client_data(user, client) is view
    assert perm.can_change_client_data(user, client) is change


@pytest.mark.parametrize(
    ("who", "identifiers", "admin", "export"),
    [
        ("admin", True, True, True),
        ("p1", True, False, False),
        ("sup", True, False, False),
        ("res", False, False, False),
        ("other", True, True, False),  # an admin, but of another practice
    ],
)
def test_role_flags(world, who, identifiers, admin, export):
    user = getattr(world, who)
    assert perm.can_see_identifiers(user) is identifiers
    assert perm.can_admin_practice(user) is admin
    assert perm.can_export_client(user, world.client_p1) is export
    assert perm.can_erase_client(user, world.client_p1) is export
    assert perm.can_view_audit(user) is admin


def test_supervisor_relation(world):
    assert perm.is_supervisor_of(world.sup, world.p1)
    assert perm.is_supervisor_of(world.sup, world.p1.pk)
    assert not perm.is_supervisor_of(world.sup, world.p2)
    assert not perm.is_supervisor_of(world.p1, world.p2)


def test_supervisee_in_another_practice_gives_nothing(world):
    world.sup.supervisees.add(world.other_p)
    assert not perm.is_supervisor_of(world.sup, world.other_p)
    assert world.other_p.pk not in perm.visible_practitioner_ids(world.sup)


def test_visible_practitioner_ids(world):
    assert perm.visible_practitioner_ids(world.admin) is None
    assert perm.visible_practitioner_ids(world.res) is None
    assert perm.visible_practitioner_ids(world.p1) == {world.p1.pk}
    assert perm.visible_practitioner_ids(world.sup) == {world.sup.pk, world.p1.pk}


@pytest.mark.parametrize("user", [None, AnonymousUser()])
def test_anonymous_gets_nothing(world, user):
    assert not perm.can_view_client_data(user, world.client_p1)
    assert not perm.can_see_identifiers(user)
    assert perm.visible_practitioner_ids(user) == set()


def test_inactive_or_practiceless_user_gets_nothing(world):
    world.admin.is_active = False
    assert not perm.can_view_client_data(world.admin, world.client_p1)
    loose = User(username="loose", role="admin")
    assert not perm.can_admin_practice(loose)


def test_client_queryset_for_filters_practice_and_caseload(world):
    # Staff users stand in for a model with practice and practitioner fields here:
    # filter users by practice and by themselves as "practitioner".
    qs = User.objects.all()
    narrowed = perm.client_queryset_for(world.other, qs)
    assert set(narrowed) == {world.other, world.other_p}
    assert list(perm.client_queryset_for(AnonymousUser(), qs)) == []


@pytest.mark.parametrize("role", ["admin", "practitioner", "supervisor"])
@pytest.mark.parametrize(
    "relation",
    ["responsible", "co_practitioner", "supervisee", "stranger", "other_practice"],
)
def test_predicates_agree_with_the_practice_apps_scoping(role, relation):
    """One rule, two forms: the predicates here and the querysets of practice.scoping."""
    from harmonybridge.web.practice.scoping import clients_for
    from tests.web.security.support import make_client_world

    world = make_client_world()
    owner = world["practitioner"]
    practice = world["practice"] if relation != "other_practice" else make_practice()
    user = make_staff(practice, role)
    if relation == "responsible":
        world["client"].practitioner = user
        world["client"].save()
    elif relation == "co_practitioner":
        world["engagement"].practitioners.add(user)
    elif relation == "supervisee" and role == "supervisor":
        user.supervisees.add(owner)
    client = world["client"]
    assert (
        perm.can_view_client_data(user, client)
        == clients_for(user).filter(pk=client.pk).exists()
    )
    assert (
        perm.can_change_client_data(user, client)
        == clients_for(user, change=True).filter(pk=client.pk).exists()
    )


@pytest.mark.parametrize("role", ["admin", "practitioner", "supervisor", "researcher"])
def test_client_queryset_for_agrees_with_the_predicate(role):
    from harmonybridge.web.practice.models import Client
    from tests.web.security.support import make_client_world

    world = make_client_world()
    colleague = make_staff(world["practice"], role)
    co_world = make_client_world(world["practice"])
    co_world["engagement"].practitioners.add(colleague)
    make_client_world()  # another practice
    expected = {
        c.pk for c in Client.objects.all() if perm.can_view_client_data(colleague, c)
    }
    assert {
        c.pk for c in perm.client_queryset_for(colleague, Client.objects.all())
    } == expected
