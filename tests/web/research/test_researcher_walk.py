"""The researcher runs an export and walks every route: no planted name or note anywhere.

The planted client (name, contact, goal and way-of-working note carry canary strings)
gave research consent and answered the PHQ-9, so their data is in the export; the
researcher opens every page of the URLconf with that client's ids and downloads the
zip: neither the responses nor any file of the zip holds a canary or a client code.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from harmonybridge import instruments
from harmonybridge.web.checkins import storage
from harmonybridge.web.research.models import ExportRun, RunStatus
from tests.web import factories
from tests.web.research.helpers import client_with_phq9, phq9_answers
from tests.web.security.support import (
    MARK_EMAIL,
    MARK_NAME,
    MARK_TEXT,
    make_client_world,
    make_staff,
)
from tests.web.security.test_route_walk import _url, all_routes

NOTE = "ZZCANARY-NOTE-way-of-working"
MARKERS = (MARK_NAME, MARK_EMAIL, MARK_TEXT, NOTE, "ZZCANARY")


@pytest.mark.django_db
def test_no_planted_name_or_note_reaches_a_researcher_or_an_export(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.HB_RESEARCH_EXPORT_DIR = tmp_path
    world = make_client_world()
    planted = world["client"]
    world["engagement"].way_of_working = NOTE
    world["engagement"].save()
    storage.submit_checkin(
        world["checkin"].pk,
        {"phq9": phq9_answers(2)},
        instruments=[instruments.get("phq9")],
    )
    factories.give_consent(planted, "research", world["practitioner"])
    others = [client_with_phq9(world["practitioner"]) for _ in range(5)]
    researcher = make_staff(world["practice"], "researcher")
    browser = Client()
    browser.force_login(researcher)

    with django_capture_on_commit_callbacks(execute=True):
        browser.post(reverse("research:project_run", args=[world["export_project"].pk]))
    run = ExportRun.objects.filter(project=world["export_project"]).first()
    assert run.status == RunStatus.DONE, run.message
    assert run.counts["clients"] == 6  # the planted client is in the export
    world["export_run"] = run

    for name in sorted(all_routes()):
        if name.startswith(("account_", "mfa_")) or name == "account_logout":
            continue
        url = _url(name, world)
        response = browser.get(url, follow=True)
        assert response.status_code < 500, name
        body = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        if name == "research:run_download":
            assert response.status_code == 200
            zipped = body
            continue
        text = body.decode(errors="replace")
        for marker in (*MARKERS, planted.code):
            assert marker not in text, (name, marker)
        if name in ("research:projects", "research:project", "insights:alliance"):
            # what the researcher is for: export projects and pseudonymised insights
            assert response.status_code == 200, name
        elif name.startswith(("practice:", "insights:", "alerts:", "repairs:")) or (
            name in ("research:client_consent", "privacy:export", "audit:log")
        ):
            assert response.status_code in (404, 405), name

    codes = [planted.code, *(c.code for c in others)]
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        assert "items.csv" in zf.namelist()
        for member in zf.namelist():
            content = zf.read(member)
            for marker in (*MARKERS, *codes):
                assert marker.encode() not in content, (member, marker)
