"""Opening an engagement: find clients by name or code instead of scrolling every code."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from harmonybridge.web.practice.forms import matching_clients
from harmonybridge.web.practice.models import Client
from tests.web import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def caseload(practitioner):
    names = ["Ada Lovelace", "Zoë Ådahl", "Grace Hopper", "Alan Turing", ""]
    return [factories.make_client(practitioner, name=n) for n in names]


def _listed(html: str) -> list[str]:
    """The client choices the page offers (their labels)."""
    block = re.search(r'<div id="id_clients".*?</div>\s*</fieldset>', html, re.S)
    assert block is not None
    return [
        re.sub(r"\s+", " ", label).strip()
        for label in re.findall(
            r"<label[^>]*>\s*<input[^>]*>(.*?)</label>", block[0], re.S
        )
    ]


def test_clients_are_offered_by_name_and_code(owner_client, caseload):
    ada = caseload[0]
    html = owner_client.get(reverse("practice:engagement_create", args=[ada.pk])).text
    listed = _listed(html)
    assert f"Ada Lovelace ({ada.code})" in listed
    assert caseload[-1].code in listed  # a client without a name shows the code


def test_without_javascript_a_search_narrows_the_list(owner_client, caseload):
    ada, zoe, grace, _alan, nameless = caseload
    url = reverse("practice:engagement_create", args=[grace.pk])
    listed = _listed(owner_client.get(url, {"q": "ada"}).text)
    # "ada" matches Ada and (accents and case folded) Zoë Ådahl; the client the page
    # was opened for stays on the list so it is not lost.
    assert listed == [c.label for c in sorted((ada, zoe, grace), key=lambda c: c.code)]
    by_code = _listed(owner_client.get(url, {"q": nameless.code.lower()}).text)
    assert by_code == [c.label for c in sorted((nameless, grace), key=lambda c: c.code)]


def test_the_search_box_filters_in_the_page_with_a_script_file(owner_client, caseload):
    html = owner_client.get(
        reverse("practice:engagement_create", args=[caseload[0].pk])
    ).text
    assert re.search(r'<form method="get"[^>]*role="search"', html)
    assert 'type="search"' in html
    assert '<script src="/static/hb/client-filter.js" defer></script>' in html


def test_matching_is_on_decrypted_names_and_codes(practitioner, caseload):
    clients = Client.objects.filter(pk__in=[c.pk for c in caseload])
    assert matching_clients(clients, "TUR") == [caseload[3].pk]
    assert matching_clients(clients, "  ") == sorted(c.pk for c in caseload)
    assert matching_clients(clients, "zoe adahl") == [caseload[1].pk]
