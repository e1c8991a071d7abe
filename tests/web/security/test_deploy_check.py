"""`harmonybridge manage check --deploy` is clean under production settings, nothing silenced."""

from __future__ import annotations

import pytest

from tests.web.security.production import production_env, run_manage


def test_check_deploy_is_clean(tmp_path):
    env = production_env(tmp_path / "data")
    done = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_check_deploy_with_database_durability_is_clean(tmp_path):
    env = production_env(tmp_path / "data")
    done = run_manage(
        env, "check", "--deploy", "--database", "default", "--fail-level", "WARNING"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(0 silenced)" in done.stdout


def test_settings_silence_nothing():
    from django.conf import settings

    assert settings.SILENCED_SYSTEM_CHECKS == []


def test_switching_off_mfa_in_production_warns(tmp_path):
    env = production_env(tmp_path / "data", HB_REQUIRE_MFA="false")
    done = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    assert "harmonybridge.W001" in done.stderr + done.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "HB_FIELD_KEYS"])
def test_production_refuses_to_start_without_secrets(tmp_path, missing):
    env = production_env(tmp_path / "data")
    del env[missing]
    done = run_manage(env, "check")
    assert done.returncode != 0
    assert f"{missing} is not set" in done.stderr
    # Nothing was generated in its place.
    assert list((tmp_path / "data").iterdir()) == []


def test_weak_sqlite_durability_is_an_error(tmp_path, monkeypatch):
    from harmonybridge.web.ops import checks

    monkeypatch.setattr(
        checks, "durability_problems", lambda: ["SQLite synchronous is 1, not 2 (FULL)"]
    )
    errors = checks.check_durability(databases=["default"])
    assert [e.id for e in errors] == ["harmonybridge.E001"]


@pytest.mark.django_db
def test_test_database_is_durable():
    from django.db import connection

    from harmonybridge.web.ops.checks import durability_problems

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "the in-memory test database has no journal; the file case runs above"
        )
    assert durability_problems() == []
