"""The caseload is paginated; its query count does not grow with the number of engagements."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from harmonybridge.web.insights.views import caseload as view
from tests.web import factories

pytestmark = pytest.mark.django_db


def _listed(response) -> list[str]:
    return re.findall(r'href="/insights/engagements/(\d+)/"', response.text)


def _queries(client, **params) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("insights:caseload"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_pages_split_the_caseload_and_keep_the_sort(
    owner_client, practitioner, monkeypatch
):
    monkeypatch.setattr(view, "PAGE_SIZE", 3)
    made = {str(factories.make_engagement(practitioner).pk) for _ in range(7)}
    pages = [_queries(owner_client, sort="client", page=n)[1] for n in (1, 2, 3)]
    listed = [_listed(p) for p in pages]
    assert [len(x) for x in listed] == [3, 3, 1]
    assert {pk for x in listed for pk in x} == made
    assert "Page 1 of 3 (7 engagements)" in pages[0].text
    assert "page=2&amp;sort=client" in pages[0].text


def test_query_count_does_not_grow_with_engagements(
    owner_client, practitioner, monkeypatch
):
    monkeypatch.setattr(view, "PAGE_SIZE", 3)
    for _ in range(4):
        factories.make_engagement(practitioner)
    small, _r = _queries(owner_client)
    for _ in range(8):
        factories.make_engagement(practitioner)
    large, response = _queries(owner_client)
    assert len(_listed(response)) == 3
    assert large == small


def _rows(response) -> list[str]:
    """The caseload table's rows only (the safety card above links the engagement too)."""
    return re.findall(r'<td><a href="/insights/engagements/(\d+)/">', response.text)


def test_the_database_sorts_by_urgency_and_counts_every_page(
    owner_client, practitioner, monkeypatch
):
    from harmonybridge.web.alerts.models import SafetyNotice

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    made = [factories.make_engagement(practitioner) for _ in range(5)]
    urgent = made[2]
    SafetyNotice.objects.create(
        engagement=urgent, session=factories.make_session(urgent)
    )
    first = _queries(owner_client, page=1)[1]
    assert _rows(first)[0] == str(urgent.pk)
    last = _queries(owner_client, page=3)[1]
    assert len(_rows(last)) == 1
    # the counts are of the whole caseload, whichever page is shown
    for page in (first, last):
        assert "Safety item: 1</a>" in page.text
        assert "No data yet: 5</a>" in page.text
    assert _rows(_queries(owner_client, status="safety")[1]) == [str(urgent.pk)]
    # past the end: the last page, as before
    assert _rows(_queries(owner_client, page=9)[1]) == _rows(last)
    every = {pk for n in (1, 2, 3) for pk in _rows(_queries(owner_client, page=n)[1])}
    assert every == {str(e.pk) for e in made}


def _correlated_subqueries(sql: str, params: list) -> int:
    """How many correlated subqueries the database plans for ``sql`` (each runs once
    per row it is planned for)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return sum("CORRELATED" in str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return str(cursor.fetchone()[0]).count("SubPlan")


@pytest.mark.parametrize("role", ["admin", "practitioner"])
def test_the_status_inputs_are_computed_once_per_engagement(role):
    """Each input of the status rule is planned once, whoever asks: the admin's query
    has no DISTINCT, and the database must not copy the inputs into every flag that
    reads them (it did, and the admin's caseload of 5,000 took six times as long)."""
    from django.db.models import F

    from harmonybridge.web.insights import status as st
    from harmonybridge.web.practice.policy import engagements_for

    user = factories.make_practitioner(role=role)
    factories.make_engagement(user)
    values = (
        st.annotate(engagements_for(user), user)
        .annotate(r_pk=F("pk"))
        .values("r_pk", *st.FIELDS)
    )
    once = _correlated_subqueries(*values.order_by().query.sql_with_params())
    assert once >= len(st.FIELDS)
    assert _correlated_subqueries(*st.state_sql(values)) == once
