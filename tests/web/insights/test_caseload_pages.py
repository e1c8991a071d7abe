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
