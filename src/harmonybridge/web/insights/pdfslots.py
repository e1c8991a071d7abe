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
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")

#: How much nicer than the web worker the render process runs.
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


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _render_pool() -> ProcessPoolExecutor:
    """This worker's render process, started on first use from a fork server that has
    WeasyPrint imported (so a render does not pay the import, and the child holds none
    of the web worker's threads, sockets or database connections)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["harmonybridge.reports.pdf", "weasyprint"])
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_lower_priority
            )
        return _pool


def _lower_priority() -> None:
    # not allowed here: render at the usual priority
    with suppress(OSError):
        os.nice(RENDER_NICE)


def in_render_process(work: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy ``work(*args)`` (WeasyPrint's layout) in this worker's render
    process, ``RENDER_NICE`` nicer than the web worker, and wait for its result.

    A thread of the web worker, even a nicer one, held the interpreter lock its
    check-in threads needed: submits during a burst of report requests waited up to
    1.6 s (issue 14 §5). The waiting request's thread releases the lock; ``work`` and
    its arguments and result cross the process boundary (picklable, module-level), and
    ``work`` must not use the database.
    """
    try:
        return _render_pool().submit(work, *args).result()
    except BrokenProcessPool:
        # the render process died (killed, out of memory): start a new one next time
        global _pool
        with _pool_lock:
            _pool = None
        raise
