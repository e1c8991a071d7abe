"""The shipped gunicorn configuration never takes SCRIPT_NAME from a request header.

Issue 9, fault 1, tested straight against gunicorn (nginx drops headers with
underscores, so a test through a proxy would not see the attack). gunicorn serves a
tiny app that echoes its WSGI environ, from the address a same-host proxy uses
(127.0.0.1, which gunicorn trusts for forwarded headers by default). The whole attack
against the real app under this configuration is in ``tests/smoke/prod_smoke.py``
(run by ``.ci/run``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.smoke.prod_smoke import REPO, free_port, request

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


@contextmanager
def echo_server(*config: str, **env: str) -> Iterator[int]:
    port = free_port()
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{REPO}:{REPO / 'src'}",
        "HB_BIND": f"127.0.0.1:{port}",
        "HB_WORKERS": "1",
        **env,
    }
    proc = subprocess.Popen(
        [
            GUNICORN,
            *config,
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "tests.smoke.echo_wsgi:application",
        ],
        env=environ,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                request(port, "GET", "/")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stderr.read().decode()[-2000:]) from None
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def _environ(port: int, path: str, headers: dict[str, str]) -> dict[str, str]:
    status, _, body = request(port, "GET", path, headers=headers)
    assert status == 200
    return json.loads(body)


ATTACK = {"SCRIPT_NAME": "/accounts", "PATH_INFO": "/accounts/x"}


def test_gunicorn_defaults_take_script_name_from_the_proxy_address():
    """Why the shipped file is needed: without it the probe's header reaches Django."""
    with echo_server() as port:
        seen = _environ(port, "/accounts/insights/", ATTACK)
    assert seen["SCRIPT_NAME"] == "/accounts"


def test_shipped_configuration_ignores_script_name_and_path_info_headers():
    with echo_server("-c", "python:harmonybridge.web.gunicorn_conf") as port:
        seen = _environ(port, "/accounts/insights/", ATTACK)
    assert seen["SCRIPT_NAME"] == ""
    assert seen["PATH_INFO"] == "/accounts/insights/"


def test_shipped_configuration_trusts_forwarded_proto_only_from_trusted_proxies():
    headers = {"X-Forwarded-Proto": "https"}
    conf = ("-c", "python:harmonybridge.web.gunicorn_conf")
    with echo_server(*conf, HB_TRUSTED_PROXIES="127.0.0.1") as port:
        assert _environ(port, "/", headers)["wsgi.url_scheme"] == "https"
    with echo_server(*conf, HB_TRUSTED_PROXIES="10.0.0.1") as port:
        assert _environ(port, "/", headers)["wsgi.url_scheme"] == "http"
