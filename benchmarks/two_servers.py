"""Two app servers, one worker, one PostgreSQL: the multi-server layout proven end to end.

Starts two gunicorn instances (different free ports, each with its own data directory:
only the environment's SECRET_KEY and HB_FIELD_KEYS are shared, as behind a load
balancer) and one ``db_worker``, all on one fresh PostgreSQL database, then checks:

1. a check-in opened on server A is finished on server B (cookie, CSRF and draft work
   across servers) and its answers are stored;
2. failed sign-ins spread over both servers lock the account on both (django-axes,
   in the database), and the per-address sign-in rate limit counts attempts on both
   (allauth, in the shared database cache);
3. an alert evaluation queued by a submit on one server is run once, by the worker;
4. 20 concurrent submits of one check-in spread over both servers store one response
   per instrument.

Prints each check with its time and exits non-zero when one fails. Issue 14 asks for it
in ``.ci/run`` on PostgreSQL within about 2 minutes. ``--pg`` names the server (default:
the server of ``DATABASE_URL``, else ``postgres://postgres@127.0.0.1:5432``); the script
creates and drops its own database there.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "a long synthetic password"

SEED = r"""
import json, django
django.setup()
from django.db import transaction
from harmonybridge.web.accounts.models import Practice, User
from harmonybridge.web.checkins import storage, tokens
from harmonybridge.web.checkins.forms import shown_items
from harmonybridge.web.practice import services
from harmonybridge.web.research.models import ConsentRecord
from harmonybridge.web.practice.models import (Client, Engagement, EngagementClient,
    RaterRole, ServiceLine, TherapySession)
