"""Refit the expected-response curve sets of every practice (or one) from closed work."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Fit expected-response curves on each practice's closed engagements and cache them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--practice", type=int, help="only this practice id")
        parser.add_argument("--min-clients", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        from harmonybridge.web.accounts.models import Practice
        from harmonybridge.web.insights.curves import fit_practice_curves

        practices = Practice.objects.all()
        if options.get("practice"):
            practices = practices.filter(pk=options["practice"])
        for practice in practices:
            notes: list[str] = []
            saved = fit_practice_curves(
                practice.pk, min_clients=options["min_clients"], notes=notes
            )
            names = (
                ", ".join(f"{c.instrument} ({c.n_clients})" for c in saved) or "none"
            )
            self.stdout.write(f"{practice.name}: curve sets {names}")
            for note in notes:
                self.stdout.write(f"  {note}")
            for c in saved:
                for row in c.calibration:
                    self.stdout.write(
                        f"  {c.instrument} {row['band']}: {row['n_flagged']} of "
                        f"{row['n_series']} clients flagged, {row['n_deteriorated']} "
                        "eventually deteriorated"
                    )
            if saved:
                self.stdout.write(
                    "  Not used for alerts until the practice admin accepts them "
                    "(Practice > Expected-response curves)."
                )
            call_command(
                "refresh_alert_reference", practice=practice.pk, stdout=self.stdout
            )
