"""Load the synthetic demo practice (once) and print the demo logins."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from harmonybridge.web.demo import loader as demo


class Command(BaseCommand):
    help = (
        "Load the demo practice 'HarmonyBridge Family Therapy' (skipped when loaded)."
    )

    def handle(self, *args: Any, **options: Any) -> None:

        started = time.perf_counter()
        result = demo.load()
        # Curve sets and the alert reference are fitted by demo.load() before its
        # alert backfill (see demo._evaluate_active).
        if result.created:
            counts = ", ".join(f"{v} {k}" for k, v in result.counts.items())
            self.stdout.write(
                f"Loaded the demo practice in {time.perf_counter() - started:.1f} s ({counts})."
            )
        else:
            self.stdout.write("The demo practice is already loaded.")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins (synthetic data only):"))
        for username, password, role in result.logins:
            self.stdout.write(f"  {username:<8} password: {password}   ({role})")
        self.stdout.write("  Open http://127.0.0.1:8000 and sign in.")
        self.stdout.write("")
