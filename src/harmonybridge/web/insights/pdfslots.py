"""Bounded PDF rendering: at most ``HB_PDF_CONCURRENCY`` renders at once on this host.

WeasyPrint takes about a second of CPU per report. Without a bound, a burst of report
requests holds every web worker and the clients' check-ins wait behind them. Each slot
is an exclusive ``flock`` on a file under ``HB_DATA_DIR``, so the bound holds across
all worker processes of the host (gunicorn forks) and a crashed worker frees its slot
with its file descriptor. A request that finds no free slot within its wait gets
``None`` and answers "busy, try again" at once instead of holding a worker.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")

#: How much nicer than the web worker the rendering thread runs (Linux thread nice).
#: The client's check-ins on the same host then get the CPU first (issue 14 §5).
RENDER_NICE = 10


def _slot_files() -> list[Path]:
    n = max(1, int(getattr(settings, "HB_PDF_CONCURRENCY", 1)))
    folder = Path(settings.DATA_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return [folder / f"pdf-slot-{i}.lock" for i in range(n)]


def _try_take(paths: list[Path]) -> int | None:
    for path in paths:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


@contextmanager
def pdf_slot(wait: float = 0.0) -> Iterator[bool]:
    """Yield True holding a render slot, or False when none came free within ``wait`` s."""
    paths = _slot_files()
    deadline = time.monotonic() + wait
    fd = _try_take(paths)
    while fd is None and time.monotonic() < deadline:
        time.sleep(0.05)
        fd = _try_take(paths)
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def at_low_priority(work: Callable[[], T]) -> T:
    """Run CPU-heavy ``work`` (WeasyPrint's layout) in a thread of lower CPU priority.

    Linux gives each thread its own nice value: the thread lowers its own priority and
    ends with the work, so the web worker itself keeps its priority for the next
    request (a process cannot raise its priority again once lowered). The calling
    request waits for the result, as it would for the work done inline. ``work`` must
    not use the database (the thread's connection would be a new one).
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            # not allowed here (or not Linux): render at the usual priority
            with suppress(OSError, AttributeError):
                os.setpriority(
                    os.PRIO_PROCESS,
                    threading.get_native_id(),
                    _nice_now() + RENDER_NICE,
                )
            result["value"] = work()
        except BaseException as exc:  # handed to the caller, raised there
            result["error"] = exc

    thread = threading.Thread(target=run, name="hb-pdf-render")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]


def _nice_now() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
