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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings


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
