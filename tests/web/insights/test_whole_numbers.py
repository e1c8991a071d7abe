"""Whole-number scores read as whole numbers: "52", never "52.0" (or "12.00")."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories
from tests.web.insights import helpers

pytestmark = pytest.mark.django_db

PHQ9 = [18.0, 16.0, 12.0, 9.0, 7.0, 6.0]


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_no_page_shows_a_whole_score_with_a_decimal_point(owner_client, practitioner):
    engagement = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    helpers.outcome_series(engagement, engagement.clients.first(), "phq9", PHQ9)
    first = engagement.sessions.get(number=1)
    pages = [
        reverse("insights:dashboard", args=[engagement.pk]),
        reverse("insights:report_html", args=[engagement.pk]),
        reverse("practice:session", args=[first.pk]),
        reverse("practice:client", args=[engagement.clients.first().pk]),
    ]
    for url in pages:
        text = _text(owner_client.get(url).text)
        assert re.search(r"\b(18|6)\b", text), url  # the page does show a score
        assert re.search(r"\b(18|16|12|9|7|6)\.0+\b", text) is None, url
