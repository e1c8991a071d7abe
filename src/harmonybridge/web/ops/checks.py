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


@register(Tags.security, deploy=True)
def check_trusted_proxies(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.HB_MODE == "production" and not settings.HB_TRUSTED_PROXIES:
        return [
            Warning(
                "HB_TRUSTED_PROXIES is empty: behind the reverse proxy every request "
                "seems to come from the proxy, so one stranger's failed sign-ins limit "
                "the whole practice and the audit log records the proxy's address.",
                hint="Set HB_TRUSTED_PROXIES=127.0.0.1 (the proxy's address); see "
                "docs/deployment.md, section 7.",
                id="harmonybridge.W011",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_lockout_enabled(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.HB_MODE == "production" and not settings.AXES_ENABLED:
        return [
            Warning(
                "The sign-in lockout is switched off (HB_AXES_ENABLED=false).",
                hint="Unset HB_AXES_ENABLED: five failures per username and address "
                "must lock that pair (ASVS 6.3.1).",
                id="harmonybridge.W012",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_public_base_url(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    url = settings.HB_PUBLIC_BASE_URL
    if settings.HB_MODE == "production" and not url.startswith("https://"):
        return [
            Warning(
                "HB_PUBLIC_BASE_URL is not set to an https:// address"
                + (f" (it is {url!r})" if url else "")
                + ": emailed check-in links would not work.",
                hint="Set HB_PUBLIC_BASE_URL=https://your-host (docs/deployment.md).",
                id="harmonybridge.W013",
            )
        ]
    return []


def field_key_problems(*, stored: bool) -> list[str]:
    """Why the field keys cannot encrypt and decrypt (empty when they can).

    Round-trips a value with the configured keys and, with ``stored``, decrypts one
    stored value of every encrypted column: a key file read wrongly, or the wrong
    file, shows here instead of at the first client page.
    """
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    from harmonybridge.web import fieldcrypto

    try:
        if fieldcrypto.decrypt(fieldcrypto.encrypt("hb-probe")) != "hb-probe":
            return ["the field keys do not give back what they encrypted"]
    except ImproperlyConfigured as exc:
        return [f"HB_FIELD_KEYS: {exc}"]
    if not stored:
        return []
    problems = []
    tables = set(connection.introspection.table_names())  # before `migrate`: none
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, fieldcrypto.EncryptedTextField):
                continue
            value = (
                model._base_manager.exclude(**{field.name: ""})
                .exclude(**{f"{field.name}__isnull": True})
                .values_list(field.name, flat=True)
                .order_by()
            )
            try:
                value.first()
            except ImproperlyConfigured:
                problems.append(
                    f"{model._meta.db_table}.{field.column} cannot be decrypted with "
                    "any key in HB_FIELD_KEYS"
                )
    return problems


@register(Tags.security, deploy=True)
def check_field_keys(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[Any]:
    stored = bool(databases and "default" in databases)
    try:
        problems = field_key_problems(stored=stored)
    except DatabaseError as exc:
        problems = [f"the database cannot be read to try the field keys: {exc}"]
    return [
        Error(
            problem,
            hint="HB_FIELD_KEYS (or the file in HB_FIELD_KEYS_FILE) lists Fernet keys, "
            "newest first, separated by commas or new lines; see docs/deployment.md.",
            id="harmonybridge.E011",
        )
        for problem in problems
    ]
