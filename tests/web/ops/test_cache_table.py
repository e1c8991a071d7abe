"""The shared cache table is created by a migration, so no deployment step can miss it."""

from __future__ import annotations

import importlib

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

from tests.web.security.production import production_env, run_manage

DB_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "hb_cache_test",
    }
}


@pytest.mark.django_db(transaction=True)
def test_migration_creates_the_cache_table_and_the_cache_works():
    migration = importlib.import_module(
        "harmonybridge.web.ops.migrations.0001_cache_table"
    )
    with override_settings(CACHES=DB_CACHE):
        with connection.schema_editor() as editor:
            migration.create_cache_table(None, editor)
        assert "hb_cache_test" in connection.introspection.table_names()
        cache = caches.create_connection("default")
        cache.set("panel", {"svg": "<svg/>"}, 60)
        assert cache.get("panel") == {"svg": "<svg/>"}
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE hb_cache_test")


def test_production_shares_one_database_cache_between_processes(tmp_path):
    env = production_env(tmp_path / "data")
    done = run_manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
    )
    assert done.returncode == 0, done.stderr
    # the database cache, with every value sealed by the field keys (issue 9, fault 2)
    assert done.stdout.strip().endswith(
        "\nharmonybridge.web.ops.cache.EncryptedDatabaseCache"
    )
