"""SQLite backup and restore: online copy, checksum manifest, verified restore."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from harmonybridge.web.ops.sqlitebackup import (
    MANIFEST_SUFFIX,
    BackupError,
    backup,
    restore,
    table_checksums,
)


def _make_db(path: Path, rows: int = 50) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE answer (id INTEGER PRIMARY KEY, item INT, value REAL, note TEXT)"
    )
    con.executemany(
        "INSERT INTO answer (item, value, note) VALUES (?, ?, ?)",
        [(i % 9 + 1, i / 3, f"n{i} ünïcode") for i in range(rows)],
    )
    con.commit()
    con.close()


def test_backup_then_restore_gives_identical_tables(tmp_path):
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    out = tmp_path / "b" / "copy.sqlite3"
    manifest = backup(db, out)
    assert manifest["tables"]["answer"]["rows"] == 50
    target = tmp_path / "restored.sqlite3"
    result = restore(out, target)
    assert result == {"tables": 1, "rows": 50}
    assert table_checksums(target) == table_checksums(db)


def test_backup_while_a_writer_holds_uncommitted_rows(tmp_path):
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    writer = sqlite3.connect(db)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO answer (item, value, note) VALUES (1, 1, 'uncommitted')"
    )
    manifest = backup(db, tmp_path / "copy.sqlite3")
    writer.rollback()
    writer.close()
    # The snapshot holds exactly the 50 committed rows.
    assert manifest["tables"]["answer"]["rows"] == 50


def test_tampered_backup_is_refused(tmp_path):
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    out = tmp_path / "copy.sqlite3"
    backup(db, out)
    with out.open("r+b") as fh:
        fh.seek(-10, 2)
        fh.write(b"XXXXXXXXXX")
    with pytest.raises(BackupError, match="SHA-256"):
        restore(out, tmp_path / "restored.sqlite3")
    assert not (tmp_path / "restored.sqlite3").exists()


def test_manifest_mismatch_is_refused(tmp_path):
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    out = tmp_path / "copy.sqlite3"
    backup(db, out)
    manifest_path = out.with_name(out.name + MANIFEST_SUFFIX)
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["answer"]["rows"] = 49
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="checksums"):
        restore(out, tmp_path / "restored.sqlite3")


def test_restore_will_not_overwrite_without_force(tmp_path):
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    out = tmp_path / "copy.sqlite3"
    backup(db, out)
    _make_db(tmp_path / "other.sqlite3", rows=3)
    with pytest.raises(BackupError, match="--force"):
        restore(out, tmp_path / "other.sqlite3")
    restore(out, tmp_path / "other.sqlite3", force=True)
    assert table_checksums(tmp_path / "other.sqlite3") == table_checksums(db)


def test_backup_refuses_to_overwrite(tmp_path):
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    backup(db, tmp_path / "copy.sqlite3")
    with pytest.raises(BackupError, match="exists"):
        backup(db, tmp_path / "copy.sqlite3")


def _manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HB_MODE": "test",
        "HB_DATA_DIR": str(tmp_path / "data"),
        "HB_SQLITE_PATH": str(tmp_path / "live.sqlite3"),
    }
    return subprocess.run(
        [sys.executable, "-m", "harmonybridge", "manage", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_management_commands_round_trip(tmp_path):
    live = tmp_path / "live.sqlite3"
    _make_db(live)
    before = table_checksums(live)
    out = tmp_path / "cmd.sqlite3"
    done = _manage(tmp_path, "backup", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "backup written" in done.stdout
    refused = _manage(tmp_path, "restore", str(out))
    assert refused.returncode != 0
    assert "--force" in refused.stderr
    live.unlink()
    done = _manage(tmp_path, "restore", str(out))
    assert done.returncode == 0, done.stderr
    assert "checksum matches" in done.stdout
    assert table_checksums(live) == before


def test_encrypted_backup_is_unreadable_without_the_key(tmp_path):
    from cryptography.fernet import Fernet

    key = Fernet(Fernet.generate_key())
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    out = tmp_path / "sealed.sqlite3"
    manifest = backup(db, out, encrypt=key.encrypt)
    assert manifest["encrypted"] is True
    raw = out.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert "ünïcode".encode() not in raw
    assert b"n1 " not in raw
    with pytest.raises(BackupError, match="encrypted"):
        restore(out, tmp_path / "a.sqlite3")
    with pytest.raises(BackupError, match="cannot decrypt"):
        restore(
            out, tmp_path / "b.sqlite3", decrypt=Fernet(Fernet.generate_key()).decrypt
        )
    assert not (tmp_path / "b.sqlite3").exists()
    restore(out, tmp_path / "c.sqlite3", decrypt=key.decrypt)
    assert table_checksums(tmp_path / "c.sqlite3") == table_checksums(db)


def test_encrypted_round_trip_through_the_commands(tmp_path):
    live = tmp_path / "live.sqlite3"
    _make_db(live)
    before = table_checksums(live)
    out = tmp_path / "cmd.sqlite3"
    done = _manage(tmp_path, "backup", "--encrypt", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "encrypted" in done.stdout
    assert not out.read_bytes().startswith(b"SQLite format 3")
    live.unlink()
    done = _manage(tmp_path, "restore", str(out))
    assert done.returncode == 0, done.stderr
    assert table_checksums(live) == before


def test_backup_leaves_the_cache_table_empty_and_its_old_pages_gone(tmp_path):
    """Issue 9, fault 2: the cache is not copied into backups, not even in freed pages."""
    db = tmp_path / "live.sqlite3"
    _make_db(db)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE hb_cache (cache_key TEXT PRIMARY KEY, value TEXT)")
    con.executemany(
        "INSERT INTO hb_cache VALUES (?, ?)",
        [(f"k{i}", f"ZZCANARY-cached-panel-{i}" * 20) for i in range(200)],
    )
    con.commit()
    con.close()
    out = tmp_path / "copy.sqlite3"
    manifest = backup(db, out, empty_tables=["hb_cache"])
    assert manifest["tables"]["hb_cache"]["rows"] == 0
    assert manifest["tables"]["answer"]["rows"] == 50
    assert b"ZZCANARY" not in out.read_bytes()
    assert b"ZZCANARY" in db.read_bytes() or b"ZZCANARY" in (
        db.with_name(db.name + "-wal").read_bytes()
        if db.with_name(db.name + "-wal").exists()
        else b""
    )
