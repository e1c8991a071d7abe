#!/usr/bin/env python
"""Schemathesis against the JSON API's OpenAPI document, on a throwaway SQLite database.

Starts the app on a free port with a practice, a therapy engagement, stored answers, an
alert and a token with every scope, then runs ``schemathesis run`` with a fixed seed and
a time cap. Checks: no server error, responses that match the schema (status code,
content type, body), invalid requests rejected, and every 4xx body naming the field
(``tests/fuzz/api_checks.py``). Usage: ``.venv/bin/python .ci/api_fuzz.py [--max-time S]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261207
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "errors_name_the_field",
    )
)


def _serve() -> tuple[object, str]:
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.testcases import LiveServerThread
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)

    from harmonybridge.web.alerts.models import StoredAlert
    from harmonybridge.web.api import tokens
    from harmonybridge.web.checkins import storage
    from harmonybridge.web.checkins import tokens as checkin_tokens
    from harmonybridge.web.practice.models import RaterRole, ServiceKind
    from tests.web import factories

    user = factories.make_practitioner()
    engagement = factories.make_engagement(user, kind=ServiceKind.THERAPY)
    session = factories.make_session(engagement)
    checkin, _ = checkin_tokens.issue(session, engagement.clients.first())
    due = storage.due_instruments(session, RaterRole.CLIENT)
    storage.submit_checkin(
        checkin.pk,
        {i.id: {it.number: 1 for it in i.items} for i in due if i.id in ("phq9", "gad7")},
    )
    StoredAlert.objects.create(
        engagement=engagement, rule_id="fuzz.rule", rule_version="1",
        severity="info", message="synthetic",
    )  # fmt: skip
    _t, plain = tokens.issue(user, "fuzz", ["read", "write", "identify", "export"], 1)
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server, f"http://127.0.0.1:{server.port}", plain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=90, help="seconds (default 90)")
    parser.add_argument("--max-examples", type=int, default=15)
    args = parser.parse_args()
    _server, base, token = _serve()
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.api_checks", "PYTHONPATH": str(ROOT)}
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run",
        f"{base}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--seed", str(SEED),
        "--max-examples", str(args.max_examples),
        "--max-time", str(args.max_time),
        "--workers", "1",
        "--no-color",
    ]  # fmt: skip
    return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
