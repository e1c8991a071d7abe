"""PDF layout runs in a thread of lower CPU priority; the web worker keeps its own (issue 14 §5)."""

from __future__ import annotations

import os
import threading

import pytest

from harmonybridge.web.insights import pdfslots


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_work_runs_nicer_and_the_caller_keeps_its_priority():
    before = _nice()
    seen = pdfslots.at_low_priority(lambda: (_nice(), threading.get_native_id()))
    nice, thread_id = seen
    assert thread_id != threading.get_native_id()  # not the request's own thread
    assert nice == min(before + pdfslots.RENDER_NICE, 19)
    assert _nice() == before  # the next request of this worker is not slowed


def test_an_error_in_the_work_reaches_the_caller():
    def fail() -> None:
        raise ImportError("no WeasyPrint here")

    with pytest.raises(ImportError, match="no WeasyPrint here"):
        pdfslots.at_low_priority(fail)
