"""PDF rendering is bounded per host so report bursts never hold every web worker."""

from __future__ import annotations

import multiprocessing

import pytest
from django.urls import reverse

from harmonybridge.web.insights.pdfslots import pdf_slot
from harmonybridge.web.insights.views import report
from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories
from tests.web.insights.test_report import fill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_slots(settings, tmp_path):
    """One slot, in a directory of this test's own (parallel tests share HB_DATA_DIR)."""
    settings.DATA_DIR = tmp_path
    settings.HB_PDF_CONCURRENCY = 1


@pytest.fixture
def therapy(practitioner):
    e = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
    fill(e, practitioner)
    return e


def test_a_busy_host_answers_try_again_at_once(owner_client, therapy, monkeypatch):
    monkeypatch.setattr(report, "PDF_WAIT", 0.0)
    url = reverse("insights:report_pdf", args=[therapy.pk])
    with pdf_slot() as got:
        assert got
        busy = owner_client.get(url)
    assert busy.status_code == 503
    assert busy["Retry-After"] == "5"
    assert "try again" in busy.text
    free = owner_client.get(url)
    assert free.status_code == 200
    assert free.content.startswith(b"%PDF")


def _hold(path_ready, release) -> None:  # in another process: a second gunicorn worker
    with pdf_slot() as got:
        path_ready.put(got)
        release.wait(10)


def test_the_bound_holds_across_processes():
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Queue(), ctx.Event()
    other = ctx.Process(target=_hold, args=(ready, release))
    other.start()
    try:
        assert ready.get(timeout=10) is True
        with pdf_slot(wait=0.2) as got:
            assert got is False
    finally:
        release.set()
        other.join(10)
    with pdf_slot() as got:  # freed when the other process let go
        assert got is True


def test_two_slots_allow_two_renders(settings):
    settings.HB_PDF_CONCURRENCY = 2
    with pdf_slot() as first, pdf_slot() as second, pdf_slot() as third:
        assert (first, second, third) == (True, True, False)
