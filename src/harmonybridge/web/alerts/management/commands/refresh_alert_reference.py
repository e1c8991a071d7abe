"""Refit each practice's alert reference (norms, pooled SDs, curve sets) from closed work."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from harmonybridge.web.accounts.models import Practice
from harmonybridge.web.alerts.context import refresh_alert_reference


class Command(BaseCommand):
    help = (
        "Rebuild each practice's alert context from its closed engagements and the "
        "cached curve sets, and store it for the alert rules."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--practice", type=int, help="only this practice id")

    def handle(self, *args: Any, **options: Any) -> None:

        practices = Practice.objects.all()
        if options.get("practice"):
            practices = practices.filter(pk=options["practice"])
        for practice in practices:
            ref = refresh_alert_reference(practice.pk)
            if ref is None:
                self.stdout.write(
                    f"{practice.name}: no closed engagements; alerts use the rational fallbacks"
                )
                continue
            ctx = ref.context
            self.stdout.write(
                f"{practice.name}: alert reference from {ref.n_engagements} closed "
                f"engagements (pooled SD {ctx.get('pooled_sd', {})}, curve sets: "
                f"{', '.join(sorted(ctx.get('curve_sets', {}))) or 'none'})"
            )
