"""Planted marker strings in client names, contacts and goals never reach logs or emails.

A full check-in runs end to end: the practitioner emails the link, the client opens it,
answers (including a safety item, which emails the practitioner), submits; staff open
the client, engagement and session pages; an admin exports the client. Everything
logged at any level and every email sent is searched for the markers.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail
from django.test import Client as HttpClient

from harmonybridge.web.audit.models import AuditEvent
from tests.web.security.support import (
    MARK_EMAIL,
    MARK_NAME,
    MARK_TEXT,
    give_totp,
    make_client_world,
    make_staff,
)

pytestmark = pytest.mark.django_db

MARKERS = ("ZZCANARY", MARK_NAME, MARK_TEXT)


def _answers_for(page: str) -> dict[str, str]:
    """Pick the highest option of every radio group on a check-in page."""
    groups: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page):
        if name in ("csrfmiddlewaretoken",):
            continue
        groups.setdefault(name, []).append(value)
    data = {}
    for name, values in groups.items():
        if name in ("checkin", "s"):
            data[name] = values[0]
        else:
            data[name] = max(values, key=lambda v: (v.lstrip("-").isdigit(), v))
    return data


def test_markers_never_reach_logs_or_emails(caplog, settings):
    settings.HB_REQUIRE_MFA = True
    caplog.set_level(logging.DEBUG)
    world = make_client_world()
    practitioner = world["practitioner"]
    practitioner.email = "practitioner@example.org"
    practitioner.save()
    give_totp(practitioner)
    staff = HttpClient()
    staff.force_login(practitioner)

    response = staff.post(
        f"/practice/sessions/{world['session'].pk}/checkin-links", {"send_email": "1"}
    )
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    link = re.search(r"http\S+/c/t/\S+", mail.outbox[0].body).group(0)

    client = HttpClient()
    response = client.get(link.split("127.0.0.1:8000")[-1])
    assert response.status_code == 302
    page = client.get("/c/").content.decode()
    response = client.post("/c/submit", _answers_for(page))
    assert response.status_code in (302, 400)
    if response.status_code == 400:  # more than one screen: answer each in turn
        for _ in range(10):
            page = client.get("/c/").content.decode()
            data = _answers_for(page)
            client.post("/c/", data)
            response = client.post("/c/submit", data)
            if response.status_code == 302:
                break
    assert response.status_code == 302
    assert response["Location"].endswith("/c/done")

    for url in (
        f"/practice/clients/{world['client'].pk}/",
        f"/practice/engagements/{world['engagement'].pk}/",
        f"/practice/sessions/{world['session'].pk}/",
        "/insights/engagements/",
        "/insights/alerts/",
    ):
        assert staff.get(url).status_code == 200, url
    admin = make_staff(world["practice"], "admin")
    give_totp(admin)
    staff_admin = HttpClient()
    staff_admin.force_login(admin)
    assert (
        staff_admin.get(
            f"/privacy/clients/{world['client'].pk}/export.json"
        ).status_code
        == 200
    )
    assert staff_admin.get("/audit/").status_code == 200

    # A forged link is logged by django.request: proof that the capture sees the app.
    assert HttpClient().get("/c/t/forged-link-for-the-log-capture").status_code == 404
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {getattr(r, 'request', '')!r}"
        for r in caplog.records
    )
    assert "forged-link-for-the-log-capture" in logged, "the log capture is not working"
    for marker in (*MARKERS, MARK_EMAIL):
        assert marker not in logged, marker
    assert len(mail.outbox) >= 1
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}\n{message.alternatives!r}"
        for marker in (*MARKERS, MARK_EMAIL):
            assert marker not in text, (marker, message.subject)
    # A client's own check-in is recorded without an address; staff actions with one.
    client_events = AuditEvent.objects.filter(
        actor__isnull=True, action__startswith="checkin."
    )
    assert client_events.exists()
    assert set(client_events.values_list("ip_address", flat=True)) == {None}
    assert (
        AuditEvent.objects.filter(actor=practitioner).exclude(ip_address=None).exists()
    )
    for event in AuditEvent.objects.all():
        flat = repr(
            (
                event.actor_label,
                event.action,
                event.target_type,
                event.target_id,
                event.detail,
            )
        )
        for marker in (*MARKERS, MARK_EMAIL):
            assert marker not in flat, (marker, event.action)


def test_server_error_log_carries_no_post_data(caplog, client):
    """Refused check-in posts are logged (django.request) without the submitted values."""
    caplog.set_level(logging.DEBUG)
    client.post("/c/submit", {"name": MARK_NAME, "phq9-i1": MARK_TEXT})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/c/submit" in logged
    assert MARK_NAME not in logged
    assert MARK_TEXT not in logged


def test_link_tokens_are_masked_in_log_lines():
    from django.conf import settings

    from harmonybridge.web.ops.logfilters import RedactTokens

    handler = settings.LOGGING["handlers"]["console"]
    assert "redact_tokens" in handler["filters"]
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/c/t/SECRETtoken123_-x",),
        None,
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == "Not Found: /c/t/[redacted]"
    plain = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "GET /practice/ 200", None, None
    )
    RedactTokens().filter(plain)
    assert plain.getMessage() == "GET /practice/ 200"
