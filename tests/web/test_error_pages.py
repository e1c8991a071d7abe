"""Styled error pages and a favicon: a lost person sees the site, not a bare server page."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_unknown_address_gets_the_styled_404_page(client):
    response = client.get("/practice/no-such-page")
    assert response.status_code == 404
    html = response.text
    assert '<link rel="stylesheet" href="/static/hb/site.css">' in html
    assert "<h1>Page not found</h1>" in html
    assert 'href="/"' in html  # a way back


def test_a_server_error_gets_a_styled_page_without_any_request_data():
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/boom"))
    assert response.status_code == 500
    html = response.content.decode()
    assert '<link rel="stylesheet" href="/static/hb/site.css">' in html
    assert "<h1>Something went wrong</h1>" in html


def test_every_page_names_a_favicon_that_is_served(client):
    html = client.get(reverse("account_login")).text
    (href,) = re.findall(r'<link rel="icon" href="([^"]+)"', html)
    assert href.endswith(".svg")
    from django.contrib.staticfiles import finders

    assert finders.find(href.removeprefix("/static/")) is not None
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 301
    assert redirect["Location"] == href
