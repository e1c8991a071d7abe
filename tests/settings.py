"""Test settings: the real settings with a fast hasher, in-memory email and fixed keys."""

from __future__ import annotations

import os

os.environ.setdefault("HB_MODE", "test")
os.environ.setdefault(
    "HB_DATA_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "var", "test"),
)

from harmonybridge.web.settings import *  # the repo's only star import

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# A fixed, obviously fake key: test data is synthetic and never leaves the machine.
HB_FIELD_KEYS = ["bV9mYWtlX3Rlc3Rfa2V5X2Zvcl9maWVsZF9jcnlwdG8="]
AXES_ENABLED = False
# One process runs the tests: per-process memory is enough and needs no database.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# SQLite tests use a file database (one per process) so threaded tests see real locking.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": f"/tmp/hb-test-{os.getpid()}.sqlite3"}
# Parallel test processes share HB_DATA_DIR and so the PDF render slots; only the slot
# tests (tests/web/insights/test_pdf_slots.py, with their own directory) test the bound.
HB_PDF_CONCURRENCY = 64
