"""Crash test: SIGKILL gunicorn under check-in load, restart, and prove no acknowledged answer is lost.

Runs the real app (gunicorn, gthread workers) on SQLite (WAL, synchronous=FULL) and on
PostgreSQL. Client threads submit check-ins at about ``--rate`` per second (each: open
the token link, then POST the answers); every ``--cycle`` seconds the whole gunicorn
process group is killed with SIGKILL and started again. On PostgreSQL the database
server itself is also restarted under load. Afterwards the database is read directly:

* every submission that got its success response (302 to the done page) is stored, with
  exactly the answers that were sent, its response and its scores;
* no check-in is half-written: each stored check-in has all its rows, no orphan rows;
* every stored check-in has exactly one queued alert evaluation (committed with it);
* SQLite ``PRAGMA integrity_check`` is ``ok``.

Exit status 1 on any loss or partial write. ``--quick`` is what ``.ci/run`` uses.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
PG_BASE = os.environ.get("HB_CRASH_PG_URL", "postgres://postgres@127.0.0.1:5432")
INSTRUMENT = "hb_checkin"

SEED = r"""
import json, sys, django
django.setup()
from django.db import transaction
from harmonybridge.web.accounts.models import Practice, User
from harmonybridge.web.practice.models import (Client, Engagement, EngagementClient,
    MeasurementPlan, PlanEntry, ServiceLine, TherapySession)
from harmonybridge.web.checkins import tokens
from harmonybridge.web.research.models import ConsentRecord
n_eng, n_sess = int(sys.argv[1]), int(sys.argv[2])
out = []
with transaction.atomic():
    practice = Practice.objects.create(name="Crash test practice")
    lead = User.objects.create_user("crash-lead", practice=practice, role="practitioner")
    line = ServiceLine.objects.create(practice=practice, name="Individual therapy", kind="therapy")
    for e in range(n_eng):
        client = Client.objects.create(practice=practice, practitioner=lead)
        # check-in links need the client's care consent on record
        ConsentRecord.objects.create(client=client, purpose="care", decision="given",
                                     sheet_version="care", recorded_by=lead)
        eng = Engagement.objects.create(practice=practice, lead=lead, service_line=line)
        eng.practitioners.add(lead)
        EngagementClient.objects.create(engagement=eng, client=client)
        plan = MeasurementPlan.objects.create(engagement=eng)
        PlanEntry.objects.create(plan=plan, instrument_id="hb_checkin", rater_role="client")
        sessions = TherapySession.objects.bulk_create(
            TherapySession(engagement=eng, number=k + 1) for k in range(n_sess))
        for s in sessions:
            checkin, token = tokens.issue(s, client)
            out.append([checkin.pk, token])
