"""``harmonybridge manage backup``: online backup of the SQLite database with a checksum manifest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from harmonybridge.web.fieldcrypto import current_fernet
from harmonybridge.web.ops.cache import database_cache_tables
from harmonybridge.web.ops.sqlitebackup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Copy the SQLite database while the app runs (SQLite online backup API), check it "
        "and write a manifest of SHA-256 checksums next to it. For PostgreSQL use pg_dump "
        "(docs/deployment.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", help="backup file to write (default: HB_DATA_DIR/backups/…)"
        )
        parser.add_argument(
            "--encrypt",
            action="store_true",
            help="encrypt the backup file with the newest key in HB_FIELD_KEYS",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "sqlite":
            raise CommandError(
                "this database is PostgreSQL: back it up with "
                '`pg_dump --format=custom --file=hb.dump "$DATABASE_URL"` '
                "(see docs/deployment.md, 'Backups')"
            )
        database = Path(settings.DATABASES["default"]["NAME"])
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(
            options["out"]
            or settings.DATA_DIR / "backups" / f"harmonybridge-{stamp}.sqlite3"
        )
        try:
            cipher = current_fernet().encrypt if options["encrypt"] else None
            # The cache is rebuilt on demand and holds nothing a restore needs.
            manifest = backup(
                database, out, encrypt=cipher, empty_tables=database_cache_tables()
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self.stdout.write(
            f"backup written: {out} ({len(manifest['tables'])} tables, {rows} rows, "
            f"sha256 {manifest['file_sha256']}"
            f"{', encrypted' if manifest['encrypted'] else ''})"
        )
