"""Online backup and verified restore of a SQLite database, with checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Encrypt or decrypt a whole backup file (bytes -> bytes); Fernet with the field keys.
Cipher = Callable[[bytes], bytes]

MANIFEST_SUFFIX = ".manifest.json"


class BackupError(RuntimeError):
    """A backup or restore could not be made or did not verify."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_checksums(path: Path) -> dict[str, dict[str, Any]]:
    """Return {table: {"rows": n, "sha256": hex}} over every row of every table, in rowid order."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        out: dict[str, dict[str, Any]] = {}
        for table in tables:
            digest = hashlib.sha256()
            rows = 0
            quoted = '"' + table.replace('"', '""') + '"'
            for row in con.execute(f"SELECT * FROM {quoted} ORDER BY rowid"):
                digest.update(repr(row).encode("utf-8"))
                rows += 1
            out[table] = {"rows": rows, "sha256": digest.hexdigest()}
        return out
    finally:
        con.close()


def integrity_ok(path: Path) -> bool:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        # The online backup API copies a consistent snapshot while the app keeps writing.
        src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _empty(path: Path, tables: Sequence[str]) -> None:
    """Delete every row of ``tables`` in the copy and VACUUM, so no freed page keeps them."""
    con = sqlite3.connect(path)
    try:
        present = {
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        for table in tables:
            if table in present:
                con.execute('DELETE FROM "' + table.replace('"', '""') + '"')
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()


def backup(
    database: Path,
    out: Path,
    *,
    encrypt: Cipher | None = None,
    empty_tables: Sequence[str] = (),
) -> dict[str, Any]:
    """Copy ``database`` to ``out`` online, verify it and write ``out`` + manifest; return it.

    With ``encrypt`` the file on disk is the encrypted copy; the manifest's table checksums
    describe the plaintext, so a restore proves the decrypted data is what was backed up.
    ``empty_tables`` (the cache) are kept with their schema but without rows.
    """
    if not database.exists():
        raise BackupError(f"no database at {database}")
    if out.exists():
        raise BackupError(f"{out} exists already; choose a new name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.unlink(missing_ok=True)
    _copy(database, tmp)
    if empty_tables:
        _empty(tmp, empty_tables)
    if not integrity_ok(tmp):
        tmp.unlink()
        raise BackupError("the copy failed SQLite's integrity check")
    tables = table_checksums(tmp)
    if encrypt is not None:
        sealed = out.with_name(out.name + ".sealing")
        sealed.write_bytes(encrypt(tmp.read_bytes()))
        tmp.unlink()
        tmp = sealed
    tmp.rename(out)
    out.chmod(0o600)
    manifest = {
        "format": "harmonybridge-sqlite-backup",
        "version": 1,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "source": str(database),
        "encrypted": encrypt is not None,
        "file_sha256": file_sha256(out),
        "tables": tables,
    }
    manifest_path = out.with_name(out.name + MANIFEST_SUFFIX)
    manifest_path.write_text(
        json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
    )
    manifest_path.chmod(0o600)
    return manifest


def verify(backup_file: Path) -> dict[str, Any]:
    """Check a backup file against its manifest (SHA-256; integrity too when not encrypted)."""
    manifest_path = backup_file.with_name(backup_file.name + MANIFEST_SUFFIX)
    if not backup_file.exists() or not manifest_path.exists():
        raise BackupError(f"need both {backup_file} and {manifest_path}")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    if file_sha256(backup_file) != manifest["file_sha256"]:
        raise BackupError("the backup file's SHA-256 does not match its manifest")
    if not manifest.get("encrypted") and not integrity_ok(backup_file):
        raise BackupError("the backup file failed SQLite's integrity check")
    return manifest


def restore(
    backup_file: Path,
    database: Path,
    *,
    force: bool = False,
    decrypt: Cipher | None = None,
) -> dict[str, Any]:
    """Restore ``backup_file`` into ``database`` and prove every table's checksum matches."""
    manifest = verify(backup_file)
    # An empty file is no database: the app creates it owner-only before first use.
    if database.exists() and database.stat().st_size > 0 and not force:
        raise BackupError(
            f"{database} exists; pass --force to replace it (stop the app first)"
        )
    database.parent.mkdir(parents=True, exist_ok=True)
    source = backup_file
    if manifest.get("encrypted"):
        if decrypt is None:
            raise BackupError(
                "this backup is encrypted; the field keys are needed to restore it"
            )
        source = database.with_name(database.name + ".decrypted")
        try:
            source.write_bytes(decrypt(backup_file.read_bytes()))
        except Exception as exc:
            source.unlink(missing_ok=True)
            raise BackupError(
                "cannot decrypt the backup with the keys in HB_FIELD_KEYS"
            ) from exc
        source.chmod(0o600)
    tmp = database.with_name(database.name + ".restoring")
    tmp.unlink(missing_ok=True)
    try:
        _copy(source, tmp)
    finally:
        if source != backup_file:
            source.unlink(missing_ok=True)
    restored = table_checksums(tmp)
    if restored != manifest["tables"]:
        tmp.unlink()
        raise BackupError("the restored tables do not match the backup's checksums")
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    tmp.replace(database)
    return {"tables": len(restored), "rows": sum(t["rows"] for t in restored.values())}
