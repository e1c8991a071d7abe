"""Queries compiled once per connection give what the ORM gives (issue 14 §1)."""

from __future__ import annotations

import pytest

from harmonybridge.web.checkins import storage, tokens
from harmonybridge.web.checkins.models import CheckIn
from harmonybridge.web.checkins.prepared import Prepared
from harmonybridge.web.practice.models import RaterRole
from tests.web import factories

pytestmark = pytest.mark.django_db


def _same(a, b, fields):
    return [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]


def test_the_checkin_and_its_joined_rows_match_the_orm(practitioner):
    engagement = factories.make_engagement(practitioner)
    checkin, _token = factories.make_checkin(factories.make_session(engagement))
    other, _ = factories.make_checkin(factories.make_session(engagement))
    (got,) = tokens._by_pk(pk=checkin.pk)
    want = tokens._checkins().get(pk=checkin.pk)
    fields = [f.attname for f in CheckIn._meta.concrete_fields]
    assert _same(got, want, fields)
    # select_related rows are cached on the instance, decrypted like the ORM's
    with django_queries() as n:
        assert got.session.engagement.goals == want.session.engagement.goals
        assert got.session.engagement.practice.time_zone == (
            want.session.engagement.practice.time_zone
        )
        assert got.session.engagement.is_coaching == want.session.engagement.is_coaching
        assert got.respondent.code == want.respondent.code
    assert n() == 0
    assert "name" in got.respondent.get_deferred_fields()  # never decrypted
    # the same compiled SQL serves another check-in and an unknown one
    assert tokens._by_pk(pk=other.pk)[0].pk == other.pk
    assert tokens._by_pk(pk=10**9) == []


def test_plan_entries_match_the_orm(practitioner):
    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    ids = [i.id for i in storage.due_instruments(session, RaterRole.CLIENT)]
    entries = storage._plan_entries(
        engagement.pk, RaterRole.CLIENT, engagement.practice_id
    )
    want = [e.instrument_id for e in entries if e.is_due(session.number)]
    assert ids
    assert ids == [i for i in want if i in ids]
    got = storage._entries(
        engagement=engagement.pk,
        rater_role=RaterRole.CLIENT,
        practice=engagement.practice_id,
    )
    assert [(e.pk, e.stored_wording) for e in got] == [
        (e.pk, e.stored_wording) for e in entries
    ]


def test_a_parameter_the_sql_does_not_carry_is_refused(practitioner):
    broken = Prepared(CheckIn, lambda pk: CheckIn.objects.all(), pk=int)
    with pytest.raises(ValueError, match="pk"):
        broken(pk=1)


def django_queries():
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    @contextmanager
    def counting():
        with CaptureQueriesContext(connection) as ctx:
            yield lambda: len(ctx.captured_queries)

    return counting()