print("SEED:" + json.dumps(out))
"""


@dataclass
class Submission:
    checkin_id: int
    token: str
    answers: dict[str, int]
    acknowledged: bool = False
    error: str = ""


@dataclass
class Stats:
    attempted: int = 0
    acknowledged: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    cmd: list[str], env: dict[str, str], **kw: Any
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, **kw)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd[:4])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    return done


class Server:
    """gunicorn in its own process group, so SIGKILL reaches master and workers at once."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> float:
        t0 = time.perf_counter()
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [
                    str(Path(PY).with_name("gunicorn")),
                    "harmonybridge.web.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "2",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "4",
                    "--timeout",
                    "30",
                ],
                env=self.env,
                cwd=REPO,
                stdout=fh,
                stderr=fh,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"gunicorn did not become healthy; see {self.log}")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        # Workers are in the same group; make sure none survives holding the port.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def submit_one(port: int, sub: Submission, csrf: str) -> bool:
    """Open the link, then POST the answers; True only for the success redirect."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "GET", f"/c/t/{sub.token}", headers={"Cookie": f"csrftoken={csrf}"}
        )
        res = conn.getresponse()
        res.read()
        if res.status != 302:
            sub.error = f"open {res.status}"
            return False
        cookies = [f"csrftoken={csrf}"]
        for header, value in res.getheaders():
            if header.lower() == "set-cookie":
                cookies.append(value.split(";", 1)[0])
        form = {"csrfmiddlewaretoken": csrf, "checkin": str(sub.checkin_id)}
        form.update({f"{INSTRUMENT}-{k}": str(v) for k, v in sub.answers.items()})
        body = urllib.parse.urlencode(form)
        conn.request(
            "POST",
            "/c/submit",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(cookies),
                "Referer": f"http://127.0.0.1:{port}/c/",
            },
        )
        res = conn.getresponse()
        res.read()
        if res.status == 302 and res.getheader("Location", "").endswith("/c/done"):
            return True
        sub.error = f"submit {res.status}"
        return False
    except (OSError, http.client.HTTPException) as exc:
        sub.error = type(exc).__name__
        return False
    finally:
        conn.close()


class Load:
    """Paced client threads; paused while the server is down."""

    def __init__(
        self, port: int, subs: list[Submission], rate: float, threads: int = 16
    ) -> None:
        self.port, self.rate, self.n_threads = port, rate, threads
        self.pending = list(reversed(subs))
        self.lock = threading.Lock()
        self.running = threading.Event()
        self.stop = threading.Event()
        self.stats = Stats()
        self.csrf = "crashtestcsrftoken0123456789abcdefghijklmnopqrstuv"[:32]
        self.next_slot = time.monotonic()
        self.up_since: float | None = None
        self.up_seconds = 0.0
        self.threads = [
            threading.Thread(target=self._work, daemon=True) for _ in range(threads)
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _take(self) -> Submission | None:
        with self.lock:
            if not self.pending:
                return None
            now = time.monotonic()
            slot = max(self.next_slot, now)
            self.next_slot = slot + 1.0 / self.rate
            sub = self.pending.pop()
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return sub

    def _work(self) -> None:
        while not self.stop.is_set():
            if not self.running.wait(timeout=0.2):
                continue
            sub = self._take()
            if sub is None:
                return
            ok = submit_one(self.port, sub, self.csrf)
            sub.acknowledged = ok
            with self.stats.lock:
                self.stats.attempted += 1
                if ok:
                    self.stats.acknowledged += 1
                else:
                    self.stats.failed += 1

    def pause(self) -> None:
        self.running.clear()
        if self.up_since is not None:
            self.up_seconds += time.monotonic() - self.up_since
            self.up_since = None
        with self.lock:
            self.next_slot = time.monotonic()

    def resume(self) -> None:
        with self.lock:
            self.next_slot = time.monotonic()
        self.up_since = time.monotonic()
        self.running.set()

    def finish(self) -> None:
        self.stop.set()
        self.running.set()
        for t in self.threads:
            t.join(timeout=15)


def answers_for(rng: random.Random) -> dict[str, int]:
    # hb_checkin: items 1-3 on 1-5, item 4 tension yes/no (0 here, so 5-6 are not asked).
    return {
        "i1": rng.randint(1, 5),
        "i2": rng.randint(1, 5),
        "i3": rng.randint(1, 5),
        "i4": 0,
    }


QUERIES = {
    "checkins": "SELECT id, submitted_at IS NOT NULL FROM checkins_checkin",
    "responses": "SELECT id, checkin_id, instrument_id FROM checkins_response",
    "answers": "SELECT response_id, item, value FROM checkins_answer",
    "scores": "SELECT response_id, subscale FROM checkins_score",
    # Alert evaluation is coalesced per engagement (alerts.PendingEvaluation): the first
    # store of an engagement commits its pending row and one queued task with the
    # answers; later stores only touch that row. No worker runs here, so every engagement
    # with a stored check-in must still have its pending row and at least one task.
    "tasks": "SELECT id FROM django_tasks_database_dbtaskresult",
    "pending": "SELECT engagement_id FROM alerts_pendingevaluation",
    "stored_engagements": (
        "SELECT DISTINCT s.engagement_id FROM checkins_checkin c "
        "JOIN practice_therapysession s ON s.id = c.session_id "
        "WHERE c.submitted_at IS NOT NULL"
    ),
}


def read_state(kind: str, target: str) -> dict[str, list[tuple[Any, ...]]]:
    if kind == "sqlite":
        con = sqlite3.connect(target)
        try:
            return {k: con.execute(q).fetchall() for k, q in QUERIES.items()}
        finally:
            con.close()
    import psycopg

    with psycopg.connect(target) as con, con.cursor() as cur:
        out = {}
        for k, q in QUERIES.items():
            cur.execute(q)
            out[k] = cur.fetchall()
        return out


def verify(kind: str, target: str, subs: list[Submission]) -> dict[str, int]:
    """Compare acknowledged submissions with what the database holds."""
    state = read_state(kind, target)
    submitted = {cid for cid, done in state["checkins"] if done}
    responses_by_checkin: dict[int, list[int]] = {}
    for rid, cid, inst in state["responses"]:
        if inst == INSTRUMENT:
            responses_by_checkin.setdefault(cid, []).append(rid)
    answers: dict[int, dict[int, Any]] = {}
    for rid, item, value in state["answers"]:
        answers.setdefault(rid, {})[item] = value
    scores: dict[int, set[str]] = {}
    for rid, subscale in state["scores"]:
        scores.setdefault(rid, set()).add(subscale)

    lost = wrong = partial = 0
    item_counts = {len(a) for a in answers.values()}
    for sub in subs:
        if not sub.acknowledged:
            continue
        rids = responses_by_checkin.get(sub.checkin_id, [])
        if sub.checkin_id not in submitted or len(rids) != 1:
            lost += 1
            continue
        stored = answers.get(rids[0], {})
        sent = {int(k[1:]): float(v) for k, v in sub.answers.items()}
        if any(stored.get(item) != value for item, value in sent.items()):
            wrong += 1
    # Half-written: a submitted check-in without its response, a response without all
    # its answers or without a total score, or answers of an unsubmitted check-in.
    expected_items = max(item_counts) if item_counts else 0
    for cid in submitted:
        rids = responses_by_checkin.get(cid, [])
        if len(rids) != 1:
            partial += 1
            continue
        if len(answers.get(rids[0], {})) != expected_items or "" not in scores.get(
            rids[0], set()
        ):
            partial += 1
    orphans = sum(1 for cid in responses_by_checkin if cid not in submitted)
    integrity = "n/a"
    if kind == "sqlite":
        con = sqlite3.connect(target)
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        con.close()
    return {
        "queued_evaluations": len(state["tasks"]),
        "evaluations_not_matching": _evaluations_missing(state),
        "acknowledged": sum(s.acknowledged for s in subs),
        "stored_checkins": len(submitted),
        "lost_acknowledged": lost,
        "wrong_values": wrong,
        "partial": partial + (1 if len(item_counts) > 1 else 0),
        "orphan_responses": orphans,
        "integrity_ok": int(integrity in ("ok", "n/a")),
    }


def _evaluations_missing(state: dict[str, list[tuple[Any, ...]]]) -> int:
    """Engagements with a stored check-in but no pending evaluation, plus pending rows
    without a queued task (each pending row was committed with its task)."""
    stored = {e for (e,) in state["stored_engagements"]}
    pending = {e for (e,) in state["pending"]}
    return len(stored - pending) + max(0, len(pending) - len(state["tasks"]))


def _error_counts(subs: list[Submission]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sub in subs:
        if sub.error:
            counts[sub.error] = counts.get(sub.error, 0) + 1
    return counts


def pg_restart() -> float:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    t0 = time.perf_counter()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    for _ in range(60):
        if (
            subprocess.run(
                ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]
            ).returncode
            == 0
        ):
            break
        time.sleep(0.5)
    return time.perf_counter() - t0


def scenario(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HB_MODE": "demo",
        "HB_DATA_DIR": str(workdir / kind),
        "HB_LOG_LEVEL": "WARNING",
        # As in production: alert evaluation is queued in the database for the task
        # worker, not run inside the client's request (docs/deployment.md).
        "HB_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "PYTHONPATH": str(REPO / "src"),
        "DJANGO_SETTINGS_MODULE": "harmonybridge.web.settings",
    }
    dbname = f"hb_crash_{os.getpid()}"
    if kind == "sqlite":
        target = str(workdir / kind / "crash.sqlite3")
        env["HB_SQLITE_PATH"] = target
    else:
        import psycopg

        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            con.execute(f'CREATE DATABASE "{dbname}"')
        target = f"{PG_BASE}/{dbname}"
        env["DATABASE_URL"] = target
    t0 = time.perf_counter()
    run([PY, "-m", "harmonybridge", "manage", "migrate", "--noinput", "-v", "0"], env)
    per_cycle = args.rate * args.cycle * 1.6
    total = int(per_cycle * (args.kills + args.pg_restarts + 2))
    n_sess = 40
    n_eng = max(1, total // n_sess + 1)
    seeded = run([PY, "-c", SEED, str(n_eng), str(n_sess)], env)
    pairs = json.loads(
        next(
            line[5:] for line in seeded.stdout.splitlines() if line.startswith("SEED:")
        )
    )
    subs = [Submission(cid, tok, answers_for(rng)) for cid, tok in pairs]
    setup_s = time.perf_counter() - t0

    port = free_port()
    server = Server(env, port, workdir / f"{kind}-gunicorn.log")
    load = Load(port, subs, args.rate)
    load.start()
    restarts = []
    t_load = time.perf_counter()
    restarts.append(server.start())
    load.resume()
    for k in range(args.kills):
        time.sleep(rng.uniform(0.5, 1.5) * args.cycle)
        server.kill()
        load.pause()
        restarts.append(server.start())
        load.resume()
        print(
            f"  {kind}: kill {k + 1}/{args.kills} done, acknowledged so far {load.stats.acknowledged}",
            flush=True,
        )
    pg_times = []
    ack_after_pg = []
    if kind == "postgres":
        for k in range(args.pg_restarts):
            time.sleep(args.cycle)
            before = load.stats.acknowledged
            pg_times.append(pg_restart())  # the app keeps running and must recover
            time.sleep(args.cycle)
            ack_after_pg.append(load.stats.acknowledged - before)
            print(
                f"  postgres: server restart {k + 1}/{args.pg_restarts} took {pg_times[-1]:.1f} s",
                flush=True,
            )
    time.sleep(args.cycle)
    load.pause()
    elapsed = time.perf_counter() - t_load
    load.finish()
    server.kill()
    result = verify(kind, target, subs)
    result.update(
        {
            "database": kind,
            "kills": args.kills,
            "setup_s": round(setup_s, 1),
            "load_s": round(elapsed, 1),
            "server_up_s": round(load.up_seconds, 1),
            "achieved_per_s": round(load.stats.attempted / load.up_seconds, 1),
            "acknowledged_per_s": round(load.stats.acknowledged / load.up_seconds, 1),
            "restart_s_median": round(sorted(restarts)[len(restarts) // 2], 2),
            "pg_restarts": len(pg_times),
            "ack_after_each_pg_restart": ack_after_pg,
            "not_acknowledged": load.stats.failed,
            "errors": _error_counts(subs),
        }
    )
    if kind == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI size: 10 kills per database"
    )
    parser.add_argument(
        "--rate", type=float, default=100.0, help="submissions per second offered"
    )
    parser.add_argument("--kills", type=int, default=None)
    parser.add_argument(
        "--cycle", type=float, default=None, help="seconds of load between kills"
    )
    parser.add_argument("--pg-restarts", type=int, default=None)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args(argv)
    args.kills = args.kills or (10 if args.quick else 20)
    args.cycle = args.cycle or (3.0 if args.quick else 5.0)
    args.pg_restarts = (
        args.pg_restarts if args.pg_restarts is not None else (1 if args.quick else 3)
    )

    kinds = [args.only] if args.only else ["sqlite", "postgres"]
    if "postgres" in kinds and shutil.which("pg_isready") is None:
        print("PostgreSQL tools not found; run with --only sqlite", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    results = []
    tmp = tempfile.mkdtemp(prefix="hb-crash-")
    try:
        for kind in kinds:
            print(
                f"== {kind}: {args.kills} SIGKILLs at ~{args.rate:.0f} submissions/s",
                flush=True,
            )
            results.append(scenario(kind, args, Path(tmp)))
            print(json.dumps(results[-1], indent=2), flush=True)
    finally:
        if os.environ.get("HB_CRASH_KEEP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = time.perf_counter() - t0
    bad = [
        r["database"]
        for r in results
        if r["lost_acknowledged"]
        or r["wrong_values"]
        or r["partial"]
        or r["orphan_responses"]
        or r["evaluations_not_matching"]
        or not r["integrity_ok"]
        or r["acknowledged"] == 0
        or any(n == 0 for n in r["ack_after_each_pg_restart"])
    ]
    for r in results:
        print(
            f"{r['database']}: {r['acknowledged']} acknowledged, {r['lost_acknowledged']} lost, "
            f"{r['partial']} partial, {r['kills']} SIGKILLs; {r['achieved_per_s']}/s achieved "
            f"while the server was up, of {args.rate:.0f}/s offered "
            f"(ratio {r['achieved_per_s'] / args.rate:.2f}); median restart {r['restart_s_median']} s"
        )
    print(f"total {total:.0f} s, peak memory of the load generator {peak_mb:.0f} MiB")
    if bad:
        print(f"FAILED on {', '.join(bad)}", file=sys.stderr)
        return 1
    print("OK: every acknowledged check-in is stored whole; nothing half-written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
