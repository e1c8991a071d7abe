"""Delete research export zips whose 7 days are over (run daily, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harmonybridge.web.research.exports import KEEP_DAYS, purge_expired


class Command(BaseCommand):
    help = f"Delete research export zips older than {KEEP_DAYS} days."

    def handle(self, *args: Any, **options: Any) -> None:
        n = purge_expired()
        self.stdout.write(f"Deleted {n} expired research exports.")
