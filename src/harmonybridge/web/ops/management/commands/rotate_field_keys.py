"""``harmonybridge manage rotate_field_keys``: re-encrypt names, contacts and notes with the newest key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harmonybridge.web.ops.cache import clear_all as clear_all_caches
from harmonybridge.web.ops.keyrotation import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the first key in HB_FIELD_KEYS. Rotation: "
        "put a new key first in HB_FIELD_KEYS (keep the old one after it), restart, run "
        "this command, then remove the old key and restart again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for result in rotate_all():
            total += result.rows
            self.stdout.write(
                f"{result.table}.{result.column}: {result.rows} values re-encrypted"
            )
        # Cached values are sealed with the keys too; drop them all rather than keep
        # copies under a key that is about to be removed.
        clear_all_caches()
        self.stdout.write(f"done: {total} values now use the newest key; cache cleared")
