"""Run code under the real production settings in a child process (settings load once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[3]


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a real deployment sets (docs/deployment.md), nothing more."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HB_MODE": "production",
        "SECRET_KEY": "k" + Fernet.generate_key().decode("ascii") * 2,
        "HB_FIELD_KEYS": Fernet.generate_key().decode("ascii"),
        "ALLOWED_HOSTS": "hb.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://hb.example.org",
        "HB_PUBLIC_BASE_URL": "https://hb.example.org",
        "HB_TRUSTED_PROXIES": "127.0.0.1",
        "HB_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(REPO),
    }
    env.update(extra)
    return env


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harmonybridge", "manage", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


SCRIPT = r"""
import json, django, sys
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
call_command("collectstatic", verbosity=0, interactive=False)
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
from harmonybridge.web.accounts.models import Practice, User
from allauth.mfa.totp.internal.auth import TOTP
out = {}
c = Client(HTTP_HOST="hb.example.org")
plain = c.get("/accounts/login/", secure=False)
out["http"] = {"status": plain.status_code, "location": plain.get("Location", "")}
r = c.get("/accounts/login/", secure=True)
out["login"] = {"status": r.status_code, "headers": dict(r.headers),
                "cookies": {k: {"secure": bool(v["secure"]), "httponly": bool(v["httponly"]),
                                "samesite": v["samesite"], "path": v["path"], "domain": v["domain"]}
                            for k, v in r.cookies.items()}}
p = Practice.objects.create(name="P")
u = User.objects.create_user("staffer", password="a long synthetic passphrase 42", practice=p, role="practitioner")
c2 = Client(HTTP_HOST="hb.example.org")
r = c2.post("/accounts/login/", {"login": "staffer", "password": "a long synthetic passphrase 42"}, secure=True)
out["login_post"] = {"status": r.status_code, "location": r.get("Location", ""),
                     "cookies": {k: {"secure": bool(v["secure"]), "httponly": bool(v["httponly"]),
                                     "samesite": v["samesite"], "path": v["path"], "domain": v["domain"]}
                                 for k, v in r.cookies.items()}}
r = c2.get("/", secure=True)
out["home_without_mfa"] = {"status": r.status_code, "location": r.get("Location", ""),
                           "headers": dict(r.headers)}
print("JSON:" + json.dumps(out))
"""


def probe(data_dir: Path) -> dict[str, Any]:
    """Return headers, cookies and redirects observed under production settings."""
    env = production_env(data_dir, DJANGO_SETTINGS_MODULE="harmonybridge.web.settings")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("JSON:"):
            return json.loads(line[5:])
    raise AssertionError(f"probe failed: {done.stderr[-3000:]}")
