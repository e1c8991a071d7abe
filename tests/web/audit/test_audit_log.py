"""The audit viewer: practice admins only, own practice only, filters, and no way to change a row."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import get_resolver

from harmonybridge.web import audit
from harmonybridge.web.audit.models import AppendOnlyError, AuditEvent
from tests.web.security.support import make_practice, make_staff

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_sees_own_practice_only():
    a, b = make_practice(), make_practice()
    admin, other_admin = make_staff(a, "admin"), make_staff(b, "admin")
    audit.record(admin, "client_viewed", None, request=None, client_id=1)
    audit.record(other_admin, "secret_other_practice_action", None)
    response = _as(admin).get("/audit/")
    assert response.status_code == 200
    assert b"client_viewed" in response.content
    assert b"secret_other_practice_action" not in response.content


@pytest.mark.parametrize("role", ["practitioner", "supervisor", "researcher"])
def test_other_roles_are_refused(role):
    response = _as(make_staff(role=role)).get("/audit/")
    assert response.status_code == 403


def test_anonymous_goes_to_login():
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_method_changes_the_log(method):
    admin = make_staff(role="admin")
    audit.record(admin, "client_viewed", None)
    before = list(AuditEvent.objects.values_list("id", "action"))
    response = getattr(_as(admin), method)("/audit/")
    assert response.status_code == 405
    after = list(AuditEvent.objects.values_list("id", "action"))
    assert set(before) <= set(after)
    assert not [row for row in after if row not in before and row[1] != "login"]


def test_filters():
    practice = make_practice()
    admin, p1 = make_staff(practice, "admin"), make_staff(practice, "practitioner")
    with time_machine.travel(dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)):
        audit.record(p1, "client_viewed", None)
    with time_machine.travel(dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)):
        audit.record(p1, "client_exported", None)
        audit.record(admin, "client_viewed", None)
    client = _as(admin)

    def rows(query: str) -> list[tuple[str, str]]:
        page = client.get("/audit/?" + query).context["page"]
        return [(e.actor_label, e.action) for e in page if e.action != "audit_viewed"]

    assert rows(f"actor={p1.username}") == [
        (p1.username, "client_exported"),
        (p1.username, "client_viewed"),
    ]
    assert rows("action=client_exported") == [(p1.username, "client_exported")]
    assert rows("date_from=2026-02-01&date_to=2026-02-28&action=client_viewed") == [
        (admin.username, "client_viewed")
    ]
    assert rows("date_to=2026-01-31") == [(p1.username, "client_viewed")]


def test_bad_filter_redisplays_with_message():
    admin = make_staff(role="admin")
    response = _as(admin).get("/audit/?date_from=2026-02-02&date_to=2026-01-01")
    assert response.status_code == 200
    assert b"The start date is after the end date." in response.content
    response = _as(admin).get("/audit/?date_from=not-a-date")
    assert response.status_code == 200
    assert response.context["form"].errors


def test_viewing_the_log_is_itself_audited():
    admin = make_staff(role="admin")
    _as(admin).get("/audit/")
    assert AuditEvent.objects.filter(action="audit_viewed", actor=admin).count() == 1


def test_rows_cannot_be_changed_or_deleted_through_the_orm():
    event = audit.record(make_staff(), "client_viewed", None)
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_no_url_routes_to_an_audit_edit_or_delete_view():
    from harmonybridge.web.audit import views

    names = {n for n in dir(views) if not n.startswith("_")}
    assert not {
        n for n in names if any(w in n for w in ("edit", "delete", "update", "remove"))
    }
    audit_patterns = [
        p
        for p in get_resolver().url_patterns
        if getattr(p, "namespace", None) == "audit"
    ]
    assert [u.name for p in audit_patterns for u in p.url_patterns] == ["log"]


def test_staff_address_kept_client_checkin_address_not():
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    staff = make_staff()
    staff_event = audit.record(staff, "client_viewed", None, request=request)
    client_event = audit.record(
        None, "checkin_submitted", None, request=request, practice_id=1
    )
    assert staff_event.ip_address == "192.0.2.7"
    assert client_event.ip_address is None
    assert client_event.actor_label == "client check-in"


def test_detail_refuses_clinical_content():
    with pytest.raises(ValueError, match="short id or word"):
        audit.record(make_staff(), "note_written", None, text="x" * 65)
    with pytest.raises(ValueError, match="short id or word"):
        audit.record(make_staff(), "answers_saved", None, answers={"1": 3})


def test_filtered_csv_download():
    import csv
    import io

    practice = make_practice()
    admin, p1 = make_staff(practice, "admin"), make_staff(practice, "practitioner")
    audit.record(p1, "client.view", None)
    audit.record(admin, "client.export", None)
    response = _as(admin).get("/audit/", {"actor": p1.username, "download": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["who"], r["action"]) for r in rows] == [(p1.username, "client.view")]
    assert AuditEvent.objects.filter(action="audit_exported", actor=admin).count() == 1


@pytest.mark.parametrize("lead", ["=", "+", "-", "@"])
def test_csv_neutralises_formula_cells(lead):
    """Issue 9, fault 12: a username like ``=HYPERLINK(...)`` must open as text."""
    import csv
    import io

    practice = make_practice()
    admin = make_staff(practice, "admin")
    evil = make_staff(practice, "practitioner", username=f"{lead}cmd1")
    audit.record(evil, "client.view", None)
    response = _as(admin).get("/audit/", {"actor": evil.username, "download": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["who"] for r in rows] == [f"'{lead}cmd1"]
