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


@pytest.mark.parametrize(
    ("change", "warning"),
    [
        ({"HB_TRUSTED_PROXIES": ""}, "harmonybridge.W011"),
        ({"HB_AXES_ENABLED": "false"}, "harmonybridge.W012"),
        ({"HB_PUBLIC_BASE_URL": ""}, "harmonybridge.W013"),
        ({"HB_PUBLIC_BASE_URL": "http://hb.example.org"}, "harmonybridge.W013"),
    ],
)
def test_unsafe_settings_are_deploy_warnings(tmp_path, change, warning):
    """Issue 9, faults 3 and 12: these used to pass ``check --deploy`` silently."""
    env = production_env(tmp_path / "data", **change)
    done = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    assert warning in done.stderr + done.stdout


def _key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


@pytest.mark.parametrize("separator", [",", "\n", ", ", ",\n"])
def test_key_file_in_rotation_format_is_read_as_two_keys(tmp_path, separator):
    """Issue 9, fault 9: HB_FIELD_KEYS_FILE holding ``NEW,OLD`` was read as one key."""
    new, old = _key(), _key()
    key_file = tmp_path / "field-keys"
    key_file.write_text(new + separator + old + "\n")
    env = production_env(tmp_path / "data", HB_FIELD_KEYS_FILE=str(key_file))
    del env["HB_FIELD_KEYS"]
    script = (
        "from cryptography.fernet import Fernet;"
        "from django.conf import settings;"
        "from harmonybridge.web import fieldcrypto;"
        f"token = Fernet({old!r}.encode()).encrypt(b'synthetic');"
        "print(len(settings.HB_FIELD_KEYS),"
        " fieldcrypto.decrypt(fieldcrypto.PREFIX + token.decode()))"
    )
    done = run_manage(env, "shell", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "2 synthetic"
    done = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_deploy_fails_when_the_keys_cannot_decrypt(tmp_path):
    env = production_env(tmp_path / "data", HB_FIELD_KEYS="not-a-fernet-key")
    done = run_manage(env, "check", "--deploy")
    assert done.returncode != 0
    assert "harmonybridge.E011" in done.stderr + done.stdout


def test_check_deploy_fails_when_stored_values_need_another_key(tmp_path):
    """The wrong key file: valid keys, but not the ones the database was written with."""
    env = production_env(tmp_path / "data")
    assert run_manage(env, "migrate", "-v", "0").returncode == 0
    made = run_manage(
        env,
        "shell",
        "-c",
        "from harmonybridge.web.accounts.models import Practice;"
        "from harmonybridge.web.practice.models import Client;"
        "Client.objects.create(practice=Practice.objects.create(name='P'),"
        " name='Synthetic Name')",
    )
    assert made.returncode == 0, made.stderr
    args = ("check", "--deploy", "--database", "default")
    assert "harmonybridge.E011" not in run_manage(env, *args).stderr
    env["HB_FIELD_KEYS"] = _key()
    done = run_manage(env, *args)
    assert done.returncode != 0
    assert "harmonybridge.E011" in done.stderr + done.stdout
    assert "Synthetic" not in done.stderr + done.stdout
