"""``harmonybridge manage restore FILE``: verified restore of a SQLite backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from harmonybridge.web.fieldcrypto import current_fernet
from harmonybridge.web.ops.sqlitebackup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup`: check its SHA-256 and integrity, copy it into "
        "place and compare every table's checksum with the manifest. Stop the app first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup_file")
        parser.add_argument(
            "--force", action="store_true", help="replace the existing database"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                "this database is PostgreSQL: restore with `pg_restore --clean --if-exists "
                '--dbname "$DATABASE_URL" hb.dump` (see docs/deployment.md)'
            )
        connections.close_all()
        try:
            result = restore(
                Path(options["backup_file"]),
                Path(db["NAME"]),
                force=options["force"],
                decrypt=current_fernet().decrypt,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {result['tables']} tables, {result['rows']} rows; every table's "
            "checksum matches the backup"
        )
