"""Django app configuration for the checkins app."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinsConfig(AppConfig):
    name = "harmonybridge.web.checkins"
    label = "checkins"
    verbose_name = _("Checkins")

    def ready(self) -> None:
        from harmonybridge.web.checkins.models import Response, Score
        from harmonybridge.web.practice import datastamp

        # the practice's analyses read responses and scores (ADR 0017)
        datastamp.watch(Response, "sessions", "session_id")
        datastamp.watch(Score, "sessions__responses", "response_id")
