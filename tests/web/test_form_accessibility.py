"""Forms are labelled for screen readers: every aria-describedby names an element there.

Django adds ``aria-describedby="id_X_helptext"`` to a widget whose field has help text;
a page that prints the help text under another id leaves the reference dangling (WCAG
1.3.1, 4.1.2).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from harmonybridge.web.accounts.models import Role
from tests.web import factories

pytestmark = pytest.mark.django_db


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for ref in (values.get("aria-describedby") or "").split():
            self.described_by.append(ref)


def dangling_references(html: str) -> list[str]:
    """The aria-describedby ids of a page that no element of the page carries."""
    parser = _Ids()
    parser.feed(html)
    return [ref for ref in parser.described_by if ref not in parser.ids]


def _form_pages(client, practitioner) -> list[str]:
    engagement = factories.make_engagement(practitioner)
    session = factories.make_session(engagement)
    patient = engagement.clients.first()
    return [
        reverse("practice:client_create"),
        reverse("practice:client_edit", args=[patient.pk]),
        reverse("practice:engagement_create", args=[patient.pk]),
        reverse("practice:engagement_edit", args=[engagement.pk]),
        reverse("practice:engagement", args=[engagement.pk]),
        reverse("practice:session", args=[session.pk]),
        reverse("repairs:record", args=[engagement.pk, session.pk]),
    ]


def test_every_staff_form_describes_its_fields_with_ids_that_exist(client):
    admin = factories.make_practitioner(role=Role.ADMIN)
    client.force_login(admin)
    pages = [*_form_pages(client, admin), reverse("practice:admin")]
    described = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.text
        assert dangling_references(html) == [], url
        described += html.count("aria-describedby=")
    assert described >= 5  # the forms do describe fields (help texts exist)


def test_the_sign_in_form_describes_its_fields_with_ids_that_exist(client):
    html = client.get(reverse("account_login")).text
    assert dangling_references(html) == []
