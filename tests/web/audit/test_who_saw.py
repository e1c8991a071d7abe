"""The audit log answers "who saw this client" (issue 9, fault 6).

Reads audited against an engagement or a session (dashboard, report, answers, session,
engagement, rupture-repair record, episodes) were stored without the clients they
showed; in a family engagement every member's data is on those pages.
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.privacy.services import export_client
from tests.web.security.support import make_client_world, make_staff
from tests.web.security.test_route_walk import ROUTES, STAFF, _url

pytestmark = pytest.mark.django_db

#: Staff pages about an engagement or one of its sessions, read with GET.
ENGAGEMENT_PAGES = sorted(
    name
    for name, (access, kwargs) in ROUTES.items()
    if access == STAFF
    and set(kwargs.values()) & {"engagement", "session"}
    and "client" not in kwargs.values()
)


def _family_world():
    from harmonybridge.web.practice.models import Client, EngagementClient

    world = make_client_world()
    sibling = Client.objects.create(
        practice=world["practice"],
        name="Sibling Synthetic",
        practitioner=world["practitioner"],
    )
    EngagementClient.objects.create(engagement=world["engagement"], client=sibling)
    world["sibling"] = sibling
    return world


def test_the_table_has_the_pages_the_probe_named():
    for name in (
        "insights:dashboard",
        "insights:report_html",
        "insights:answers",
        "practice:session",
        "practice:engagement",
        "repairs:record",
        "repairs:episodes",
    ):
        assert name in ENGAGEMENT_PAGES


@pytest.mark.parametrize("name", ENGAGEMENT_PAGES)
def test_every_read_of_an_engagement_page_names_every_client_shown(name):
    world = _family_world()
    admin = make_staff(world["practice"], "admin")
    http = HttpClient()
    http.force_login(admin)
    before = AuditEvent.objects.count()
    response = http.get(_url(name, world))
    new = list(AuditEvent.objects.order_by("id")[before:])
    if response.status_code != 200:
        assert new == [] or all(e.action == "login" for e in new), name
        return
    reads = [e for e in new if e.action != "login"]
    assert reads, f"{name} showed client data without an audit event"
    codes = {world["client"].code, world["sibling"].code}
    for event in reads:
        assert set(event.client_code_list) == codes, (name, event.action)


def test_the_clients_export_lists_who_saw_them():
    world = _family_world()
    admin = make_staff(world["practice"], "admin")
    http = HttpClient()
    http.force_login(admin)
    assert (
        http.get(f"/insights/engagements/{world['engagement'].pk}/").status_code == 200
    )
    for client in (world["client"], world["sibling"]):
        log = export_client(client)["access_log"]
        assert any(
            row["who"] == admin.username and row["action"] == "dashboard.view"
            for row in log
        ), log


def test_the_audit_filter_by_client_finds_reads_of_the_shared_engagement():
    world = _family_world()
    admin = make_staff(world["practice"], "admin")
    http = HttpClient()
    http.force_login(admin)
    http.get(f"/insights/engagements/{world['engagement'].pk}/")
    sibling = world["sibling"].code
    assert AuditEvent.objects.about_client(sibling).filter(action="dashboard.view")


def test_repeating_an_alert_action_audits_the_card_it_shows():
    world = _family_world()
    admin = make_staff(world["practice"], "admin")
    http = HttpClient()
    http.force_login(admin)
    url = reverse("insights:alert_act", args=[world["stored_alert"].pk, "acknowledge"])
    post = {"note": "ZZCANARY-TEXT-first note"}
    first = http.post(url, post, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    before = AuditEvent.objects.count()
    again = http.post(url, {"note": ""}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    new = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in new] == ["alert.view"]
    assert new[0].actor == admin
    assert world["client"].code in new[0].client_code_list
