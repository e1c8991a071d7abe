"""Django app configuration for the insights app (dashboards and reports)."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "harmonybridge.web.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        # connects the receivers of the lower apps' signals (layer order: docs/decisions)
        from harmonybridge.web.insights import receivers  # noqa: F401
