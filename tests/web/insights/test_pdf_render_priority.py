"""PDF layout runs in the worker's render process, nicer than the web worker, which keeps
its own priority and its interpreter lock for check-ins (issue 14 §5).

A nicer *thread* was not enough: it held the interpreter lock the worker's check-in
threads needed, and submits during a burst of report requests waited up to 1.6 s.
"""

from __future__ import annotations

import os

import pytest

from harmonybridge.web.insights import pdfslots


def test_the_work_runs_in_another_process_nicer_and_the_caller_keeps_its_priority():
    before = os.nice(0)
    pid = pdfslots.in_render_process(os.getpid)
    assert pid != os.getpid()  # not the web worker
    assert pdfslots.in_render_process(os.nice, 0) == min(
        before + pdfslots.RENDER_NICE, 19
    )
    assert os.nice(0) == before  # the next request of this worker is not slowed
    assert pdfslots.in_render_process(os.getpid) == pid  # one render process, reused


def test_an_error_in_the_work_reaches_the_caller():
    with pytest.raises(ValueError, match="invalid literal"):
        pdfslots.in_render_process(int, "not a number")


def test_the_layout_is_a_pdf():
    from harmonybridge.reports.pdf import layout_pdf

    pdf = pdfslots.in_render_process(layout_pdf, "<h1>Progress report</h1>")
    assert pdf.startswith(b"%PDF-")
