"""Nothing identifying in the cache in clear; erasure, key rotation and backups clear it.

Issue 9, fault 2: the dashboard cache (``hb_cache``) held rendered charts and tables with
decrypted names, goals and scores, survived erasure and was copied into backups. These
tests run the production cache (``settings.CACHES`` of the real settings, the
``hb_cache`` table) rather than the suite's in-memory cache.
"""

from __future__ import annotations

import base64
import pickle
import sqlite3
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client as HttpClient

from harmonybridge.web.privacy.services import erase_client
from tests.web.privacy.test_export_erase import _add_answers, _rows_containing
from tests.web.security.support import (
    MARK_NAME,
    MARK_TEXT,
    make_client_world,
    make_staff,
)

PRODUCTION_CACHES = {
    "default": {
        "BACKEND": "harmonybridge.web.ops.cache.EncryptedDatabaseCache",
        "LOCATION": "hb_cache",
    }
}
MARKERS = (MARK_NAME, MARK_TEXT)


@pytest.fixture
def production_cache(settings):
    settings.CACHES = PRODUCTION_CACHES
    call_command("createcachetable", verbosity=0)
    cache.clear()
    yield
    cache.clear()


def _cache_rows() -> list[tuple[str, bytes]]:
    """(key, value as stored, base64-decoded and unpickled to bytes) of every cache row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM hb_cache")
        rows = cursor.fetchall()
    out = []
    for key, value in rows:
        decoded = pickle.loads(base64.b64decode(value.encode()))
        out.append(
            (key, decoded if isinstance(decoded, bytes) else repr(decoded).encode())
        )
    return out


def _markers_in_cache() -> list[str]:
    found = []
    for key, stored in _cache_rows():
        for marker in MARKERS:
            if marker.encode() in stored or marker in key:
                found.append(f"{key}: {marker}")
    return found


def _view_dashboard_and_report(world) -> None:
    admin = make_staff(world["practice"], "admin")
    http = HttpClient()
    http.force_login(admin)
    pk = world["engagement"].pk
    for url in (
        f"/insights/engagements/{pk}/",
        f"/insights/engagements/{pk}/report.html",
    ):
        assert http.get(url).status_code == 200, url


def _world_with_scores():
    world = make_client_world()
    world["engagement"].goal_1 = MARK_TEXT
    world["engagement"].save()
    _add_answers(world)
    return world


@pytest.mark.django_db(transaction=True)
def test_marker_name_and_goal_never_in_the_cache_in_clear_nor_after_erasure(
    production_cache, tmp_path
):
    world = _world_with_scores()
    _view_dashboard_and_report(world)
    rows = _cache_rows()
    assert rows, "the dashboard was not cached: this test would prove nothing"
    # The panel really holds the client's name: the app reads it back through the keys.
    opened = [cache.get(key.split(":", 2)[2]) for key, _ in rows]
    assert any(MARK_NAME in repr(v) for v in opened)
    # ...but no stored value shows it, decoded as Django's cache decodes it.
    assert _markers_in_cache() == []

    erase_client(world["client"], actor=make_staff(world["practice"], "admin"))
    prefix = f":1:hb-engagement:{world['engagement'].pk}:"
    assert [k for k, _ in _cache_rows() if k.startswith(prefix)] == []
    for marker in MARKERS:
        assert _rows_containing(marker) == [], marker
    assert _markers_in_cache() == []

    # A fresh backup holds no marker in any table, and no cache row at all.
    if connection.vendor == "sqlite":
        out = tmp_path / "fresh.sqlite3"
        call_command("backup", out=str(out), verbosity=0)
        raw = out.read_bytes()
        for marker in MARKERS:
            assert marker.encode() not in raw, marker
        con = sqlite3.connect(out)
        assert con.execute("SELECT COUNT(*) FROM hb_cache").fetchone()[0] == 0
        con.close()
    else:  # PostgreSQL is backed up with pg_dump, told to leave the cache out
        doc = (Path(__file__).resolve().parents[3] / "docs/deployment.md").read_text()
        assert "--exclude-table-data=hb_cache" in doc


@pytest.mark.django_db
def test_erasure_drops_only_that_engagements_entries(production_cache):
    world = _world_with_scores()
    other = _world_with_scores()
    _view_dashboard_and_report(world)
    _view_dashboard_and_report(other)
    mine = f":1:hb-engagement:{world['engagement'].pk}:"
    theirs = f":1:hb-engagement:{other['engagement'].pk}:"
    assert any(k.startswith(mine) for k, _ in _cache_rows())
    erase_client(world["client"], actor=make_staff(world["practice"], "admin"))
    keys = [k for k, _ in _cache_rows()]
    assert not any(k.startswith(mine) for k in keys)
    assert any(k.startswith(theirs) for k in keys)


@pytest.mark.django_db
def test_key_rotation_clears_the_whole_cache(production_cache, settings):
    from cryptography.fernet import Fernet

    cache.set("hb-engagement:1:x", {"name": MARK_NAME}, 600)
    cache.set("other", 42, 600)
    settings.HB_FIELD_KEYS = [Fernet.generate_key().decode(), *settings.HB_FIELD_KEYS]
    call_command("rotate_field_keys", verbosity=0, stdout=None)
    assert _cache_rows() == []


@pytest.mark.django_db
def test_a_value_sealed_with_a_removed_key_is_a_miss(production_cache, settings):
    from cryptography.fernet import Fernet

    cache.set("k", "synthetic value", 600)
    assert cache.get("k") == "synthetic value"
    settings.HB_FIELD_KEYS = [Fernet.generate_key().decode()]
    assert cache.get("k") is None
    assert cache.get("k", "default") == "default"
