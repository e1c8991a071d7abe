"""The check-in screen works without JavaScript and is labelled for screen readers."""

from __future__ import annotations

import re

import pytest

from tests.web import factories
from tests.web.checkins.helpers import open_link

pytestmark = pytest.mark.django_db


def test_every_question_is_a_fieldset_with_a_legend_and_labelled_radios(
    client, session
):
    _checkin, token = factories.make_checkin(session)
    open_link(client, token)
    html = client.get("/c/").text
    # htmx only adds saving on each change (and our own script scrolls the crisis
    # text into view); the form posts without JavaScript too.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/django_htmx/htmx-2.min.js" defer>',
        '<script src="/static/hb/checkin.js" defer>',
    ]
    assert 'method="post" action="/c/' in html
    assert " style=" not in html  # strict CSP: no inline styles
    fieldsets = re.findall(r"<fieldset.*?</fieldset>", html, flags=re.S)
    assert fieldsets
    for fs in fieldsets:
        assert "<legend>" in fs
        for radio_id in re.findall(r'<input type="radio"[^>]*id="([^"]+)"', fs):
            assert f'for="{radio_id}"' in fs
    assert 'name="viewport"' in html
    assert "Part 1 of" in html


def test_checkin_pages_keep_a_referrer_policy_that_lets_forms_post(client, session):
    """Under no-referrer a browser posts with "Origin: null", which CSRF refuses."""
    _checkin, token = factories.make_checkin(session)
    open_link(client, token)
    response = client.get("/c/")
    assert response["Referrer-Policy"] == "same-origin"
