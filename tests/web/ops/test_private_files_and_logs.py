"""The SQLite file is owner-only and runserver's request lines mask check-in tokens.

Issue 9, faults 11 and 12: demo mode (``make run``, Django's runserver) logged full
check-in tokens because the ``django.server`` logger had Django's own handler without
the redaction filter; the SQLite database file was created 0644 while the key files
next to it are 0600.
"""

from __future__ import annotations

import stat
import subprocess
import sys

from tests.web.security.production import REPO, production_env, run_manage

TOKEN = "tok_ZZCANARY_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


def test_runserver_request_lines_mask_checkin_tokens(tmp_path):
    env = production_env(
        tmp_path / "data",
        HB_MODE="demo",
        DJANGO_SETTINGS_MODULE="harmonybridge.web.settings",
    )
    # What django.core.servers.basehttp.WSGIRequestHandler.log_message does per request.
    script = (
        "import django, logging; django.setup();"
        "logging.getLogger('django.server').info("
        f"'\"%s\" %s %s', 'GET /c/t/{TOKEN}/ HTTP/1.1', '302', '0',"
        " extra={'status_code': 302})"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    logged = done.stdout + done.stderr
    assert "/c/t/[redacted]" in logged
    assert TOKEN not in logged


def test_sqlite_database_is_created_owner_only(tmp_path):
    data = tmp_path / "data"
    env = production_env(data)
    done = run_manage(env, "migrate", "-v", "0")
    assert done.returncode == 0, done.stderr
    files = sorted(data.glob("harmonybridge.sqlite3*"))
    assert files, list(data.iterdir())
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
