"""The practice's data version (issue 14 §7): raised by every write the analyses read,
unchanged by reads, per practice, and read in constant time by the cached Insights page.

Before, ``analyses.data_version`` aggregated every score, response, session, engagement
and engagement client of the practice on each request (1.1 s a page at 1,455
engagements). Now it reads the practice's data stamp (ADR 0017).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from harmonybridge.web.accounts.models import Role
from harmonybridge.web.checkins import revisions, storage
from harmonybridge.web.checkins.models import Response, Score
from harmonybridge.web.insights import alliance_display, alliance_tasks, analyses
from harmonybridge.web.practice import catalogue, conventions, datastamp
from harmonybridge.web.practice.models import (
    DataStamp,
    Engagement,
    EngagementClient,
    EngagementStatus,
    TherapySession,
)
from harmonybridge.web.practice.policy import insights_scope
from harmonybridge.web.privacy.services import erase_client
from tests.web import factories
from tests.web.checkins.helpers import full_post, open_link

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[3] / "src" / "harmonybridge"
RATING = {1: 5, 2: 4, 3: 3, 4: 0}  # hb_checkin_practitioner, as in test_commands


def _world():
    """A practice with one engagement, one session and a practitioner's rating."""
    admin = factories.make_practitioner(role=Role.ADMIN)
    lead = factories.make_practitioner(admin.practice)
    client = factories.make_client(lead)
    engagement = factories.make_engagement(lead, [client])
    session = factories.make_session(engagement)
    inst = catalogue.instrument_for(admin.practice, "hb_checkin_practitioner")
    stored = storage.store_practitioner_rating(session, inst, RATING, lead, None)
    return {
        "admin": admin,
        "lead": lead,
        "client": client,
        "engagement": engagement,
        "session": session,
        "inst": inst,
        "response": stored.responses[0],
    }


def _edit(web, w, **changes):
    """POST the engagement's edit page (what a practitioner does to close, reopen,
    add or remove a client)."""
    e = w["engagement"]
    data = {
        "service_line": e.service_line_id,
        "start_date": "2026-01-01",
        "status": e.status,
        "clients": [c.pk for c in e.clients.all()],
        **changes,
    }
    web.force_login(w["lead"])
    response = web.post(reverse("practice:engagement_edit", args=[e.pk]), data)
    assert response.status_code == 302, response.text[:2000]


def _submit_checkin(web, w):
    checkin, token = factories.make_checkin(w["session"], w["client"])
    open_link(web, token)
    response = web.post("/c/submit", full_post(checkin, value="low"))
    assert response["Location"] == "/c/done"
    assert Response.objects.filter(checkin=checkin).exists()


def _reopen_setup(w):
    # QuerySet.update sends no signal: the closing itself is not what is measured
    Engagement.objects.filter(pk=w["engagement"].pk).update(
        status=EngagementStatus.CLOSED
    )
    w["engagement"].refresh_from_db()


def _remove_setup(w):
    w["second"] = factories.make_client(w["lead"])
    EngagementClient.objects.create(engagement=w["engagement"], client=w["second"])


def _add_setup(w):
    w["second"] = factories.make_client(w["lead"])


def _modality(w):
    session = TherapySession.objects.get(pk=w["session"].pk)
    session.modality = "video"
    session.save()


def _score_saved(w):
    score = Score.objects.filter(response=w["response"]).first()
    score.value = 1.0
    score.save()


def _convention(w):
    conventions.save(w["admin"].practice, "gad7", "spitzer_2006", w["admin"])


