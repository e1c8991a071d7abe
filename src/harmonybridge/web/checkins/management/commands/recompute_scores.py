"""Recompute every stored score (or one instrument's) with this library version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from harmonybridge.web.checkins.models import Response
from harmonybridge.web.checkins.storage import rescore


class Command(BaseCommand):
    help = "Recompute stored scores from the item-level answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instrument", help="only this instrument id")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = Response.objects.all().prefetch_related("answers")
        if options.get("instrument"):
            qs = qs.filter(instrument_id=options["instrument"])
        n = 0
        for response in qs.iterator(chunk_size=500):
            n += rescore(response)
        self.stdout.write(f"Recomputed the scores of {n} responses.")