with transaction.atomic():
    practice = Practice.objects.create(name="Two-server practice")
    services.ensure_service_lines(practice)
    lead = User.objects.create_user("two-lead", password=%(password)r, practice=practice,
                                    role="practitioner")
    line = ServiceLine.objects.get(practice=practice, name="Individual therapy")
    client = Client.objects.create(practice=practice, practitioner=lead, code="T-0001")
    # check-in links need the client's care consent on record
    ConsentRecord.objects.create(client=client, purpose="care", decision="given",
                                 sheet_version="care", recorded_by=lead)
    eng = Engagement.objects.create(practice=practice, lead=lead, service_line=line)
    eng.practitioners.add(lead)
    EngagementClient.objects.create(engagement=eng, client=client)
    services.apply_default_plan(eng)
    sessions = [TherapySession.objects.create(engagement=eng, number=k) for k in (1, 2, 3)]
    out = {"engagement": eng.pk, "checkins": []}
    for s in sessions:
        checkin, token = tokens.issue(s, client)
        out["checkins"].append([checkin.pk, token])
    form = {}
    for inst in storage.due_instruments(sessions[0], RaterRole.CLIENT):
        for it in shown_items(inst):
            if it.condition is None:
                values = inst.scales[it.scale].values
                form[f"{inst.id}-i{it.number}"] = str(values[len(values) // 2])
    out["form"] = form
    out["instruments"] = len({k.split("-")[0] for k in form})
print("SEED:" + json.dumps(out))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One person's browser: cookies for 127.0.0.1 shared by both servers (one site)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, port: int, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{port}{path}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            for raw in resp.msg.get_all("Set-Cookie") or []:
                name, _, rest = raw.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
            if m:
                self.csrf = m.group(1)
            return resp.status, resp.getheader("Location") or "", text
        finally:
            conn.close()


def wait_up(port: int, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server on {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on {port} did not answer /healthz")


def query(url: str, sql: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params or None)
        return list(cursor) if cursor.description else []


class Report:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, ok: bool, what: str, started: float) -> None:
        took = time.perf_counter() - started
        print(f"{'ok  ' if ok else 'FAIL'} {what} ({took:.1f} s)")
        self.failed += not ok


def login(browser: Browser, port: int, username: str, password: str) -> str:
    """Sign in; "ok", "refused" (wrong password) or "limited" (locked out, rate-limited)."""
    browser.request(port, "GET", "/accounts/login/")
    status, _loc, text = browser.request(
        port, "POST", "/accounts/login/", {"login": username, "password": password}
    )
    if status == 302:
        return "ok"
    if status == 429 or "Too many failed login attempts" in text:
        return "limited"
    return "refused"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--pg",
        default=os.environ.get("HB_BENCH_PG_URL")
        or (
            os.environ["DATABASE_URL"].rsplit("/", 1)[0]
            if os.environ.get("DATABASE_URL", "").startswith("postgres")
            else "postgres://postgres@127.0.0.1:5432"
        ),
    )
    args = ap.parse_args()
    t_all = time.perf_counter()
    dbname = f"hb_two_{os.getpid()}"
    query(f"{args.pg}/postgres", f'CREATE DATABASE "{dbname}"')
    url = f"{args.pg}/{dbname}"
    from cryptography.fernet import Fernet

    shared = {
        **os.environ,
        "HB_MODE": "demo",
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "harmonybridge.web.settings",
        "HB_LOG_LEVEL": "WARNING",
        "HB_TASK_BACKEND": "django_tasks_db.backend.DatabaseBackend",
        # what a deployment shares between app servers: the secrets, from the environment
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HB_FIELD_KEYS": Fernet.generate_key().decode("ascii"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    procs: list[subprocess.Popen] = []
    report = Report()
    try:

        def env_for(name: str) -> dict:  # each server its own data directory
            return {**shared, "HB_DATA_DIR": tempfile.mkdtemp(prefix=f"hb-two-{name}-")}

        subprocess.run(
            [str(BIN / "harmonybridge"), "manage", "migrate", "--noinput", "-v", "0"],
            env=env_for("migrate"), check=True, cwd=REPO,
        )  # fmt: skip
        out = subprocess.run(
            [sys.executable, "-c", SEED % {"password": PASSWORD}],
            env=env_for("seed"), check=True, cwd=REPO, capture_output=True, text=True,
        )  # fmt: skip
        seed = json.loads(out.stdout.split("SEED:", 1)[1])
        ports = [free_port(), free_port()]
        for name, port in zip("AB", ports, strict=True):
            procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "gunicorn"),
                        "-w",
                        "2",
                        "-b",
                        f"127.0.0.1:{port}",
                        "--access-logfile",
                        "/dev/null",
                        "--error-logfile",
                        "-",
                        "--log-level",
                        "warning",
                        "harmonybridge.web.wsgi:application",
                    ],
                    env=env_for(name),
                    cwd=REPO,
                )
            )
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "harmonybridge"),
                    "manage",
                    "db_worker",
                    "--interval",
                    "0.2",
                ],
                env=env_for("worker"),
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for port, proc in zip(ports, procs, strict=False):
            wait_up(port, proc)
        a, b = ports
        print(f"two servers on :{a} and :{b}, one worker, database {dbname}")

        # 1. start on A, finish on B
        t0 = time.perf_counter()
        first_id, first_token = seed["checkins"][0]
        phone = Browser()
        status, loc, _ = phone.request(a, "GET", f"/c/t/{first_token}")
        opened = status == 302
        status, _loc, _page = phone.request(a, "GET", loc or "/c/")
        status, loc, _ = phone.request(
            b, "POST", "/c/submit", {**seed["form"], "checkin": str(first_id)}
        )
        stored = query(
            url,
            "SELECT count(*) FROM checkins_response WHERE checkin_id = %s",
            first_id,
        )[0][0]
        report.check(
            opened and status == 302 and loc.endswith("/c/done")
            and stored == seed["instruments"],
            f"check-in opened on A, finished on B: {stored} of {seed['instruments']} "
            "responses stored",
            t0,
        )  # fmt: skip

        # 2. lockout and rate limit across both servers
        t0 = time.perf_counter()
        seen: list[tuple[int, str]] = []  # (server, outcome) of every sign-in attempt
        for k in range(5):
            seen.append((k % 2, login(Browser(), ports[k % 2], "two-lead", "wrong")))
        right = [login(Browser(), port, "two-lead", PASSWORD) for port in ports]
        seen += list(enumerate(right))
        report.check(
            right == ["limited", "limited"],
            f"5 failed sign-ins spread over A and B lock the account on both "
            f"(the right password then: A {right[0]}, B {right[1]})",
            t0,
        )
        t0 = time.perf_counter()
        for k in range(14):  # unknown names: only the per-address limit can stop them
            seen.append((k % 2, login(Browser(), ports[k % 2], f"nobody-{k}", "x")))
        first = next(
            (i for i, (_s, o) in enumerate(seen) if i >= 7 and o == "limited"), None
        )
        before = [sum(1 for s_, _o in seen[:first] if s_ == n) for n in (0, 1)]
        limited_on = {s_ for s_, o in seen[first or len(seen) :] if o == "limited"}
        report.check(
            first is not None and max(before) < 10 and limited_on == {0, 1},
            f"the per-address limit (10 failures a minute) counts both servers: limited "
            f"after {before[0]} attempts on A and {before[1]} on B, then on "
            f"{sorted('AB'[n] for n in limited_on)}",
            t0,
        )

        # 3. the queued evaluation runs once, in the worker
        t0 = time.perf_counter()
        deadline = time.time() + 60
        rows: list[tuple] = []
        while time.time() < deadline:
            rows = query(
                url,
                "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult "
                "WHERE task_path LIKE %s",
                "%evaluate_engagement_task",
            )
            if rows and all(r[0] in ("SUCCESSFUL", "FAILED") for r in rows):
                break
            time.sleep(0.3)
        pending = query(url, "SELECT count(*) FROM alerts_pendingevaluation")[0][0]
        report.check(
            len(rows) == 1 and rows[0][0] == "SUCCESSFUL" and len(rows[0][1]) == 1
            and pending == 0,
            f"the evaluation queued by the submit on B ran once: {rows}",
            t0,
        )  # fmt: skip

        # 4. 20 concurrent submits of one check-in over both servers
        t0 = time.perf_counter()
        cid, token = seed["checkins"][1]
        phone = Browser()
        phone.request(b, "GET", f"/c/t/{token}")
        phone.request(b, "GET", "/c/")
        results: list[int] = []
        barrier = threading.Barrier(20)

        def submit(k: int) -> None:
            barrier.wait()
            try:
                status, loc, _ = phone.request(
                    ports[k % 2],
                    "POST",
                    "/c/submit",
                    {**seed["form"], "checkin": str(cid)},
                )
                results.append(status if loc.endswith("/c/done") else -status)
            except OSError:
                results.append(599)

        threads = [threading.Thread(target=submit, args=(k,)) for k in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts = query(
            url,
            "SELECT instrument_id, count(*) FROM checkins_response WHERE checkin_id = %s "
            "GROUP BY instrument_id",
            cid,
        )
        report.check(
            len(counts) == seed["instruments"] and all(n == 1 for _i, n in counts)
            and results.count(302) == 20,
            f"20 concurrent submits over A and B: every one answered 'thank you' "
            f"({results.count(302)}), one response per instrument ({counts})",
            t0,
        )  # fmt: skip
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        try:
            query(
                f"{args.pg}/postgres",
                f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)',
            )
        except Exception as exc:  # report, do not mask the result
            print(f"could not drop {dbname}: {exc}")
    print(
        f"two-server proof: {'all checks passed' if not report.failed else f'{report.failed} FAILED'} "
        f"in {time.perf_counter() - t_all:.0f} s (target: about 2 minutes in .ci/run)"
    )
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