#: name -> (set-up before the version is read, the write)
WRITES = {
    "engagement closed (edit page)": (
        None,
        lambda web, w: _edit(web, w, status=EngagementStatus.CLOSED),
    ),
    "engagement reopened (edit page)": (
        _reopen_setup,
        lambda web, w: _edit(web, w, status=EngagementStatus.ACTIVE),
    ),
    "client added (edit page)": (
        _add_setup,
        lambda web, w: _edit(web, w, clients=[w["client"].pk, w["second"].pk]),
    ),
    "client removed (edit page)": (
        _remove_setup,
        lambda web, w: _edit(web, w, clients=[w["client"].pk]),
    ),
    "engagement created": (
        None,
        lambda web, w: factories.make_engagement(w["lead"], [w["client"]]),
    ),
    "session created": (None, lambda web, w: factories.make_session(w["engagement"])),
    "session changed": (None, lambda web, w: _modality(w)),
    "session deleted (cascades answers)": (
        None,
        lambda web, w: TherapySession.objects.filter(pk=w["session"].pk).delete(),
    ),
    "check-in submitted (bulk insert)": (None, _submit_checkin),
    "practitioner rating stored (bulk insert)": (
        None,
        lambda web, w: storage.store_practitioner_rating(
            factories.make_session(w["engagement"]), w["inst"], RATING, w["lead"], None
        ),
    ),
    "response corrected": (
        None,
        lambda web, w: revisions.correct_response(
            w["response"], w["inst"], {1: 1, 2: 1, 3: 1, 4: 0}, w["lead"], None
        ),
    ),
    "scores recomputed": (None, lambda web, w: storage.rescore(w["response"])),
    "score saved (ORM)": (None, lambda web, w: _score_saved(w)),
    "scores deleted (QuerySet.delete)": (
        None,
        lambda web, w: Score.objects.filter(response=w["response"]).delete(),
    ),
    "client erased": (
        None,
        lambda web, w: erase_client(w["client"], actor=w["admin"]),
    ),
    "caseness convention changed": (None, lambda web, w: _convention(w)),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_every_write_the_analyses_read_changes_the_version(name, client):
    setup, write = WRITES[name]
    w = _world()
    if setup is not None:
        setup(w)
    practice_id = w["admin"].practice_id
    before = analyses.data_version(practice_id)
    write(client, w)
    assert analyses.data_version(practice_id) != before


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_leaves_another_practices_version_alone(name, client):
    other = _world()
    before = analyses.data_version(other["admin"].practice_id)
    setup, write = WRITES[name]
    w = _world()
    if setup is not None:
        setup(w)
    write(client, w)
    assert analyses.data_version(other["admin"].practice_id) == before


def test_a_rolled_back_write_leaves_the_version_alone():
    from django.db import transaction

    w = _world()
    before = analyses.data_version(w["admin"].practice_id)

    def failing_write():
        with transaction.atomic():
            factories.make_session(w["engagement"])
            raise RuntimeError("the write fails")

    with pytest.raises(RuntimeError):
        failing_write()
    assert analyses.data_version(w["admin"].practice_id) == before


def test_a_rewound_counter_never_repeats_a_version():
    """A restored backup rewinds the counter while a cache outside the database keeps
    the figures of the later versions: the next raise must not reuse one of them."""
    w = _world()
    practice_id = w["admin"].practice_id
    stamp = DataStamp.objects.get(practice_id=practice_id)
    datastamp.touch(practice_id)
    later = analyses.data_version(practice_id)
    DataStamp.objects.filter(practice_id=practice_id).update(version=stamp.version)
    datastamp.touch(practice_id)  # the same counter value as ``later`` again
    assert DataStamp.objects.get(practice_id=practice_id).version == stamp.version + 1
    assert analyses.data_version(practice_id) != later


def test_reads_do_not_change_the_version(client):
    w = _world()
    practice_id = w["admin"].practice_id
    before = analyses.data_version(practice_id)
    scope = insights_scope(w["admin"])
    analyses.practice_frame(scope, analyses.Filters())
    analyses.compute(scope, analyses.Filters())
    client.force_login(w["admin"])
    for _ in range(2):
        assert client.get(reverse("insights:alliance")).status_code == 200
    client.force_login(w["lead"])
    dashboard = reverse("insights:dashboard", args=[w["engagement"].pk])
    assert client.get(dashboard).status_code == 200
    assert analyses.data_version(practice_id) == before


# --- the cached page ----------------------------------------------------------------

#: Tables that grow with the practice's data.
_GROWING = ("checkins_score", "checkins_response", "checkins_answer")
_GROWING += ("practice_therapysession", "practice_engagementclient")
_STUB = {
    "n_engagements": 0,
    "n_practitioners": 0,
    "summary": "stub",
    "outcomes": [],
    "general": [],
    "prediction": [],
    "notes": ["stub figures"],
}


def _sql(fn, *args):
    with CaptureQueriesContext(connection) as ctx:
        fn(*args)
    return [q["sql"].lower() for q in ctx.captured_queries]


def test_the_data_version_is_two_reads_by_key():
    """The stamp and the caseness conventions; no table of the practice's data."""
    w = _world()
    queries = _sql(analyses.data_version, w["admin"].practice_id)
    assert len(queries) == 2
    for sql in queries:
        for table in (*_GROWING, "practice_engagement"):
            assert table not in sql, sql


def test_the_leads_are_found_without_reading_every_engagement():
    """One query over the practice's staff, each an index probe of the engagements."""
    w = _world()
    (sql,) = _sql(alliance_display._leads, insights_scope(w["admin"]))
    assert 'from "accounts_user"' in sql
    assert "exists" in sql
    # the probe is by lead alone: with the practice too, SQLite walked the practice's
    # engagements one by one for a member of staff who leads none
    assert sql.count("practice_id") == 1, sql
    assert alliance_display._leads(insights_scope(w["admin"])) == [w["lead"].pk]


def _practice_with(n: int):
    admin = factories.make_practitioner(role=Role.ADMIN)
    staff = [admin, factories.make_practitioner(admin.practice)]
    for k in range(n):
        lead = staff[k % 2]
        session = factories.make_session(factories.make_engagement(lead))
        inst = catalogue.instrument_for(admin.practice, "hb_checkin_practitioner")
        storage.store_practitioner_rating(session, inst, RATING, lead, None)
    return admin


def _cached_page_queries(web, n: int, monkeypatch) -> list[str]:
    admin = _practice_with(n)
    # the fit is not what is measured: the worker's result is a fixed stub
    monkeypatch.setattr(alliance_tasks, "compute", lambda *a, **k: dict(_STUB))
    web.force_login(admin)
    url = reverse("insights:alliance")
    assert "stub figures" in web.get(url).text  # fills the cache
    with CaptureQueriesContext(connection) as ctx:
        page = web.get(url)
    assert "stub figures" in page.text
    return [q["sql"] for q in ctx.captured_queries]


def test_the_cached_page_costs_the_same_queries_at_3_and_30_engagements(
    client, monkeypatch
):
    small = _cached_page_queries(client, 3, monkeypatch)
    large = _cached_page_queries(client, 30, monkeypatch)
    assert len(large) == len(small)
    assert len(small) <= 12


# --- writes that send no signal ----------------------------------------------------

_WATCHED = r"(?:Engagement|EngagementClient|TherapySession|Response|Score)"
_BULK = re.compile(
    rf"\b{_WATCHED}\.objects\.(?:bulk_create|bulk_update|update|raw)\("
    rf"|\b{_WATCHED}\.objects\.[^\n]*\)\.update\("
    rf"|insert_rows\(\s*{_WATCHED}\b"
)


def test_every_module_writing_analysed_rows_without_signals_raises_the_stamp():
    """``bulk_create``, ``QuerySet.update`` and the raw inserts send no signal: a
    module that uses them on a model the analyses read raises the stamp itself
    (a textual guard; a write spread over several lines escapes it)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        if _BULK.search(text) and "datastamp.touch" not in text:
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []
