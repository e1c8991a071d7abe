"""System checks for a safe deployment, run by ``harmonybridge manage check --deploy``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection
from django.db.utils import DatabaseError

#: PostgreSQL settings that must be "on" for an acknowledged commit to survive a crash.
PG_DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


@register(Tags.security, deploy=True)
def check_mfa_required(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.HB_MODE == "production" and not settings.HB_REQUIRE_MFA:
        return [
            Warning(
                "Two-factor login is switched off in production (HB_REQUIRE_MFA=false).",
                hint="Unset HB_REQUIRE_MFA; every staff account must use an authenticator app.",
                id="harmonybridge.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_nothing_silenced(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.SILENCED_SYSTEM_CHECKS:
        return [
            Warning(
                "SILENCED_SYSTEM_CHECKS is not empty.",
                hint="Fix the configuration instead of silencing its checks.",
                id="harmonybridge.W002",
            )
        ]
    return []


def durability_problems() -> list[str]:
    """Return what is set weaker than crash-safe on the default database (empty when safe)."""
    problems = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            mode = str(cursor.fetchone()[0]).lower()
            cursor.execute("PRAGMA synchronous")
            sync = int(cursor.fetchone()[0])
            if mode != "wal":
                problems.append(f"SQLite journal_mode is {mode}, not wal")
            if sync < 2:
                problems.append(f"SQLite synchronous is {sync}, not 2 (FULL)")
        elif connection.vendor == "postgresql":
            for name in PG_DURABILITY:
                cursor.execute(f"SHOW {name}")
                value = str(cursor.fetchone()[0]).lower()
                if value != "on":
                    problems.append(f"PostgreSQL {name} is {value}, not on")
    return problems


@register(Tags.database, deploy=True)
def check_durability(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[Any]:
    # Django's convention: database checks run only with ``check --database default``.
    if not databases or "default" not in databases:
        return []
    try:
        problems = durability_problems()
    except DatabaseError as exc:
        return [
            Error(
                f"The database cannot be reached to check its durability settings: {exc}",
                id="harmonybridge.E002",
            )
        ]
    return [
        Error(
            problem,
            hint="An acknowledged check-in must survive a crash; see docs/deployment.md.",
            id="harmonybridge.E001",
        )
        for problem in problems
    ]
