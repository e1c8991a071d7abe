"""Benchmark: submit responses through the JSON API and read them back page by page, against
calling the same service functions in-process, in the same run.

The API path is a real HTTP server (one Django WSGI server thread on loopback, like one
gunicorn sync worker, one keep-alive httpx client): token check, JSON parsing and validation, the access policy,
the audit event, ``checkins.storage.submit_checkin`` and the JSON answer. The in-process
path calls the same functions the endpoint calls (``services.validated_answers``,
``services.submit_client_answers``, the policy's queryset, the same serialiser) without
HTTP, token or audit. Each submission is one client's PHQ-9 for one session. Prints
throughput and p50/p99 per path and the API/in-process ratio (target: under 2x).
A throwaway database (SQLite, or ``--database-url`` for PostgreSQL as in production);
``--n`` submissions per path (default 10,000; ``--quick``: 500).

Both read paths read every stored response (2 x ``--n``) in pages of 200.

Measured 2026-12-07 on a shared 2-core machine under load from other jobs (load
average about 8), SQLite, the default 10,000 submissions per path: submit in-process
8.1/s (p99 243 ms), API 5.0/s (p99 448 ms): 1.64x throughput, 1.85x p99; reading back
20,000 responses in 100 pages: in-process 20.8 s (p99 478 ms), API 18.6 s (p99 409 ms),
0.90x. Earlier, PostgreSQL, ``--n 1000``: submit 1.73x, read 1.29x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from _common import Targets, add_check_flag  # benchmarks/_common.py (sys.path[0])

ROOT = Path(__file__).resolve().parents[1]


def _setup(n: int, database_url: str | None):  # returns Django objects
    import tempfile

    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    # the production task backend: alert evaluation is queued with the answers (a worker
    # runs it), as in a deployment, so both paths time the submission itself
    os.environ["DJANGO_SETTINGS_MODULE"] = "harmonybridge.web.settings"
    os.environ["HB_MODE"] = "test"
    os.environ["HB_TASK_BACKEND"] = "django_tasks_db.DatabaseBackend"
    os.environ.setdefault("HB_DATA_DIR", tempfile.mkdtemp(prefix="hb-bench-api-"))
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    for name in ("httpx", "django_tasks", "django.request", "django.server"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)

    from harmonybridge.web.accounts.models import Practice, User
    from harmonybridge.web.practice import services
    from harmonybridge.web.practice.models import (
        Client,
        Engagement,
        EngagementClient,
        MeasurementPlan,
        PlanEntry,
        ServiceLine,
        TherapySession,
    )
    from harmonybridge.web.research.models import ConsentRecord, Decision, Purpose

    per = 20  # sessions per engagement
    with transaction.atomic():
        practice = Practice.objects.create(name="Benchmark practice")
        services.ensure_service_lines(practice)
        user = User.objects.create_user("bench", practice=practice, role="practitioner")
        line = ServiceLine.objects.get(practice=practice, name="Individual therapy")
        n_eng = 2 * n // per + 2
        clients = Client.objects.bulk_create(
            Client(practice=practice, practitioner=user, code=f"B-{i:06d}")
            for i in range(n_eng)
        )
        # check-ins need the client's care consent (recorded as the pages record it)
        ConsentRecord.objects.bulk_create(
            ConsentRecord(
                client=c,
                purpose=Purpose.CARE,
                decision=Decision.GIVEN,
                sheet_version="care",
                recorded_by=user,
            )
            for c in clients
        )
        engagements = Engagement.objects.bulk_create(
            Engagement(practice=practice, lead=user, service_line=line) for _ in clients
        )
        Engagement.practitioners.through.objects.bulk_create(
            Engagement.practitioners.through(engagement_id=e.pk, user_id=user.pk)
            for e in engagements
        )
        EngagementClient.objects.bulk_create(
            EngagementClient(engagement=e, client=c)
            for e, c in zip(engagements, clients, strict=True)
        )
        plans = MeasurementPlan.objects.bulk_create(
            MeasurementPlan(engagement=e) for e in engagements
        )
        PlanEntry.objects.bulk_create(
            PlanEntry(plan=p, instrument_id="phq9", rater_role="client") for p in plans
        )
        sessions = TherapySession.objects.bulk_create(
            TherapySession(engagement=e, number=k)
            for e in engagements
            for k in range(1, per + 1)
        )
    pairs = [
        (s.pk, c.pk)
        for s, c in zip(sessions, [c for c in clients for _ in range(per)], strict=True)
    ]
    return user, pairs[:n], pairs[n : 2 * n]


def _pctl(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100)[int(q) - 1]
        if len(values) > 1
        else values[0]
    )


def _report(name: str, latencies: list[float], wall: float) -> tuple[float, float]:
    """Print throughput and p50/p99; return ``(wall seconds, p99 seconds)``."""
    per_s = len(latencies) / wall
    p99 = _pctl(latencies, 99)
    print(
        f"{name:<34} {len(latencies):>6} in {wall:7.2f} s  {per_s:7.1f}/s  "
        f"p50 {1000 * _pctl(latencies, 50):6.1f} ms  p99 {1000 * p99:6.1f} ms"
    )
    return wall, p99


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="500 submissions per path")
    add_check_flag(ap)
    ap.add_argument(
        "--database-url",
        help="e.g. postgres://postgres@127.0.0.1:5432/hb_bench (a test_ database is "
        "created beside it); default: a throwaway SQLite file",
    )
    args = ap.parse_args()
    n = 500 if args.quick else args.n
    user, api_pairs, local_pairs = _setup(n, args.database_url)

    import threading

    import httpx
    from django.core.servers.basehttp import (
        WSGIRequestHandler,
        WSGIServer,
        get_internal_wsgi_application,
    )

    from harmonybridge.web.api import access, services, tokens
    from harmonybridge.web.api.v1 import _ENGAGEMENT_SECRETS, _response_out
    from harmonybridge.web.checkins.models import Response
    from harmonybridge.web.practice.models import Client, RaterRole

    _t, plain = tokens.issue(user, "bench", ["read", "write"], 1)

    # one server thread, as one gunicorn sync worker: its database connection is kept
    # between requests (CONN_MAX_AGE of the settings), keep-alive HTTP on loopback
    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass  # no access log (and no timing of one)

    server = WSGIServer(("127.0.0.1", 0), Quiet, ipv6=False)
    server.set_app(get_internal_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{server.server_address[1]}",
        headers={"Authorization": f"Bearer {plain}"},
        timeout=60,
    )
    answers = {str(i): 1 for i in range(1, 10)}
    http.get("/api/v1/clients?limit=1").raise_for_status()  # warm up imports

    # --- submit: in-process
    lat_local = []
    t0 = time.perf_counter()
    for session_id, client_id in local_pairs:
        s0 = time.perf_counter()
        session = (
            access.sessions_for(user, change=True)
            .select_related("engagement")
            .defer(*(f"engagement__{f}" for f in _ENGAGEMENT_SECRETS))
            .get(pk=session_id)
        )
        client = Client.objects.get(pk=client_id)
        insts, clean = services.validated_answers(
            session, RaterRole.CLIENT, {"phq9": answers}
        )
        services.submit_client_answers(session, client, insts, clean)
        lat_local.append(time.perf_counter() - s0)
    local_submit = _report("submit, in-process", lat_local, time.perf_counter() - t0)

    # --- submit: API
    lat_api = []
    t0 = time.perf_counter()
    for session_id, client_id in api_pairs:
        s0 = time.perf_counter()
        r = http.post(
            f"/api/v1/sessions/{session_id}/responses",
            json={
                "rater_role": "client",
                "client_id": client_id,
                "answers": {"phq9": answers},
            },
        )
        assert r.status_code == 201, r.text
        lat_api.append(time.perf_counter() - s0)
    api_submit = _report("submit, API", lat_api, time.perf_counter() - t0)

    # --- read back page by page (200 a page): both paths read every response
    api_sessions = {s for s, _ in api_pairs}
    lat_local, t0, cursor_pk, seen = [], time.perf_counter(), None, 0
    while True:
        s0 = time.perf_counter()
        qs = (
            Response.objects.filter(session__in=access.sessions_for(user).values("pk"))
            .prefetch_related("answers", "scores")
            .order_by("-pk")
        )
        if cursor_pk is not None:
            qs = qs.filter(pk__lt=cursor_pk)
        rows = list(qs[:201])
        page = [_response_out(r) for r in rows[:200]]
        lat_local.append(time.perf_counter() - s0)
        seen += len(page)
        if len(rows) <= 200:
            break
        cursor_pk = rows[199].pk
    local_read = _report("read pages, in-process", lat_local, time.perf_counter() - t0)
    assert seen == 2 * n, seen

    lat_api, t0, cursor, got, n_read = [], time.perf_counter(), None, set(), 0
    while True:
        s0 = time.perf_counter()
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        body = http.get("/api/v1/responses", params=params).raise_for_status().json()
        lat_api.append(time.perf_counter() - s0)
        got.update(x["session_id"] for x in body["items"])
        n_read += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    api_read = _report("read pages, API", lat_api, time.perf_counter() - t0)
    assert api_sessions <= got
    assert n_read == 2 * n, n_read  # every response once, the API's own included

    targets = Targets()
    for what, (api_wall, api_p99), (local_wall, local_p99) in (
        ("submit", api_submit, local_submit),
        ("read", api_read, local_read),
    ):
        ratio, p99_ratio = api_wall / local_wall, api_p99 / local_p99
        print(
            f"API / in-process, {what + ':':<7} throughput {ratio:.2f}x, "
            f"p99 {p99_ratio:.2f}x"
        )
        targets.hit(f"API overhead, {what}, under 2x the in-process path", ratio < 2)
    server.shutdown()
    sys.exit(targets.exit_code(args.check))


if __name__ == "__main__":
    main()
